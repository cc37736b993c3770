-- runner check: scenario{}.env may not set the emulator's own ZONELAB_* variables.
scenario { env = { ZONELAB_X = "1" } }

test("never runs", function()
  fail("the file should have stopped at (setup)")
end)
