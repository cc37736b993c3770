-- Retention: "企业可设置存储最近 90 天/180 天/1 年/2 年的会话内容…过期的会话内容不存储，展示组件
-- 不展示" (doc 54895); get_corp_auth_info's "msg_duration_days 会话授权的时长" (doc 55567). No page
-- says what a model answers for a message past it; zonelab lists it in fail_list with ERR's
-- "710652 会话内容存档超过90天，已失效" (docs/emulator.md). The world's old_0001 (amy to bob) is 100
-- days old: app 1000004 keeps 90 days, app 1000002 180. A message outside the app's archive is
-- 710601, as an unknown msgid is (spec sdk-api.md §6, the result's fail_list "for per-message
-- failures"): app 1000003 never had amy.
scenario { world = "worlds/auth.json" }

local invoke = require("invoke")
local CORPID = "wwauthcorp000001"
local DAYS_90, DAYS_180, NOT_ITS = 1000004, 1000002, 1000003
local OLD = { msgid = "old_0001", encrypt_info = { secret_key = "authWorldSecretKey00000000000001" } }
local NEW = { msgid = "new_0001", encrypt_info = { secret_key = "authWorldSecretKey00000000000002" } }

local function token(agentid)
  local r = gettoken(CORPID, "auth-world-secret-" .. agentid)
  assert_eq(r.errcode, 0, r.errmsg)
  return r.access_token
end

-- A summary task of msg_list for the app, finished: get_summary_result's answer.
local function summary(agentid, msg_list)
  local t = { token = token(agentid) }
  local c = invoke("create_summary_task", { msg_list = msg_list }, t)
  assert_eq(c.errcode, 0, c.errmsg)
  clock.advance(2)
  return invoke("get_summary_result", { jobid = c.jobid }, t)
end

test("a message older than msg_duration_days is a fail_list item 710652", function()
  local r = summary(DAYS_90, { OLD, NEW })
  assert_eq(r.errcode, 0)
  assert_eq(r.status, 1, "the task runs on the message it still has")
  assert_eq(#r.fail_list, 1)
  assert_sub(r.fail_list[1], { errcode = 710652, msgid = "old_0001" })
end)

test("with 180 days the same message is still there", function()
  local r = summary(DAYS_180, { OLD })
  assert_eq(r.errcode, 0)
  assert_eq(#r.fail_list, 0)
  assert_eq(app("get_corp_auth_info", {}, { token = token(DAYS_180) })
    .auth_edition_list[1].msg_duration_days, 180)
end)

test("a message outside the app's archive is 710601", function()
  local r = summary(NOT_ITS, { NEW })
  assert_eq(r.errcode, 710637, "every message failed")
  assert_sub(r.fail_list[1], { errcode = 710601, msgid = "new_0001" })
end)
