-- Own model tasks (create_model_task / get_model_task_result, and the vendor sample's older
-- names create_private_task / get_private_task_result) against the world's model zone-model,
-- a second zone-demo whose echo_input ability answers the input it received: {chat},
-- {chatcontent}, {knowledge} and {tagjson} filled in, fail_tag_group_id_list, the 30 000
-- character rule (790040), the daily budget (45009), the report rule (710642, 790023) and the
-- 5 s acknowledgement (710675).
local invoke = require("invoke")
scenario { world = "default", programs = { ["zone-model"] = true } }

local function say(msgid, text, who)
  local customer = who == "customer"
  archive { msgid = msgid, msgtype = 1, content = { content = text }, secret_key = "key_" .. msgid,
    sender = customer and { type = 2, id = "wm_cust_01" } or { type = 1, id = "zhangsan" },
    receivers = { customer and { type = 1, id = "zhangsan" } or { type = 2, id = "wm_cust_01" } } }
  return { msgid = msgid, encrypt_info = { secret_key = "key_" .. msgid } }
end

local function result(api, jobid)
  for _ = 1, 200 do
    local r = invoke(api, { jobid = jobid })
    if r.errcode ~= 710642 then
      return r
    end
    sleep(0.02)
  end
  fail("no report within 4 s")
end

local function received(r)
  assert_eq(r.errcode, 0, r.errmsg)
  assert_eq(r.response_errcode, 0)
  return assert(json.decode(r.response_data)).input
end

local m1, m2

test("the model receives {chat}, {chatcontent}, {knowledge} and {tagjson}", function()
  m1 = say("mt_1", "Is the spring catalogue ready?", "customer")
  m2 = say("mt_2", "Yes, the catalogue is in the drive")
  models.knowledge { kb_id = "svc_kb_1", fragments = { "Opening hours are 9 to 5",
    "The spring catalogue lists 2027 products" } }
  models.tags { { group_id = "g1", group_name = "Interest",
    tag_list = { { tag_id = "t1", tag_name = "catalogue" } } } }
  local c = invoke("create_model_task", { model_id = "zone-model", ability_id = "echo_input",
    service_kb_id = "svc_kb_1", tag_group_list = { { group_id = "g1" }, { group_id = "g404" } },
    msg_list = { m1, m2 }, escape_type = 1 })
  assert_eq(c.errcode, 0, c.errmsg)
  assert_eq(c.fail_tag_group_id_list, { "g404" })
  local input = received(result("get_model_task_result", c.jobid))
  local got = assert(json.decode(input), "escape_type 1 keeps it JSON")
  assert_eq(got.chat, "A说：Is the spring catalogue ready?\nB说：Yes, the catalogue is in the drive")
  assert_eq(got.content, "Is the spring catalogue ready?\nYes, the catalogue is in the drive")
  assert_eq(got.knowledge, "文档1：The spring catalogue lists 2027 products\n文档2：Opening hours are 9 to 5",
    "fragments by overlap with the last message")
  assert_eq(json.decode(got.tags), { tag_group = { { group_id = "g1", group_name = "Interest",
    tag_list = { { tag_id = "t1", tag_name = "catalogue" } } } } })
  local j = assert(wait_journal({ face = "sdk", kind = "task_input", jobid = c.jobid }))
  assert_eq(j.input, input)
  assert_eq(j.target, "zone-model")
end)

test("escape_type 0 (the default) turns quotes and line breaks into spaces", function()
  local c = invoke("create_model_task", { model_id = "zone-model", ability_id = "echo_input",
    msg_list = { m1, m2 } })
  assert_eq(received(result("get_model_task_result", c.jobid)),
    '{"chat":"A说：Is the spring catalogue ready? B说：Yes, the catalogue is in the drive",' ..
    '"content":"Is the spring catalogue ready? Yes, the catalogue is in the drive",' ..
    '"knowledge":"","tags":"{ tag_group :[]}"}')
end)

