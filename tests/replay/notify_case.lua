-- The notify flow twice, for tests/replay: two events, then get_callback_data with the
-- first one's notify_id. zone-demo-broken fails it (it ignores the notify_id), so
-- `zonelab run --report-dir` writes the journal that replay_check.sh replays.
scenario { world = "default" }

test("get_callback_data returns the event of its notify_id", function()
  assert_eq(app("set_receive_callback", { program_id = "zone-demo" }).errcode, 0)
  local r = archive {
    { msgid = "rp_1", sender = { type = 1, id = "zhangsan" },
      receivers = { { type = 1, id = "lisi" } }, msgtype = 1, content = { content = "hi" } },
    { msgid = "rp_2", sender = { type = 1, id = "lisi" },
      receivers = { { type = 1, id = "zhangsan" } }, msgtype = 1, content = { content = "ok" } },
  }
  assert_eq(#r.events, 2)
  local first = assert(wait_notification { timeout = 5 })
  assert(wait_notification { timeout = 5 })
  local group = call("invoke_get_group_chat", { chatid = "wr_internal_01" })
  assert_eq(group.errcode, 0)
  local reply = call("get_callback_data", {}, { notify_id = first.notify_id })
  assert_eq(reply.errcode, 0)
  assert_sub(reply.data, { conversation_new_message = { token = r.events[1].token } },
    "get_callback_data must return the event stored under this notify_id")
end)
