-- get_corp_auth_info and get_auth_user_list from the authorisation as it stands. Doc 55567:
-- "auth_edition_list|企业授权的会话版本。如果授权了多个会话版本，则返回授权的多个会话版本", status
-- "1-试用中 2-试用已到期 3-付费使用中 4-付费使用已到期…", begin_time / end_time that "如果是试用期已
-- 到期后授权且未购买的版本，则此字段不返回", "auth_user_count|企业授权存档的去重人数". Doc 52569:
-- get_auth_user_list gives "授权企业所有生效中的成员列表", each with "edition_list|生效的版本列表".
-- App 1000004 holds a paid edition 2 and an edition 3 on trial for 20 more days; cat archives
-- internal chats only (member edition 1).
scenario { world = "worlds/auth.json" }

local CORPID = "wwauthcorp000001"
local C = 1793808000 -- the world's clock_start
local DAY = 86400

local function token(agentid)
  local r = gettoken(CORPID, "auth-world-secret-" .. agentid)
  assert_eq(r.errcode, 0, r.errmsg)
  return r.access_token
end

local function as(agentid, endpoint)
  local r = app(endpoint, {}, { token = token(agentid) })
  assert_eq(r.errcode, 0, r.errmsg)
  return r
end

test("every authorised edition, with its status, period, scope, retention and head count", function()
  local scope = { userid_list = { "amy", "bob", "cat" }, department_id_list = {}, tag_id_list = {} }
  assert_eq(as(1000004, "get_corp_auth_info").auth_edition_list, {
    { edition = 2, auth_scope = scope, status = 3, begin_time = C - 200 * DAY,
      end_time = C + 165 * DAY, msg_duration_days = 90, auth_user_count = 3 },
    { edition = 3, auth_scope = scope, status = 1, begin_time = C - 10 * DAY,
      end_time = C + 20 * DAY, msg_duration_days = 90, auth_user_count = 3 },
  })
end)

test("departments and tags are listed as authorised; the count is their members, once", function()
  assert_sub(as(1000005, "get_corp_auth_info").auth_edition_list[1], { auth_user_count = 2,
    auth_scope = { userid_list = {}, department_id_list = { 2 }, tag_id_list = {} } })
  assert_sub(as(1000006, "get_corp_auth_info").auth_edition_list[1], { auth_user_count = 3,
    auth_scope = { userid_list = {}, department_id_list = {}, tag_id_list = { 9 } } })
end)

test("an edition without a period has no begin_time or end_time", function()
  local e = as(1000002, "get_corp_auth_info").auth_edition_list[1]
  assert_eq(e.begin_time, nil)
  assert_eq(e.end_time, nil)
  assert_eq(e.status, 3)
end)

test("edition_list: the editions in effect, capped at the member's own edition", function()
  assert_eq(as(1000004, "get_auth_user_list").auth_user_list, {
    { userid = "amy", edition_list = { 2, 3 } }, { userid = "bob", edition_list = { 2, 3 } },
    { userid = "cat", edition_list = { 1 } } })
end)

test("when the trial of edition 3 ends, it is 2 (试用已到期) and leaves edition_list", function()
  clock.advance(21 * DAY)
  local list = as(1000004, "get_corp_auth_info").auth_edition_list
  assert_eq(list[1].status, 3)
  assert_eq(list[2].status, 2)
  assert_eq(as(1000004, "get_auth_user_list").auth_user_list[1],
    { userid = "amy", edition_list = { 2 } })
end)

test("with no edition in effect, nobody is in effect", function()
  assert_eq(#as(1000007, "get_auth_user_list").auth_user_list, 0)
  assert_eq(as(1000007, "get_corp_auth_info").auth_edition_list[1].status, 2)
end)