test("create_private_task and get_private_task_result are the same API", function()
  local c = invoke("create_private_task", { model_id = "zone-model", ability_id = "echo_input",
    msg_list = { m2 } })
  assert_eq(c.errcode, 0)
  local r = result("get_private_task_result", c.jobid)
  assert_match(received(r), "A说：Yes, the catalogue is in the drive")
  assert_eq(invoke("get_model_task_result", { jobid = c.jobid }).response_data, r.response_data)
end)

test("model requests are checked: 710635, 710636, 710643 and the daily budget", function()
  local ml = { m1 }
  assert_eq(invoke("create_model_task", { ability_id = "echo_input", msg_list = ml }).errcode, 40058)
  assert_eq(invoke("create_model_task", { model_id = "zone-demo", ability_id = "echo_input",
    msg_list = ml }).errcode, 710635, "zone-demo is a program, not a model")
  assert_eq(invoke("create_model_task", { model_id = "nobody", ability_id = "echo_input",
    msg_list = ml }).errcode, 710635)
  assert_eq(invoke("create_model_task", { model_id = "zone-model", ability_id = "summarize",
    msg_list = ml }).errcode, 710636)
  assert_eq(invoke("create_model_task", { model_id = "zone-model", ability_id = "echo_input",
    kb_id = "kb_unknown", msg_list = ml }).errcode ~= 0, true, "a kb_id must be usable")
  models.config { daily_budget = { model = 0 } }
  assert_eq(invoke("create_model_task", { model_id = "zone-model", ability_id = "echo_input",
    msg_list = ml }).errcode, 45009)
  models.config { defaults = true }
end)

test("input over 30000 characters after expansion fails with 790040 and is not sent", function()
  local long = say("mt_long", string.rep("字", 30001))
  local c = invoke("create_model_task", { model_id = "zone-model", ability_id = "echo_input",
    msg_list = { long } })
  assert_eq(c.errcode, 0)
  assert_eq(invoke("get_model_task_result", { jobid = c.jobid }).errcode, 790040)
  assert_eq(#journal({ face = "program", kind = "call", jobid = c.jobid }), 0)
end)

test("before the report get_* answers 710642, or 790023 when configured", function()
  -- the model acknowledges at once; its report is held on the way in until the virtual clock
  -- has moved 1.5 s
  sdk.reply { api = "program_async_job_call_back", fault = "delay", delay_ms = 1500, times = 1 }
  local c = invoke("create_model_task", { model_id = "zone-model", ability_id = "echo_input",
    msg_list = { m1 } })
  assert_eq(c.errcode, 0)
  assert(sdk.wait_call("program_async_job_call_back"), "the report came in")
  assert_eq(invoke("get_model_task_result", { jobid = c.jobid }).errcode, 710642)
  models.config { pending_errcode = 790023 }
  assert_eq(invoke("get_model_task_result", { jobid = c.jobid }).errcode, 790023)
  models.config { defaults = true }
  clock.advance(1.5)
  local r = result("get_model_task_result", c.jobid)
  assert_match(received(r), "A说：Is the spring catalogue ready%?")
end)

test("a model that does not answer within the deadline fails the task with 710675", function()
  program.pause(0, { program = "zone-model" }) -- returns once every thread has stopped
  models.config { ack_timeout_ms = 300 }
  local c = invoke("create_model_task", { model_id = "zone-model", ability_id = "echo_input",
    msg_list = { m1 } })
  assert_eq(c.errcode, 0)
  local call_entry = assert(wait_journal({ face = "program", kind = "call", jobid = c.jobid },
    { timeout = 3 }))
  assert_eq(call_entry.errcode, 710675)
  assert_eq(invoke("get_model_task_result", { jobid = c.jobid }).errcode, 710675)
  -- the model wakes up, runs the task anyway and reports too late
  program.resume(0, { program = "zone-model" })
  local late = assert(wait_journal({ face = "sdk", kind = "invoke",
    api = "program_async_job_call_back", program_id = "zone-model" }, { timeout = 5 }))
  assert_eq(late.response.errcode, 790010)
  assert_eq(invoke("get_model_task_result", { jobid = c.jobid }).errcode, 710675, "the task stays failed")
  models.config { defaults = true }
end)
