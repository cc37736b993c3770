-- runner check: scenario{}.programs naming no program of the world fails at (setup).
scenario { programs = { ["zone-nope"] = true } }

test("never runs", function()
  fail("the file should have stopped at (setup)")
end)
