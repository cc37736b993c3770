-- A replica stopped with SIGSTOP accepts the connection but never answers: the call times
-- out (710675) after program_timeout_ms; resumed, it answers again.
scenario { world = "default", program_timeout_ms = 500 }

test("a paused program times out with 710675, resumed it answers", function()
  program.pause(0)
  local r = call("new_messages_digest", {})
  assert_eq(r.errcode, 710675)
  local p = assert(wait_journal({ face = "program", kind = "call" }, { timeout = 1 }))
  assert_eq(p.errcode, 710675)
  assert_true(p.elapsed_ms >= 450 and p.elapsed_ms < 2000, "timed out after about 500 ms")
  program.resume(0)
  -- resumed, it answers: the 500 ms that made the first call time out are no bound for this one
  -- (under valgrind or a loaded machine, zone-demo takes longer than that to answer)
  options { program_timeout_ms = 10000 }
  r = call("new_messages_digest", {})
  assert_eq(r.errcode, 0)
  assert_eq(r.data.errcode, 0)
end)
