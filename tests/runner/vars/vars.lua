-- zonelab run --var NAME=VALUE: vars.NAME, a string, in every file; nothing else in vars.
scenario { world = "default" }

test("vars holds the runner's --var values", function()
  assert_eq(vars.lang, "python")
  assert_eq(vars.empty, "")
  assert_eq(vars.expr, "a=b")
  local n = 0
  for _ in pairs(vars) do n = n + 1 end
  assert_eq(n, 3)
end)
