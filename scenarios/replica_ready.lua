-- How zonelab learns that a replica it started listens. The preload it gives the replica says
-- so from the replica's own listen() on ZONELAB_PORT (a byte on an inherited pipe), so the
-- start needs no probing of the port; the journal records it (face "program", kind
-- "listening"). Without the preload (redirect_8080 = false: replica_ready_probe.lua), the
-- probes of the port tell.
scenario { world = "default" }

test("zone-demo's listen() is reported by the preload", function()
  local spawn = journal({ face = "program", kind = "spawn", instance = "zone-demo/0" })
  local l = journal({ face = "program", kind = "listening", instance = "zone-demo/0" })
  assert_eq(#spawn, 1)
  assert_eq(#l, 1, "once per start")
  assert_eq(l[1].by, "preload")
  assert_eq(l[1].pid, spawn[1].pid)
  assert_eq(l[1].port, spawn[1].port)
  assert_true(l[1].after_ms >= 0, "after_ms is the real time since the spawn")
  assert_order({ face = "program", kind = "spawn" }, { face = "program", kind = "listening" })
end)

test("a restarted replica is reported again, by its new process", function()
  program.restart(0)
  local l = journal({ face = "program", kind = "listening", instance = "zone-demo/0" })
  local spawn = journal({ face = "program", kind = "spawn", instance = "zone-demo/0" })
  assert_eq(#l, 2)
  assert_eq(l[2].by, "preload")
  assert_eq(l[2].pid, spawn[2].pid)
  assert_true(l[2].pid ~= l[1].pid, "a new process")
  assert_eq(call("new_messages_digest", {}).errcode, 0)
end)
