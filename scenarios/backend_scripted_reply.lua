-- The scenario scripts what the backend answers the program's sync_msg; zone-demo's
-- invoke_sync_msg returns the answer verbatim.
scenario { world = "default" }

test("a scripted sync_msg reply comes back exactly", function()
  sdk.clear()
  local reply = { errcode = 0, errmsg = "ok", has_more = 0, next_cursor = "x",
    msg_list = { { msgid = "scripted_1", sender = { type = 1, id = "zhangsan" },
      receiver_list = { { type = 1, id = "lisi" } }, chatid = "", send_time = 1793800000,
      msgtype = 1, service_encrypt_info = { encrypted_secret_key = "abc", public_key_ver = 1 } } } }
  sdk.reply { api = "sync_msg", reply = reply }
  local r = call("invoke_sync_msg", { limit = 10 })
  assert_eq(r.errcode, 0)
  assert_eq(r.data, reply)
  local c = assert(sdk.wait_call("sync_msg", { timeout = 1 }))
  assert_eq(c.outcome, "scripted")
  assert_eq(c.req, { limit = 10 })
  -- every call, until cleared
  assert_eq(call("invoke_sync_msg", {}).data, reply)
end)

test("a scripted errcode answers one call, the next gets a real answer", function()
  sdk.clear()
  sdk.reply { api = "sync_msg", errcode = 45009, times = 1 }
  local r = call("invoke_sync_msg", { limit = 5 })
  assert_eq(r.errcode, 0)
  assert_eq(r.data.errcode, 45009)
  r = call("invoke_sync_msg", { limit = 5 })
  assert_eq(r.errcode, 0)
  assert_eq(r.data.errcode, 0)
  assert_eq(#r.data.msg_list, 5)
  assert_eq(r.data.msg_list[1].msgid, "msg_0001")
  local calls = sdk.calls("sync_msg")
  assert_eq(calls[#calls - 1].outcome, "scripted")
  assert_eq(calls[#calls].outcome, "answered")
end)
