-- The notify_id flow: a new message fires conversation_new_message, the program stores it
-- and calls spec_notify_app, the app gets program_notify and calls get_callback_data with
-- the notify_id.
scenario { world = "default" }

test("a new message reaches the app through get_callback_data", function()
  assert_eq(app("set_receive_callback", { program_id = "zone-demo" }).errcode, 0)
  local r = archive { msgid = "nf_1", sender = { type = 1, id = "zhangsan" },
    receivers = { { type = 1, id = "lisi" } }, msgtype = 1, content = { content = "hi" } }
  assert_eq(#r.events, 1)
  local n = assert(wait_notification { timeout = 5 })
  assert_eq(n.event, "program_notify")
  local reply = call("get_callback_data", {}, { notify_id = n.notify_id })
  assert_eq(reply.errcode, 0)
  assert_sub(reply.data, { event_type = "conversation_new_message",
    conversation_new_message = { token = r.events[1].token } },
    "get_callback_data must return the event stored under this notify_id")
end)

test("the program called spec_notify_app once with a notify_scene", function()
  assert(settle())
  local before = #sdk.calls("spec_notify_app")
  assert_eq(before, 1, "the first test's")
  archive { msgid = "nf_2", sender = { type = 1, id = "lisi" },
    receivers = { { type = 1, id = "zhangsan" } }, msgtype = 1 }
  c = assert(sdk.wait_call("spec_notify_app", { timeout = 5 }))
  assert_eq(c.req.notify_scene, 1)
  assert_eq(c.response.errcode, 0)
end)
