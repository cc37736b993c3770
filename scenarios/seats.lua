-- Seats are the provider's, shared by its apps in a corp: "会话内容数据接口是服务商维度的，同一
-- 服务商的多个应用都可使用，使用时只要多个应用合并去重的人数不超过购买的接口账号数即可"; over
-- the count, "会从使用人员随机取与购买账号数相等的人员使用，其他人员将不可使用"; and "各个服务商
-- 单独购买，彼此之间互不影响" (FAQ, doc 55301). Provider 1's apps authorise amy + bob and bob + cat:
-- three members over 2 seats, so two are drawn (by the seed: the same two every run) and the
-- third's messages reach neither app. Provider 2's app, over the same three, is untouched.
scenario { world = "worlds/auth.json", seed = 1, sync_budget = 1000 }

local invoke = require("invoke")
local CORPID = "wwauthcorp000001"
local A, B, OTHER = 1000002, 1000003, 1000004

local function token(agentid)
  local r = gettoken(CORPID, "auth-world-secret-" .. agentid)
  assert_eq(r.errcode, 0, r.errmsg)
  return r.access_token
end

-- get_auth_user_list's userids, in order.
local function users(agentid)
  local r = app("get_auth_user_list", {}, { token = token(agentid) })
  assert_eq(r.errcode, 0, r.errmsg)
  local ids = {}
  for i, u in ipairs(r.auth_user_list) do ids[i] = u.userid end
  return ids
end

-- The msgids of the app's sync_msg items, as a set.
local function synced(agentid)
  local d = invoke("sync_msg", { limit = 1000 }, { token = token(agentid) })
  assert_eq(d.errcode, 0, d.errmsg)
  local set = {}
  for _, m in ipairs(d.msg_list) do set[m.msgid] = true end
  return set
end

local function text(msgid, from, to)
  return { msgid = msgid, sender = { type = 1, id = from },
    receivers = { { type = to:sub(1, 3) == "wm_" and 2 or 1, id = to } },
    msgtype = 1, content = { content = msgid } }
end

-- The agentids a conversation_new_message went to, sorted.
local function receivers(report)
  local list = {}
  for _, e in ipairs(report.events or {}) do list[#list + 1] = e.agentid end
  table.sort(list)
  return list
end

test("provider 1's apps share 2 seats: amy and cat are drawn, bob is out, every run", function()
  assert_eq(users(A), { "amy" }, "app a authorised amy and bob; bob lost the draw")
  assert_eq(users(B), { "cat" }, "app b authorised bob and cat")
  for _, agentid in ipairs({ A, B }) do
    local info = app("get_corp_auth_info", {}, { token = token(agentid) })
    assert_eq(info.auth_edition_list[1].auth_user_count, 2,
      "the corp's authorisation counts its scope; the seats shrink the effective list only")
  end
end)

test("provider 2 buys separately: its app keeps all three", function()
  assert_eq(users(OTHER), { "amy", "bob", "cat" })
end)

test("bob's messages reach neither of provider 1's apps, and still reach provider 2's", function()
  for _, agentid in ipairs({ A, B, OTHER }) do
    assert_eq(app("set_receive_callback", { program_id = "zone-demo" },
      { token = token(agentid) }).errcode, 0)
  end
  assert_eq(receivers(archive(text("seat_bob", "bob", "wm_ext_01"))), { OTHER },
    "bob has no seat at provider 1")
  assert_eq(receivers(archive(text("seat_amy", "amy", "bob"))), { A, OTHER },
    "amy's seat is app a's; app b never authorised her")
  assert_eq(receivers(archive(text("seat_cat", "cat", "bob"))), { B, OTHER })
  local a, b, other = synced(A), synced(B), synced(OTHER)
  assert_true(not a.seat_bob and not b.seat_bob, "sync_msg agrees with the events")
  assert_true(a.seat_amy and not b.seat_amy)
  assert_true(b.seat_cat and not a.seat_cat)
  assert_true(other.seat_bob and other.seat_amy and other.seat_cat)
end)
