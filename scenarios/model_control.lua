-- Scripting model tasks from a scenario: a task held unfinished then answered through its
-- jobid, a finished task's answer replaced, latency per rule and per emulator, the duplicate
-- errcode switch, the task list, and the control face's refusals.
local invoke = require("invoke")
scenario { world = "default" }

-- msg_0010 is the default world's message with a fixed secret_key
local ITEM = { msgid = "msg_0010", encrypt_info = { secret_key = "zonelabFixedSecretKey00000000010" } }

test("a task held pending, then answered by jobid", function()
  local c = invoke("create_summary_task", { msg_list = { ITEM } })
  models.reply { model = "summary", jobid = c.jobid, status = "pending" }
  clock.advance(3600)
  assert_eq(invoke("get_summary_result", { jobid = c.jobid }).status, 0, "held")
  local r = models.reply { model = "summary", jobid = c.jobid, result = "answered late" }
  assert_eq(r.jobid, c.jobid)
  local g = invoke("get_summary_result", { jobid = c.jobid })
  assert_eq(g.status, 1)
  assert_eq(g.response_data, "answered late")
  -- a finished task's answer replaced at once
  models.reply { model = "summary", jobid = c.jobid, status = "failed", errcode = 790041 }
  g = invoke("get_summary_result", { jobid = c.jobid })
  assert_eq({ g.errcode, g.status }, { 790041, 2 })
  local phases = {}
  for _, e in ipairs(journal({ face = "sdk", kind = "model_task", jobid = c.jobid })) do
    phases[#phases + 1] = e.phase
  end
  assert_eq(phases, { "waiting", "running", "done", "failed" })
end)

test("latency: per rule, and for every task", function()
  models.reply { model = "spam", latency_ms = 60000, times = 1 }
  local c = invoke("create_spam_task", { msg_list = { ITEM } })
  clock.advance(2)
  assert_eq(invoke("get_spam_result", { jobid = c.jobid }).status, 0, "60 s of latency")
  clock.advance(60)
  assert_eq(invoke("get_spam_result", { jobid = c.jobid }).status, 1)

  assert_eq(models.config({ latency_ms = 10000 }).latency_ms, 10000)
  c = invoke("create_spam_task", { msg_list = { ITEM } })
  clock.advance(5)
  assert_eq(invoke("get_spam_result", { jobid = c.jobid }).status, 0)
  assert(wait_journal({ face = "sdk", kind = "model_task", jobid = c.jobid, phase = "running" },
    { timeout = 5 }))
  clock.advance(5)
  assert(wait_journal({ face = "sdk", kind = "model_task", jobid = c.jobid, phase = "done" },
    { timeout = 5 }), "the timer finishes it without a get")
  models.config { defaults = true }
end)

test("duplicates can carry 710601, as the vendor's examples show", function()
  models.config { duplicate_errcode = 710601 }
  local c = invoke("create_summary_task", { msg_list = { ITEM, ITEM } })
  assert_eq(c.fail_list[1].errcode, 710601)
  models.config { defaults = true }
  assert_eq(invoke("create_summary_task", { msg_list = { ITEM, ITEM } }).fail_list[1].errcode, 710613)
end)

test("the task list and the control face's refusals", function()
  local tasks = models.tasks()
  assert_true(#tasks >= 5)
  assert_eq(tasks[1].model, "summary")
  assert_eq(tasks[1].phase, "failed")
  assert_true(not pcall(models.reply, { model = "nope" }))
  assert_true(not pcall(models.reply, { model = "summary", jobid = "mt_none" }))
  assert_true(not pcall(models.reply, { model = "sentiment", msgid = "msg_0010", result = "text" }))
  assert_true(not pcall(models.reply, { model = "customer_tag", result = "not a list" }))
  assert_true(not pcall(models.config, { latency = 5 }))
  local status, r = http("POST", "/_zonelab/models/reply", { model = "summary", jobid = tasks[2].jobid })
  assert_eq(status, 409, "a spam task's jobid")
  assert_match(r.error, "spam task")
  status = http("GET", "/_zonelab/models/reply")
  assert_eq(status, 405)
end)
