-- Summary (create_summary_task / get_summary_result) through zone-demo: the first three
-- sentences, 790040 past 30000 characters of model input, scripted answers (a result, a
-- failure for one task, a rule for tasks holding a msgid) and the daily budget of calls.
local invoke = require("invoke")
scenario { world = "default" }

local function say(msgid, text, who)
  local sender = who == "customer" and { type = 2, id = "wm_cust_01" } or { type = 1, id = "zhangsan" }
  local receiver = who == "customer" and { type = 1, id = "zhangsan" } or { type = 2, id = "wm_cust_01" }
  archive { msgid = msgid, msgtype = 1, content = { content = text }, secret_key = "key_" .. msgid,
    sender = sender, receivers = { receiver } }
  return { msgid = msgid, encrypt_info = { secret_key = "key_" .. msgid } }
end

local chat

local function summary(list)
  local c = invoke("create_summary_task", { msg_list = list })
  assert_eq(c.errcode, 0, c.errmsg)
  clock.advance(2)
  return invoke("get_summary_result", { jobid = c.jobid }), c.jobid
end

test("the summary is the first three sentences of the conversation", function()
  chat = {
    say("sum_1", "Hello. I need the spring catalogue!", "customer"),
    say("sum_2", "Sure, here it is. 价格表也附上了。", "member"),
    say("sum_3", "Thanks", "customer"),
  }
  local c = invoke("create_summary_task", { msg_list = chat })
  local r = invoke("get_summary_result", { jobid = c.jobid })
  assert_eq(r, { errcode = 0, errmsg = "ok", status = 0, fail_list = array() }, "not finished yet")
  clock.advance(2)
  r = invoke("get_summary_result", { jobid = c.jobid })
  assert_eq(r, { errcode = 0, errmsg = "ok", status = 1, fail_list = array(),
    response_data = "Hello. I need the spring catalogue! Sure, here it is." })
end)

test("model input over 30000 characters fails the task with 790040", function()
  local long = say("sum_long", string.rep("好", 30001), "customer")
  local r = summary({ long })
  assert_eq(r.errcode, 790040)
  assert_eq(r.status, 2)
  assert_eq(r.response_data, nil)
  -- 29000 characters and its speaker label fit
  assert_eq(summary({ say("sum_fits", string.rep("x", 29000), "customer") }).status, 1)
  -- two halves together do not
  local half = string.rep("y", 15000)
  assert_eq(summary({ say("sum_h1", half, "customer"), say("sum_h2", half, "member") }).errcode,
    790040)
end)

test("scripted answers: a result, a failure for one task, a rule for a msgid", function()
  models.reply { model = "summary", result = "The customer wants the catalogue.", times = 1 }
  assert_eq(summary(chat).response_data, "The customer wants the catalogue.")

  models.reply { model = "summary", status = "failed", errcode = 710682 }
  local r = summary(chat)
  assert_eq(r.errcode, 710682)
  assert_eq(r.status, 2)
  assert_match(r.errmsg, "^llm service busy")
  assert_eq(summary(chat).status, 1, "the failure was for one task")

  models.reply { model = "summary", msgid = "sum_3", result = { topic = "catalogue" } }
  assert_eq(summary({ chat[1] }).response_data, "Hello. I need the spring catalogue!",
    "a task without sum_3")
  assert_eq(summary(chat).response_data, '{"topic":"catalogue"}', "JSON given as its text")
  models.clear()
  assert_eq(summary(chat).response_data, "Hello. I need the spring catalogue! Sure, here it is.")
end)

test("the daily budget of summary counts calls", function()
  clock.advance(86400)
  models.config { daily_budget = { summary = 2 } }
  assert_eq(invoke("create_summary_task", { msg_list = chat }).errcode, 0)
  assert_eq(invoke("create_summary_task", { msg_list = { chat[1] } }).errcode, 0)
  local r = invoke("create_summary_task", { msg_list = { chat[1] } })
  assert_eq(r.errcode, 45009)
  assert_match(r.errmsg, "2 calls per corp per day")
  models.config { defaults = true }
  assert_eq(invoke("create_summary_task", { msg_list = { chat[1] } }).errcode, 0)
end)
