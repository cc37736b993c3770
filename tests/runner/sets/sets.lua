-- zonelab run --set NAME=VALUE: over the scenario's defaults (program_timeout_ms 5000), under
-- the file's own scenario{} options (event_timeout_ms here). runner_check.sh runs it with
-- --set program_timeout_ms=4321 --set event_timeout_ms=1234.
scenario { world = "default", options = { event_timeout_ms = 2345 } }

test("--set reaches the emulator; the file's own option wins", function()
  local o = options()
  assert_eq(o.program_timeout_ms, 4321)
  assert_eq(o.event_timeout_ms, 2345)
end)
