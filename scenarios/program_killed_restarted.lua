-- A replica killed with SIGKILL refuses connections (710674); restarted, it answers again
-- and still serves the events it stored before the kill (they live in the data folder).
-- Two replicas: with one, every spawned replica has exited and the emulator answers 800002
-- (docs/emulator.md) before it tries to connect.
scenario { world = "default", replicas = 2, routing = "sticky" }

local nid, token -- an event stored by replica 0 before the kill

test("a killed replica's call is answered 710674", function()
  assert_eq(app("set_receive_callback", { program_id = "zone-demo" }).errcode, 0)
  local r = archive { msgid = "kr_1", sender = { type = 1, id = "zhangsan" },
    receivers = { { type = 1, id = "lisi" } }, msgtype = 1 }
  token = r.events[1].token
  local n = assert(wait_notification { timeout = 5 })
  nid = n.notify_id
  -- the first event goes to replica 0 (round robin), which issued the id
  local c = assert(sdk.wait_call("spec_notify_app", { timeout = 1 }))
  assert_eq(c.instance, "zone-demo/0")
  program.kill(0)
  -- sticky: the notify_id routes the call to the dead replica
  local reply = call("get_callback_data", {}, { notify_id = nid })
  assert_eq(reply.errcode, 710674)
  local p = assert(wait_journal({ face = "program", kind = "call" }, { timeout = 1 }))
  assert_eq(p.instance, "zone-demo/0")
  assert_eq(p.errcode, 710674)
end)

test("restarted, it answers and serves the event stored before the kill", function()
  program.restart(0)
  local reply = call("get_callback_data", {}, { notify_id = nid })
  assert_eq(reply.errcode, 0)
  local ev = journal({ face = "program", kind = "event",
    event = { conversation_new_message = { token = token } } })
  assert_eq(#ev, 1)
  assert_eq(reply.data, ev[1].event, "the stored event, verbatim")
  local p = assert(wait_journal({ face = "program", kind = "call" }, { timeout = 1 }))
  assert_eq(p.instance, "zone-demo/0", "served by the restarted replica")
  -- and plain calls work on both replicas again
  for _ = 1, 2 do
    local d = call("new_messages_digest", {})
    assert_eq(d.errcode, 0)
    assert_eq(d.data.errcode, 0)
  end
end)
