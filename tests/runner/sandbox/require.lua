-- runner check: require() loads the scenario root's lib/, once, and nothing else.
local counter = require("counter")
scenario {}

test("a library loads once and returns its value", function()
  assert_eq(counter.name, "counter")
  assert_true(require("counter") == counter, "the same table")
  assert_eq(counter.loads, 1)
  assert_eq(require("nested.deep"), true, "a library that returns nothing gives true")
  assert_true(deep_ran)
  assert_eq(package, nil)
end)

test("names are checked and only lib/ is read", function()
  for _, bad in ipairs { "../require", "/etc/passwd", "a/b", "a..b", ".a", "a.", "", "a b" } do
    local ok, err = pcall(require, bad)
    assert_true(not ok, bad)
    assert_match(err, "^tests/runner/sandbox/require%.lua:%d+: require%(\"[^\"]*\"%): a library "
      .. "name is words", bad)
  end
  local ok, err = pcall(require, "missing")
  assert_true(not ok)
  assert_match(err, "require%(\"missing\"%): there is no tests/runner/sandbox/lib/missing%.lua$")
end)

test("a library's error names its own line; a cycle is refused", function()
  local ok, err = pcall(require, "broken")
  assert_true(not ok)
  assert_match(err, "^tests/runner/sandbox/lib/broken%.lua:3: broken on purpose 1\nstack traceback:")
  ok, err = pcall(require, "broken")
  assert_match(err, "broken on purpose", "a failed library is not cached")
  ok, err = pcall(require, "cycle")
  assert_match(err, "require%(\"cycle\"%): a require cycle")
end)

test("a verb failing in a library names the scenario's line", function()
  local ok, err = pcall(counter.positive, -1)
  assert_true(not ok)
  assert_match(err, "^tests/runner/sandbox/require%.lua:37: not positive$")
end)
