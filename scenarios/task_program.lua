-- Program tasks (create_program_task / get_program_task_result) through zone-demo, which asks
-- itself: its echo_input ability answers the input it received, so every test sees exactly
-- what the target got. The input protocol with {chat} filled in, escape_type 0 and 1, the
-- per-message fail_list, 710637, the request checks, the journal's copy of the input, debug
-- mode with debug_info, and a model that is not running (710674).
local invoke = require("invoke")
scenario { world = "default" }

local function say(msgid, text, who, msgtype)
  local customer = who == "customer"
  archive { msgid = msgid, msgtype = msgtype or 1, content = { content = text },
    secret_key = "key_" .. msgid,
    sender = customer and { type = 2, id = "wm_cust_01" } or { type = 1, id = "zhangsan" },
    receivers = { customer and { type = 1, id = "zhangsan" } or { type = 2, id = "wm_cust_01" } } }
  return { msgid = msgid, encrypt_info = { secret_key = "key_" .. msgid } }
end

-- The task's result once the target reported: get_* answers 710642 until then.
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

local function task(req)
  req.program_id = req.program_id or "zone-demo"
  req.ability_id = req.ability_id or "echo_input"
  local c = invoke("create_program_task", req)
  assert_eq(c.errcode, 0, c.errmsg)
  return c, result("get_program_task_result", c.jobid)
end

-- what echo_input received, from the reply's response_data
local function received(r)
  assert_eq(r.errcode, 0, r.errmsg)
  assert_eq(r.response_errcode, 0)
  return assert(json.decode(r.response_data)).input
end

local p1, p2, p3

test("the program receives its input protocol with {chat} filled in (escape_type 0)", function()
  p1 = say("pt_1", 'he said "hi"')
  p2 = say("pt_2", "a/b\\c", "customer")
  p3 = say("pt_3", "tab\there")
  local c, r = task { msg_list = { p1, p2, p3 } }
  assert_match(c.jobid, "^mt_%x+$")
  assert_eq(c.fail_list, {})
  assert_eq(r.fail_list, {})
  -- " \ / \n \t became spaces; A and B in order of first appearance; lines joined by \n
  local want = '{"ability_id":"1","task_type":"service_statistics",' ..
      '"msg":"A说：he said  hi  B说：a b c A说：tab here"}'
  assert_eq(received(r), want)
  local j = assert(wait_journal({ face = "sdk", kind = "task_input", jobid = c.jobid }))
  assert_eq(j.input, want, "the journal keeps what the target received")
  assert_eq(j.target, "zone-demo")
  assert_eq(j.escape_type, 0)
  local call_entry = assert(wait_journal({ face = "program", kind = "call", jobid = c.jobid }))
  assert_eq(call_entry.is_async, true)
  assert_eq(call_entry.errcode, 0)
end)

test("escape_type 1 backslash-escapes, so the conversation survives as JSON", function()
  local _, r = task { msg_list = { p1, p2, p3 }, escape_type = 1 }
  local input = received(r)
  assert_eq(input, '{"ability_id":"1","task_type":"service_statistics",' ..
    '"msg":"A说：he said \\"hi\\"\\nB说：a\\/b\\\\c\\nA说：tab\\there"}')
  assert_eq(json.decode(input).msg, 'A说：he said "hi"\nB说：a/b\\c\nA说：tab\there')
end)

