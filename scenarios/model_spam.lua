-- Anti-spam (create_spam_task / get_spam_result) through zone-demo: the keyword lists
-- (1 political, 2 pornographic, 0 clean), a task answer scripted as {msgid: result}, and
-- the per-message daily budget.
local invoke = require("invoke")
scenario { world = "default" }

local function say(msgid, text)
  archive { msgid = msgid, msgtype = 1, content = { content = text }, secret_key = "key_" .. msgid,
    sender = { type = 2, id = "wm_cust_02" }, receivers = { { type = 1, id = "lisi" } } }
  return { msgid = msgid, encrypt_info = { secret_key = "key_" .. msgid } }
end

local list

test("keywords decide spam_result once the task is done", function()
  list = {
    say("spam_1", "join us to overthrow the board"),
    say("spam_2", "free PORN here"),
    say("spam_3", "see the 色情 site"),
    say("spam_4", "is the order shipped?"),
  }
  local c = invoke("create_spam_task", { msg_list = list })
  assert_eq(c.errcode, 0)
  local r = invoke("get_spam_result", { jobid = c.jobid })
  assert_eq(r.status, 0)
  assert_eq(#r.analyze_result_list, 4)
  clock.advance(2)
  r = invoke("get_spam_result", { jobid = c.jobid })
  assert_eq(r.status, 1)
  local got = {}
  for _, a in ipairs(r.analyze_result_list) do got[a.msgid] = a.spam_result end
  assert_eq(got, { spam_1 = 1, spam_2 = 2, spam_3 = 2, spam_4 = 0 })
end)

test("a scripted task answer: {msgid: spam_result}, the rest by keyword", function()
  models.reply { model = "spam", result = { spam_4 = 2 }, times = 1 }
  local c = invoke("create_spam_task", { msg_list = list })
  clock.advance(2)
  local got = {}
  for _, a in ipairs(invoke("get_spam_result", { jobid = c.jobid }).analyze_result_list) do
    got[a.msgid] = a.spam_result
  end
  assert_eq(got, { spam_1 = 1, spam_2 = 2, spam_3 = 2, spam_4 = 2 })

  c = invoke("create_spam_task", { msg_list = list }) -- the rule was for one task
  clock.advance(2)
  assert_eq(invoke("get_spam_result", { jobid = c.jobid }).analyze_result_list[4].spam_result, 0)
end)

test("a scripted failure: get_spam_result answers the code with status 2", function()
  models.reply { model = "spam", status = "failed", errcode = 710639 }
  local c = invoke("create_spam_task", { msg_list = { list[1] } })
  clock.advance(2)
  local r = invoke("get_spam_result", { jobid = c.jobid })
  assert_eq(r.errcode, 710639)
  assert_eq(r.status, 2)
  assert_eq(r.analyze_result_list[1].spam_result, nil)
end)

test("the daily budget of spam counts messages", function()
  clock.advance(86400)
  models.config { daily_budget = { spam = 4 } }
  assert_eq(invoke("create_spam_task", { msg_list = list }).errcode, 0, "4 messages")
  local r = invoke("create_spam_task", { msg_list = { list[1] } })
  assert_eq(r.errcode, 45009)
  assert_match(r.errmsg, "4 messages per corp per day")
end)
