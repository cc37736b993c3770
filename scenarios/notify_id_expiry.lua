-- A notify id from spec_notify_app is good in sync_call_program for 10 minutes; after that
-- the emulator answers 710646 (before the program is asked: zone-demo itself keeps events
-- for 20 minutes).
scenario { world = "default" }

test("a notify id works at once and is refused with 710646 after 601 s", function()
  assert_eq(app("set_receive_callback", { program_id = "zone-demo" }).errcode, 0)
  local r = archive { msgid = "nid_1", sender = { type = 1, id = "zhangsan" },
    receivers = { { type = 1, id = "lisi" } }, msgtype = 1, content = { content = "hi" } }
  assert_eq(#r.events, 1)
  local n = assert(wait_notification { timeout = 5 }, "a program_notify arrives")
  assert_true(type(n.notify_id) == "string" and #n.notify_id > 0)

  local ok = call("get_callback_data", {}, { notify_id = n.notify_id })
  assert_eq(ok.errcode, 0, "right away")
  assert_sub(ok.data, { event_type = "conversation_new_message" })
  -- still good just before the 10 minutes are up (and any number of times)
  clock.advance(590)
  assert_eq(call("get_callback_data", {}, { notify_id = n.notify_id }).errcode, 0, "at 590 s")

  clock.advance(11)
  local calls_before = #journal { face = "program", kind = "call" }
  assert_eq(calls_before, 2, "the two calls above reached the program")
  local late = call("get_callback_data", {}, { notify_id = n.notify_id })
  assert_eq(late.errcode, 710646, "after 601 s")
  assert_true(late.response_data == nil, "no response_data with 710646")
  assert_eq(#journal { face = "program", kind = "call" }, calls_before,
    "the program was not called")
end)
