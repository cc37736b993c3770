-- The control face's clock refuses steps that would overflow or move it backwards, and moves
-- nothing when it refuses (issue 19: {"advance":-9223372036854775808} overflowed, two
-- {"advance":9007199254740992} overflowed the offset, and {"advance":-9223372036854776}
-- moved a release build's clock backwards). Bodies are sent as exact text: a Lua number
-- would round them.
scenario { world = "default" }

local function post(body)
  return http("POST", "/_zonelab/clock", body)
end

local function now_ms()
  return state().clock.now_ms
end

test("steps out of range are 400 or 409 and the clock stays where it was", function()
  local before = now_ms()
  local cases = {
    { '{"advance":-9223372036854775808}', 400 },
    { '{"advance":-9223372036854776}', 400 },
    { '{"advance":9223372036854775807}', 400 },
    { '{"advance_ms":1e300}', 400 },
    { '{"advance":1.5}', 400 },
    { '{"advance":-1}', 409 },
    { '{"set":1}', 409 },
    { '{"set_ms":253402300800000}', 400 },
    { '{"tick":1}', 400 },
  }
  for _, c in ipairs(cases) do
    local status, r = post(c[1])
    assert_eq(status, c[2], c[1])
    assert_eq(r.ok, false, c[1])
  end
  local status, r = post('{"advance":9007199254740992}')
  assert_eq(status, 400, "2^53 seconds is past the end of the clock")
  assert_match(r.error, "9999%-12%-31")
  status = post('{"advance_ms":9007199254740992}')
  assert_eq(status, 400, "so is 2^53 ms")
  assert_true(now_ms() - before < 60000, "the clock did not move")
end)

test("the clock reaches its last second and no further", function()
  local status, r = post('{"set":253402300798}')
  assert_eq(status, 200, tostring(r.error))
  status = post('{"advance":10}')
  assert_eq(status, 400)
  assert_true(now_ms() <= 253402300799999, "never past 9999-12-31T23:59:59.999Z")
  assert_true(now_ms() >= 253402300798000)
end)
