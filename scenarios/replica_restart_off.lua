-- A scenario's default: replica_restart off, so a replica that dies stays dead and a test can
-- assert on its death. Its exit schedules no restart, and an event for it is refused at once
-- (710674), as it is with supervision off in serve.
scenario { world = "default" }

test("a killed replica stays dead and its events are refused", function()
  assert_eq(app("set_receive_callback", { program_id = "zone-demo" }).errcode, 0)
  program.kill(0)
  local ex = assert(wait_journal({ face = "program", kind = "replica_exit",
    instance = "zone-demo/0" }, { timeout = 5 }))
  assert_eq({ ex.signal, ex.expected, ex.restart_in_ms }, { 9, true, nil }, "no restart scheduled")
  archive { msgid = "off_1", sender = { type = 1, id = "zhangsan" },
    receivers = { { type = 1, id = "lisi" } }, msgtype = 1 }
  local res = assert(wait_journal({ face = "program", kind = "event_result" }, { timeout = 5 }))
  assert_eq({ res.instance, res.errcode }, { "zone-demo/0", 710674 })
  assert_eq(#journal({ face = "program", kind = "replica_restart" }), 0)
  assert_eq(state().programs[1].replicas[1].running, false)
end)

test("program.restart brings it back", function()
  program.restart(0)
  archive { msgid = "off_2", sender = { type = 1, id = "zhangsan" },
    receivers = { { type = 1, id = "lisi" } }, msgtype = 1 }
  local res = assert(wait_journal({ face = "program", kind = "event_result" }, { timeout = 5 }))
  assert_eq(res.errcode, 0)
end)
