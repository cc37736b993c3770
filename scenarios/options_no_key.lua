-- sync_msg before the app set a public key: 710659 by default; the option
-- sync_msg.no_public_key "empty" answers an empty page instead (spec sdk-api.md §3.1:
-- "sync_msg / get_hit_msg_list while the app has no public key → 710659 ... [unknown:
-- emulator default 710659, configurable to an empty msg_list]"). The scenario sets it.
scenario { world = "worlds/no_public_key.json", options = { sync_msg = { no_public_key = "empty" } } }

test("an empty page, whose cursor goes on once the app sets its key", function()
  assert_eq(options()["sync_msg.no_public_key"], "empty")
  local r = call("invoke_sync_msg", { limit = 5 })
  assert_eq(r.errcode, 0, "sync_call_program")
  assert_eq({ r.data.errcode, #r.data.msg_list, r.data.has_more }, { 0, 0, 0 })
  assert_true(type(r.data.next_cursor) == "string" and #r.data.next_cursor > 0, "a cursor")
  local cursor = r.data.next_cursor
  options { ["sync_msg.no_public_key"] = "refuse" }
  assert_eq(call("invoke_sync_msg", { limit = 5 }).data.errcode, 710659)
  options { ["sync_msg.no_public_key"] = "empty" }
  r = call("invoke_sync_msg", { limit = 5, mode = 1 })
  assert_eq({ r.data.errcode, #r.data.page_id_list }, { 0, 0 })
  -- the app sets its key ("设置公钥"): what is archived from then on is its, after that cursor
  assert_eq(app("set_public_key", { public_key = file_text("../fixtures/keys/test_v1_public.pem"),
    public_key_ver = 1 }).errcode, 0)
  assert_eq(archive({ msgid = "nk_after", sender = { type = 1, id = "zhangsan" },
    receivers = { { type = 1, id = "lisi" } }, msgtype = 1, content = { content = "hi" } }).archived, 1)
  r = call("invoke_sync_msg", { cursor = cursor, limit = 5 })
  assert_eq({ r.data.errcode, #r.data.msg_list, r.data.msg_list[1].msgid }, { 0, 1, "nk_after" })
end)
