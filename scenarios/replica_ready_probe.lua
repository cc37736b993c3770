-- Without the preload (redirect_8080 = false), nothing speaks from inside the replica: the
-- probes of its port (its own listening socket, then a connection) tell that it listens.
scenario { world = "default", redirect_8080 = false }

test("zone-demo's listening is found by probing its port", function()
  local l = journal({ face = "program", kind = "listening", instance = "zone-demo/0" })
  assert_eq(#l, 1)
  assert_eq(l[1].by, "probe")
  assert_eq(call("new_messages_digest", {}).errcode, 0)
end)
