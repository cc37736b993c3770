-- get_hit_msg_list's token rules: without a valid hit_keyword token a per-minute limit applies
-- (its own budget, the size of sync_msg's); a conversation_new_message token does not lift it,
-- and a hit_keyword token does not lift sync_msg's; tokens last 10 minutes.
local invoke = require("invoke")
scenario { world = "default", sync_budget = 2 }

local BUDGET = 2

-- calls of api with req until 45009 (at most max): how many succeeded before it
local function calls_until_limited(api, req, max)
  for i = 1, max do
    local d = invoke(api, req)
    if d.errcode == 45009 then
      return i - 1
    end
    assert_eq(d.errcode, 0, api .. " call " .. i .. ": " .. tostring(d.errmsg))
  end
  return max
end

local hit_token, msg_token

test("a hit gives a hit_keyword token and a conversation_new_message token", function()
  assert_eq(app("set_receive_callback", { program_id = "zone-demo" }).errcode, 0)
  assert_eq(invoke("create_rule", { name = "r", keyword = { word_list = { "urgent" } } }).errcode, 0)
  local r = archive { msgid = "tk_1", msgtype = 1, content = { content = "urgent: call me" },
    sender = { type = 1, id = "zhangsan" }, receivers = { { type = 1, id = "lisi" } } }
  hit_token = r.hit_events[1].token
  msg_token = r.events[1].token
  assert_true(hit_token and msg_token, "both tokens")
end)

test("the hit_keyword token lifts get_hit_msg_list's limit, nothing else does", function()
  assert_eq(calls_until_limited("get_hit_msg_list", { token = hit_token }, BUDGET + 4), BUDGET + 4)
  assert_eq(calls_until_limited("get_hit_msg_list", { token = msg_token }, BUDGET + 3), BUDGET,
    "a conversation_new_message token counts as none")
  assert_eq(invoke("get_hit_msg_list", { token = "made-up" }).errcode, 45009)
  assert_eq(invoke("get_hit_msg_list", {}).errcode, 45009)
  assert_eq(invoke("get_hit_msg_list", { token = "" }).errcode, 40058)
  assert_eq(invoke("get_hit_msg_list", { token = string.rep("t", 129) }).errcode, 40058)
  -- sync_msg keeps its own budget, and a hit_keyword token does not lift it
  assert_eq(calls_until_limited("sync_msg", { limit = 1, token = hit_token }, BUDGET + 3), BUDGET)
  assert_eq(calls_until_limited("sync_msg", { limit = 1, token = msg_token }, BUDGET + 3),
    BUDGET + 3)
  -- a new minute, a new budget
  clock.advance(60)
  assert_eq(invoke("get_hit_msg_list", {}).errcode, 0)
end)

test("601 s after the hit its token no longer lifts the limit", function()
  clock.advance(590 - 60)
  assert_eq(calls_until_limited("get_hit_msg_list", { token = hit_token }, BUDGET + 3), BUDGET + 3,
    "still valid before 10 minutes")
  clock.advance(11 + 60)
  assert_eq(calls_until_limited("get_hit_msg_list", { token = hit_token }, BUDGET + 3), BUDGET,
    "expired")
end)
