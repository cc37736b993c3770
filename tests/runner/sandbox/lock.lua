-- runner check: the prelude's globals and verb tables are locked; new globals are allowed.
scenario {}

mine = 1
function helper() return 2 end

local function refused(fn, name)
  local ok, err = pcall(fn)
  assert_true(not ok, name .. " was replaced")
  assert_match(err, "^tests/runner/sandbox/lock%.lua:%d+: cannot assign to " .. name:gsub("%.", "%%.")
    .. ": the name is zonelab's", name)
end

test("verbs, verb tables, json and Lua's libraries cannot be assigned", function()
  refused(function() call = nil end, "call")
  refused(function() assert_eq = function() end end, "assert_eq")
  refused(function() sdk = {} end, "sdk")
  refused(function() sdk.reply = nil end, "sdk.reply")
  refused(function() models.config = nil end, "models.config")
  refused(function() program.kill = nil end, "program.kill")
  refused(function() json = {} end, "json")
  refused(function() backend = nil end, "backend")
  refused(function() string = nil end, "string")
  refused(function() require = nil end, "require")
  assert_true(not pcall(setmetatable, _G, nil), "the lock cannot be taken off")
end)

test("a scenario's own globals stay allowed", function()
  assert_eq(mine, 1)
  mine = 2
  assert_eq(mine, 2)
  assert_eq(helper(), 2)
  sdk.mine = 3
  assert_eq(sdk.mine, 3)
  assert_true(type(call) == "function" and type(sdk.reply) == "function")
end)
