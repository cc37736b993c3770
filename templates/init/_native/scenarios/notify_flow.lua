-- The notify_id flow: a new message fires conversation_new_message; the program stores the
-- event, then calls spec_notify_app; the app gets program_notify and calls the ability
-- get_callback_data with that notify_id, and gets the stored event back, even after the
-- program was killed and started again.
scenario { world = "../world.json", program = "@PROGRAM_CMD@" }

local function new_message(msgid)
  return archive { msgid = msgid, sender = { type = 1, id = "zhangsan" },
    receivers = { { type = 1, id = "lisi" } }, msgtype = 1, content = { content = "hi" } }
end

test("a new message reaches the app through its notify_id", function()
  assert_eq(app("set_receive_callback", { program_id = "@PROGRAM_ID@" }).errcode, 0)
  local r = new_message("starter_1")
  local n = assert(wait_notification { timeout = 5 })
  assert_eq(n.event, "program_notify")
  local stored = call("get_callback_data", {}, { notify_id = n.notify_id })
  assert_eq(stored.errcode, 0)
  assert_eq(stored.data.event_type, "conversation_new_message")
  assert_eq(stored.data.conversation_new_message.token, r.events[1].token)
end)

test("the event survives the program's crash", function()
  new_message("starter_2")
  local n = assert(wait_notification { timeout = 5 })
  program.kill()
  program.restart()
  local stored = call("get_callback_data", {}, { notify_id = n.notify_id })
  assert_eq(stored.errcode, 0, "stored on disk before the app was told")
  assert_eq(stored.data.event_type, "conversation_new_message")
end)
