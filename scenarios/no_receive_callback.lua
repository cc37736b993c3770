-- Events go only to the program an app chose with set_receive_callback: before that, an
-- archived message fires no event and the app hears nothing; after it, it does.
scenario { world = "default" }

local function msg(id)
  return { msgid = id, sender = { type = 1, id = "zhangsan" },
    receivers = { { type = 1, id = "lisi" } }, msgtype = 1, content = { content = id } }
end

test("without set_receive_callback archiving fires no event and no notification", function()
  local r = archive(msg("nrc_1"))
  assert_eq(r.archived, 1)
  assert_eq(#r.events, 0, "no event without a receive program")
  assert(settle())
  assert_eq(#notifications(), 0, "no program_notify")
  assert_eq(#journal { face = "program", kind = "event" }, 0, "nothing delivered to the program")
  assert_count("spec_notify_app", 0)
  -- the message is archived all the same
  local s = call("invoke_sync_msg", { limit = 1000 })
  assert_eq(s.data.errcode, 0)
  assert_eq(s.data.msg_list[#s.data.msg_list].msgid, "nrc_1")
end)

test("after set_receive_callback the next message fires an event and a notification", function()
  assert_eq(app("set_receive_callback", { program_id = "zone-demo" }).errcode, 0)
  local r = archive(msg("nrc_2"))
  assert_eq(#r.events, 1)
  assert_sub(r.events[1], { msgid = "nrc_2", agentid = 1000002, program_id = "zone-demo" })
  local n = assert(wait_notification { timeout = 5 }, "a program_notify arrives")
  assert_eq(n.event, "program_notify")
  local data = call("get_callback_data", {}, { notify_id = n.notify_id })
  assert_eq(data.errcode, 0)
  assert_sub(data.data, { event_type = "conversation_new_message",
    conversation_new_message = { token = r.events[1].token } })
  -- exactly one: the earlier message is not delivered late
  assert(settle())
  assert_eq(#notifications(), 1, "only the one notification")
  assert_eq(#journal { face = "program", kind = "event" }, 1)
end)
