-- json.decode and json.encode in scenarios: integers within 2^53 come back as Lua integers,
-- any other number (a fraction, or beyond 2^53, up to 1e308) as a float, never an error.
scenario {}

test("integers within 2^53 decode as integers", function()
  local v = json.decode('[0, -1, 9007199254740992, -9007199254740992, 710016]')
  for i = 1, 5 do
    assert_eq(math.type(v[i]), "integer", "element " .. i)
  end
  assert_eq(v[3], 9007199254740992)
  assert_eq(json.encode({ v[1], v[2], v[5] }), "[0,-1,710016]")
end)

test("numbers beyond 2^53 or with a fraction decode as floats", function()
  local v = json.decode('[1e300, -1e300, 9.3e18, -9.3e18, 1.5, 9007199254740994]')
  for i = 1, 6 do
    assert_eq(math.type(v[i]), "float", "element " .. i)
  end
  assert_true(v[1] > 1e299 and v[2] < -1e299, "1e300 keeps its magnitude")
  assert_eq(v[5], 1.5)
end)
