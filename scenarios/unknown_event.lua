-- An event type zone-demo does not know is still stored and notified: it stores every event
-- verbatim, and get_callback_data returns it.
scenario { world = "default" }

test("an unknown event type is delivered, stored and notified", function()
  assert_eq(app("set_receive_callback", { program_id = "zone-demo" }).errcode, 0)
  push_event({ event_type = "made_up", timestamp = 1 })
  local res = assert(wait_journal({ face = "program", kind = "event_result" }, { timeout = 5 }))
  assert_eq(res.errcode, 0)
  assert_eq(res.status, 200)
  local n = assert(wait_notification { timeout = 5 })
  assert_eq(n.event, "program_notify")
  local reply = call("get_callback_data", {}, { notify_id = n.notify_id })
  assert_eq(reply.errcode, 0)
  assert_eq(reply.data, { event_type = "made_up", timestamp = 1 })
end)
