-- spec_notify_app fails twice at the transport (the emulator drops the connection): zone-demo
-- retries with its backoff (100 ms, then 200 ms) and the app still gets the notification.
scenario { world = "default" }

test("two dropped spec_notify_app calls are retried and the third delivers", function()
  assert_eq(app("set_receive_callback", { program_id = "zone-demo" }).errcode, 0)
  sdk.reply { api = "spec_notify_app", fault = "reset", times = 2 }
  local r = archive { msgid = "br_1", sender = { type = 1, id = "zhangsan" },
    receivers = { { type = 1, id = "lisi" } }, msgtype = 1 }
  local n = assert(wait_notification { timeout = 5 })
  local calls = sdk.calls("spec_notify_app")
  assert_eq(#calls, 3, "spec_notify_app attempts")
  assert_eq(calls[1].outcome, "reset")
  assert_eq(calls[2].outcome, "reset")
  assert_eq(calls[3].outcome, "answered")
  assert_eq(calls[3].response.notify_id, n.notify_id)
  -- the same notify id each try
  assert_eq(calls[1].req.notify_id, n.notify_id)
  assert_eq(calls[2].req.notify_id, n.notify_id)
  assert_eq(#journal({ face = "sdk", kind = "invoke", outcome = "reset" }), 2)
  -- backoff: at least 100 ms + 200 ms between the first and the third try
  assert_true(calls[3].t - calls[1].t >= 300, "backoff between tries")
  local reply = call("get_callback_data", {}, { notify_id = n.notify_id })
  assert_sub(reply.data, { conversation_new_message = { token = r.events[1].token } })
end)
