-- Reply recommendation (create_recommend_dialog_task / get_recommend_dialog_result) through
-- zone-demo: the knowledge set must be usable by the app (knowledge sets, api_kb.c); its
-- fragments come from the scenario (models.knowledge); the answer is the fragment that best
-- overlaps the last message, or a canned reply.
local invoke = require("invoke")
scenario { world = "default" }

local function say(msgid, text)
  archive { msgid = msgid, msgtype = 1, content = { content = text }, secret_key = "key_" .. msgid,
    sender = { type = 2, id = "wm_cust_02" }, receivers = { { type = 1, id = "lisi" } } }
  return { msgid = msgid, encrypt_info = { secret_key = "key_" .. msgid } }
end

local CANNED = "Thanks for your message, we will get back to you soon."
local kb, chat

local function recommend(kb_id, list)
  local c = invoke("create_recommend_dialog_task", { kb_id = kb_id, msg_list = list })
  assert_eq(c.errcode, 0, c.errmsg)
  clock.advance(2)
  return invoke("get_recommend_dialog_result", { jobid = c.jobid })
end

test("the fragment that best overlaps the last message", function()
  kb = knowledge({ action = "create", kb_name = "FAQ", agentid = 1000002 }).kb_id
  models.knowledge { kb_id = kb, fragments = {
    "Our opening hours are 9:00 to 18:00 on weekdays.",
    "Refunds are processed within 7 days of the request.",
    "The spring catalogue is at https://example.com/catalogue",
  } }
  chat = { say("rec_1", "Hi, I sent the parcel back"), say("rec_2", "When are refunds processed?") }
  local c = invoke("create_recommend_dialog_task", { kb_id = kb, msg_list = chat })
  assert_eq(invoke("get_recommend_dialog_result", { jobid = c.jobid }).status, 0)
  clock.advance(2)
  assert_eq(invoke("get_recommend_dialog_result", { jobid = c.jobid }), { errcode = 0, errmsg = "ok",
    status = 1, fail_list = array(), response_data = "Refunds are processed within 7 days of the request." })
end)

test("a canned reply without fragments or without overlap", function()
  assert_eq(recommend(kb, { say("rec_3", "ok bye") }).response_data, CANNED)
  local other = knowledge({ action = "create", kb_name = "Empty", agentid = 1000002 }).kb_id
  assert_eq(recommend(other, chat).response_data, CANNED)
end)

test("kb_id: required, unknown, revoked", function()
  assert_eq(invoke("create_recommend_dialog_task", { msg_list = chat }).errcode, 40058)
  assert_eq(invoke("create_recommend_dialog_task", { kb_id = "kb_nope", msg_list = chat }).errcode,
    800000)
  knowledge { action = "revoke", kb_id = kb, agentid = 1000002 }
  assert_eq(invoke("create_recommend_dialog_task", { kb_id = kb, msg_list = chat }).errcode, 790024)
  knowledge { action = "authorise", kb_id = kb, agentid = 1000002 }
end)

test("a scripted reply", function()
  models.reply { model = "recommend_dialog", result = "请稍等，我帮您查询。" }
  assert_eq(recommend(kb, chat).response_data, "请稍等，我帮您查询。")
  models.clear()
end)
