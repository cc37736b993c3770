-- The conversation_new_message event token lifts sync_msg's per-minute limit for 10 minutes;
-- after that it counts as no token and the limit applies again.
scenario { world = "default", sync_budget = 2 }

local BUDGET = 2

-- tokenless-style sync_msg calls with req until 45009 (at most max); the number of calls that
-- succeeded before it, or max when none was refused.
local function calls_until_limited(req, max)
  for i = 1, max do
    local r = call("invoke_sync_msg", req)
    assert_eq(r.errcode, 0, "sync_call_program")
    if r.data.errcode == 45009 then
      return i - 1
    end
    assert_eq(r.data.errcode, 0, "sync_msg call " .. i .. ": " .. tostring(r.data.errmsg))
  end
  return max
end

local token

test("with a fresh event token sync_msg is not limited", function()
  assert_eq(app("set_receive_callback", { program_id = "zone-demo" }).errcode, 0)
  local r = archive { msgid = "tk_1", sender = { type = 1, id = "zhangsan" },
    receivers = { { type = 1, id = "lisi" } }, msgtype = 1, content = { content = "hi" } }
  assert_eq(#r.events, 1)
  token = r.events[1].token
  assert_true(type(token) == "string" and #token > 0, "the event carries a token")
  assert_eq(calls_until_limited({ limit = 1, token = token }, BUDGET + 5), BUDGET + 5,
    "no 45009 with a valid token")
  -- the token's calls did not use up the tokenless budget either
  assert_eq(calls_until_limited({ limit = 1 }, BUDGET + 3), BUDGET, "tokenless budget intact")
end)

test("601 s later the same token no longer lifts the limit", function()
  assert_true(token, "the first test got a token")
  clock.advance(590)
  assert_eq(calls_until_limited({ limit = 1, token = token }, BUDGET + 3), BUDGET + 3,
    "still valid at 590 s")
  clock.advance(11) -- 601 s after the event; also a new minute, so a fresh budget
  assert_eq(calls_until_limited({ limit = 1, token = token }, BUDGET + 3), BUDGET,
    "an expired token is limited like no token")
end)