test("duplicates go to the create reply, unusable messages to the result's fail_list", function()
  local img = say("pt_img", "", nil, 2)
  local c, r = task { msg_list = { p1, p1, { msgid = "pt_none", encrypt_info = { secret_key = "k" } },
    { msgid = "pt_2", encrypt_info = { secret_key = "wrong" } }, img } }
  assert_eq(#c.fail_list, 1)
  assert_sub(c.fail_list[1], { errcode = 710613, msgid = "pt_1" })
  assert_eq(#r.fail_list, 3)
  assert_sub(r.fail_list[1], { errcode = 710601, msgid = "pt_none" })
  assert_sub(r.fail_list[2], { errcode = 710603, msgid = "pt_2" })
  assert_sub(r.fail_list[3], { errcode = 710602, msgid = "pt_img" })
  assert_match(received(r), '"msg":"A说：he said  hi "}$', "only the usable message")
end)

test("a task whose every message fails is not sent: 710637", function()
  local c = invoke("create_program_task", { program_id = "zone-demo", ability_id = "echo_input",
    msg_list = { { msgid = "pt_none", encrypt_info = { secret_key = "k" } } } })
  assert_eq(c.errcode, 0)
  local r = invoke("get_program_task_result", { jobid = c.jobid })
  assert_eq(r.errcode, 710637)
  assert_eq(r.fail_list[1].errcode, 710601)
  assert_eq(#journal({ face = "program", kind = "call", jobid = c.jobid }), 0, "no call")
end)

test("the request is checked before any task starts", function()
  local ml = { p1 }
  local cases = {
    { { ability_id = "echo_input", msg_list = ml }, 40058 },
    { { program_id = "nobody", ability_id = "echo_input", msg_list = ml }, 710645 },
    { { program_id = "zone-model", ability_id = "echo_input", msg_list = ml }, 710645 },
    { { program_id = "zone-demo", ability_id = "no_such", msg_list = ml }, 710636 },
    { { program_id = "zone-demo", ability_id = "bad id!", msg_list = ml }, 710636 },
    { { program_id = "zone-demo", ability_id = "echo_input" }, 40058 },
    { { program_id = "zone-demo", ability_id = "echo_input", msg_list = ml, escape_type = 2 }, 40058 },
    { { program_id = "zone-demo", ability_id = "echo_input", msg_list = ml,
      debug_info = { knowledge = "x" } }, 40058 },
  }
  for i, c in ipairs(cases) do
    assert_eq(invoke("create_program_task", c[1]).errcode, c[2], "case " .. i)
  end
  assert_eq(invoke("get_program_task_result", { jobid = "mt_nope" }).errcode, 40058)
  local s = invoke("create_sentiment_task", { msg_list = ml })
  assert_eq(invoke("get_program_task_result", { jobid = s.jobid }).errcode, 710616)
  local c = task { msg_list = ml }
  assert_eq(invoke("get_model_task_result", { jobid = c.jobid }).errcode, 710616)
  assert_eq(invoke("get_sentiment_result", { jobid = c.jobid }).errcode, 710616)
end)

test("a model that is not running fails its task with 710674", function()
  local c = invoke("create_model_task", { model_id = "zone-model", ability_id = "echo_input",
    msg_list = { p1 } })
  assert_eq(c.errcode, 0)
  local r = result("get_model_task_result", c.jobid)
  assert_eq(r.errcode, 710674)
end)

test("debug_info outside debug mode is ignored, and the journal says so", function()
  local c, r = task { msg_list = { p1 }, debug_info = { chat = "debug text" } }
  assert_match(received(r), "he said  hi ")
  local j = assert(wait_journal({ face = "sdk", kind = "task_input", jobid = c.jobid }))
  assert_eq(j.debug, false)
  assert_match(j.note, "debug_info ignored")
end)

test("in debug mode placeholders come from debug_info, and the target must be in debug mode", function()
  local p = state().programs[1]
  assert_eq(p.program_id, "zone-demo")
  assert_eq(app("open_debug_mode", { program_id = "zone-demo", debug_token = p.debug_token }).errcode, 0)
  local on = call("open_debug_mode", { debug_token = p.debug_token,
    access_token = gettoken().access_token })
  assert_eq(on.errcode, 0)
  assert_eq(on.data, { errcode = 0, errmsg = "ok" }, "zone-demo's SDK half (SpecOpenDebugMode)")
  assert_eq(app("check_debug_mode", { program_id = "zone-demo" }).debug_mode_status, 2)

  -- msg_list stays mandatory but is not looked at
  local c, r = task { msg_list = { { msgid = "any", encrypt_info = { secret_key = "" } } },
    debug_info = { chat = 'A说："quoted"', chat_content = "unused here" } }
  assert_eq(r.fail_list, {})
  assert_eq(received(r), '{"ability_id":"1","task_type":"service_statistics","msg":"A说： quoted "}')
  assert_eq(assert(wait_journal({ face = "sdk", kind = "task_input", jobid = c.jobid })).debug, true)
  assert_eq(invoke("create_program_task", { program_id = "zone-demo", ability_id = "echo_input" }).errcode,
    40058, "msg_list is still required")

  -- the model is not in debug mode
  assert_eq(invoke("create_model_task", { model_id = "zone-model", ability_id = "echo_input",
    msg_list = { p1 } }).errcode, 710673)
  assert_eq(app("close_debug_mode", { program_id = "zone-demo" }).errcode, 0)
  assert_eq(invoke("create_model_task", { model_id = "zone-model", ability_id = "echo_input",
    msg_list = { p1 } }).errcode, 0, "debug mode off again")
end)
