-- A corp with no public key: sync_msg answers 710659, and nothing can be archived (the
-- control face refuses, so archive() raises), so no event and no notification happen.
scenario { world = "worlds/no_public_key.json" }

test("sync_msg answers 710659 while the corp has no public key", function()
  for _, req in ipairs { {}, { limit = 5 }, { limit = 5, mode = 1 } } do
    local r = call("invoke_sync_msg", req)
    assert_eq(r.errcode, 0, "sync_call_program")
    assert_eq(r.data.errcode, 710659, json.encode(req))
    assert_true(r.data.msg_list == nil and r.data.page_id_list == nil,
      "no messages without a key: " .. json.encode(req))
  end
  -- the digest reports the SDK's code instead of counting anything
  local d = call("new_messages_digest", {})
  assert_eq(d.errcode, 0, "sync_call_program")
  assert_eq(d.data.errcode, 710659)
  assert_eq(d.data.total, 0)
end)

test("archiving is refused, so no event fires and no notification arrives", function()
  assert_eq(app("set_receive_callback", { program_id = "zone-demo" }).errcode, 0)
  local before = state().corps[1].messages
  local ok, err = pcall(archive, { msgid = "nk_1", sender = { type = 1, id = "zhangsan" },
    receivers = { { type = 1, id = "lisi" } }, msgtype = 1, content = { content = "hi" } })
  assert_true(not ok, "archive() must raise for a corp without a public key")
  assert_match(tostring(err), "archive refused")
  local status = http("POST", "/_zonelab/messages", { messages = { { msgid = "nk_2",
    sender = { type = 1, id = "lisi" }, receivers = { { type = 1, id = "zhangsan" } }, msgtype = 1 } } })
  assert_eq(status, 409, "the control face answers 409")
  assert_eq(state().corps[1].messages, before, "nothing archived")
  assert(settle())
  assert_eq(#notifications(), 0, "the fake app's inbox is empty")
  assert_eq(#journal { face = "program", kind = "event" }, 0, "no event delivered")
  assert_count("spec_notify_app", 0)
end)
