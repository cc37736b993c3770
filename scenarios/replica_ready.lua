-- How zonelab learns that a replica it started listens. The preload it gives the replica says
-- so from the replica's own listen() on ZONELAB_PORT (a byte on an inherited socket), so the
-- start needs no probing of the port; the journal records it (face "program", kind
-- "listening"). The probes start 50 ms after a start all the same (a program the preload does
-- not reach), so on a loaded machine they may see a slow start's listen first. Without the
-- preload (redirect_8080 = false: replica_ready_probe.lua), only the probes tell. The byte
-- itself is checked in tests/preload/ready_check.py.

-- Before the probes start, only the preload can have said that l's replica listens.
local function said_by_preload(l)
  assert_true(l.by == "preload" or (l.by == "probe" and l.after_ms >= 50),
    "a listen learned after " .. l.after_ms .. " ms by " .. l.by)
end
scenario { world = "default" }

test("zone-demo's listen() is reported by the preload", function()
  local spawn = journal({ face = "program", kind = "spawn", instance = "zone-demo/0" })
  local l = journal({ face = "program", kind = "listening", instance = "zone-demo/0" })
  assert_eq(#spawn, 1)
  assert_eq(#l, 1, "once per start")
  said_by_preload(l[1])
  assert_eq(l[1].pid, spawn[1].pid)
  assert_eq(l[1].port, spawn[1].port)
  assert_true(l[1].after_ms >= 0, "after_ms is the real time since the spawn")
  assert_order({ face = "program", kind = "spawn" }, { face = "program", kind = "listening" })
end)

test("a restarted replica is reported again, by its new process", function()
  program.restart(0)
  local l = journal({ face = "program", kind = "listening", instance = "zone-demo/0" })
  local spawn = journal({ face = "program", kind = "spawn", instance = "zone-demo/0" })
  assert_eq(#l, 2, "once per start that listened")
  said_by_preload(l[2])
  -- on a loaded machine its port may have been taken meanwhile: then it was started again on
  -- another (port_taken), and the one that listens is the last started
  assert_eq(l[2].pid, spawn[#spawn].pid)
  assert_eq(l[2].port, spawn[#spawn].port)
  assert_eq(#spawn - 2, #journal({ face = "program", kind = "port_taken" }))
  assert_true(l[2].pid ~= l[1].pid, "a new process")
  assert_eq(call("new_messages_digest", {}).errcode, 0)
end)
