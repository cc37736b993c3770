-- runner check: an extra program that crashes during a test fails that test with its last
-- log lines. runner_check.sh exports ZL_CHECK_PROGRAM, a zone-demo; told to, it kills itself
-- right after storing an event.
scenario {
  programs = { ["zone-model"] = 'ZONE_DEMO_FAULT=kill_after_store exec "$ZL_CHECK_PROGRAM"'
    .. ' --data-dir "$ZONELAB_WORK_DIR/model"' },
}

test("zone-model crashes on an event", function()
  push_event({ event_type = "made_up" }, { program = "zone-model", agentid = 1000002 })
  wait_journal({ face = "program", kind = "event_result", program_id = "zone-model" },
    { timeout = 5 })
  sleep(2) -- a wait notices the crash (the event_result above may come first)
  fail("zone-model did not crash")
end)
