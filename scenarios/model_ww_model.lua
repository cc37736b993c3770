-- The general model (create_ww_model_task / get_ww_model_result) in both versions of the
-- spec: 56425 for third-party and 代开发 apps (ability_id, kb_retrieval_words, var_args,
-- tag_group_list, 100 calls a minute) and 53707 for self-built apps (msg_list required, text
-- only by default, one more model). The default answer is an echo of the last message.
local invoke = require("invoke")
local E = '"errcode":0,"errmsg":""'
local MSG = '{"msgid":"","encrypt_info":{"secret_key":""}}'
local function app_of(agentid, secret, kind)
  return { agentid = agentid, name = "app " .. agentid, secret = secret, callback_url = "",
    kind = kind, token = "zonelabtoken",
    encoding_aes_key = "zonelabDemoAesKey0123456789abcdefghijKLMNOP" }
end

local no_grant = app_of(1000004, "ww-secret-nogrant", "third_party")
no_grant.general_model = false

scenario {
  world = {
    clock_start = 1793808000,
    corps = { {
      corpid = "wwzonelab0000001",
      name = "two kinds of apps",
      apps = { app_of(1000002, "ww-secret-third", "third_party"),
        app_of(1000003, "ww-secret-self", "self_built"), no_grant },
      programs = {
        { program_id = "zone-demo", role = "program", agentids = { 1000002, 1000003, 1000004 },
          abilities = {
            { ability_id = "invoke_create_ww_model_task",
              input_protocol = '{"ability_id":"","kb_id":"","kb_retrieval_words":"","msg_list":['
                .. MSG .. '],"model_id":"","need_think_result":false,"tag_group_list":'
                .. '[{"group_id":""}],"var_args":[{"name":"","value":""}]}',
              output_protocol = '{' .. E .. ',"jobid":"","fail_list":[{"errcode":0,"errmsg":"",'
                .. '"msgid":"","encrypt_info":{"secret_key":""}}],"fail_tag_group_id_list":[""]}' },
            { ability_id = "invoke_get_ww_model_result", input_protocol = '{"jobid":""}',
              output_protocol = '{' .. E .. ',"status":0,"fail_list":[{"errcode":0,"errmsg":"",'
                .. '"msgid":""}],"response_data":""}' },
          } },
        { program_id = "general-model", role = "model", agentids = { 1000002 },
          abilities = { { ability_id = "ww_prompt",
            input_protocol = '{"prompt":"Topic {$topic$}: {chat} Again: {chat}"}',
            output_protocol = '{"result":""}' } } },
      },
      members = { { userid = "zhangsan", name = "Zhang San" }, { userid = "lisi", name = "Li Si" } },
      public_keys = { { version = 1, pem_file = "../fixtures/keys/test_v1_public.pem" } },
    } },
  },
}

local SECRET = { third = "ww-secret-third", self = "ww-secret-self", nogrant = "ww-secret-nogrant" }
local tokens = {}

-- invoke() as the app who (third, self, nogrant)
local function as(who, api, req)
  tokens[who] = tokens[who] or gettoken("wwzonelab0000001", SECRET[who]).access_token
  return invoke(api, req, { token = tokens[who] })
end

local function say(msgid, content, msgtype)
  archive { msgid = msgid, msgtype = msgtype or 1, content = content, secret_key = "key_" .. msgid,
    sender = { type = 1, id = "zhangsan" }, receivers = { { type = 1, id = "lisi" } } }
  return { msgid = msgid, encrypt_info = { secret_key = "key_" .. msgid } }
end

local function answer(who, req)
  local c = as(who, "create_ww_model_task", req)
  assert_eq(c.errcode, 0, c.errmsg)
  clock.advance(2)
  return as(who, "get_ww_model_result", { jobid = c.jobid })
end

local hello

test("third-party app: an echo of the last message, and a thinking model's <think>", function()
  hello = { say("ww_1", { content = "first" }), say("ww_2", { content = "What is our refund policy?" }) }
  local c = as("third", "create_ww_model_task", { ability_id = "ww_prompt", msg_list = hello })
  assert_eq(as("third", "get_ww_model_result", { jobid = c.jobid }).status, 0)
  clock.advance(2)
  assert_eq(as("third", "get_ww_model_result", { jobid = c.jobid }), { errcode = 0, errmsg = "ok",
    status = 1, fail_list = array(),
    response_data = "zonelab echo (hunyuan_fast): What is our refund policy?" })

  local r = answer("third", { ability_id = "ww_prompt", msg_list = hello, model_id = "deepseek_think",
    need_think_result = true })
  assert_eq(r.response_data,
    "<think>zonelab echoes the last message</think>zonelab echo (deepseek_think): What is our refund policy?")
end)

test("third-party app: the fields of 56425", function()
  assert_eq(as("third", "create_ww_model_task", { msg_list = hello }).errcode, 40058,
    "ability_id is required")
  assert_eq(as("third", "create_ww_model_task", { ability_id = "bad id!", msg_list = hello }).errcode,
    710636)
  assert_eq(as("third", "create_ww_model_task", { ability_id = "ww_prompt" }).errcode, 40058,
    "neither kb_id nor msg_list")
  assert_eq(as("third", "create_ww_model_task", { ability_id = "ww_prompt", msg_list = hello,
    model_id = "deepseek_fast" }).errcode, 40058, "self-built apps only")
  assert_eq(as("third", "create_ww_model_task", { ability_id = "ww_prompt", msg_list = hello,
    var_args = { { name = "topic", value = string.rep("v", 129) } } }).errcode, 40058)

  -- knowledge only: kb_retrieval_words is then required, and echoed
  local kb = knowledge({ action = "create", kb_name = "Policies", agentid = 1000002 }).kb_id
  assert_eq(as("third", "create_ww_model_task", { ability_id = "ww_prompt", kb_id = kb }).errcode,
    40058)
  assert_eq(answer("third", { ability_id = "ww_prompt", kb_id = kb,
    kb_retrieval_words = "refund policy" }).response_data, "zonelab echo (hunyuan_fast): refund policy")

  models.tags { { group_id = "grp_a", group_name = "A", tag_list = { { tag_id = "t1", tag_name = "x" } } } }
  local c = as("third", "create_ww_model_task", { ability_id = "ww_prompt", msg_list = hello,
    tag_group_list = { { group_id = "grp_a" }, { group_id = "grp_b" } } })
  assert_eq(c.fail_tag_group_id_list, { "grp_b" })
end)

test("the ability's input protocol is the prompt: {chat} twice goes over 30000 characters", function()
  local long = say("ww_long", { content = string.rep("字", 16000) })
  local r = answer("third", { ability_id = "ww_prompt", msg_list = { long },
    var_args = { { name = "topic", value = "refunds" } } })
  assert_eq(r.errcode, 790040)
  assert_eq(r.status, 2)
  -- an ability the corp does not have: the prompt is {knowledge}{chat}, and it fits
  assert_eq(answer("third", { ability_id = "no_such_prompt", msg_list = { long } }).status, 1)
  -- the self-built version puts {knowledge} and {chat} in, once
  assert_eq(answer("self", { msg_list = { long } }).status, 1)
end)

test("self-built app: msg_list required, deepseek_fast allowed, text only by default", function()
  assert_eq(as("self", "create_ww_model_task", { kb_retrieval_words = "x" }).errcode, 40058)
  assert_eq(answer("self", { msg_list = hello, model_id = "deepseek_fast" }).response_data,
    "zonelab echo (deepseek_fast): What is our refund policy?")
  local voice = say("ww_voice", { voice_size = 10, play_length = 2, sdkfileid = "v1", md5sum = "m",
    transcript = "call me back" }, 6)
  local r = answer("self", { msg_list = { hello[1], voice } })
  assert_eq(r.fail_list, { { errcode = 710602, errmsg = "msgtype incorrect", msgid = "ww_voice" } })
  assert_eq(r.response_data, "zonelab echo (hunyuan_fast): first")
  assert_eq(answer("third", { ability_id = "ww_prompt", msg_list = { voice } }).response_data,
    "zonelab echo (hunyuan_fast): call me back", "56425 takes voice with its transcript")
  models.config { ww_model_text_only = false }
  assert_eq(answer("self", { msg_list = { voice } }).response_data,
    "zonelab echo (hunyuan_fast): call me back")
  models.config { defaults = true }
end)

test("third-party apps: 100 calls a minute (here 2), then tasks wait; self-built apps are not counted", function()
  -- doc 56425: "每服务商每分钟调用量不超过100次，超过后将导致任务延迟或者任务失败"; this world
  -- names no provider, so its apps are counted per corp (model_quota.lua has providers)
  clock.advance(61 - (state().clock.now_ms % 60000) / 1000) -- 1 s into a fresh minute
  models.config { per_minute_budget = 2 }
  local req = { ability_id = "ww_prompt", msg_list = hello }
  assert_eq(as("third", "create_ww_model_task", req).errcode, 0)
  assert_eq(as("third", "create_ww_model_task", req).errcode, 0)
  local late = as("third", "create_ww_model_task", req)
  assert_eq(late.errcode, 0, "no refusal at create")
  assert_eq(as("self", "create_ww_model_task", { msg_list = hello }).errcode, 0)
  clock.advance(30)
  assert_eq(as("third", "get_ww_model_result", { jobid = late.jobid }).status, 0, "it waits")
  clock.advance(60)
  assert_eq(as("third", "get_ww_model_result", { jobid = late.jobid }).status, 1, "the next minute")
  models.config { per_minute_overflow = "refuse" } -- zonelab before issue 16
  clock.advance(60)
  assert_eq(as("third", "create_ww_model_task", req).errcode, 0)
  assert_eq(as("third", "create_ww_model_task", req).errcode, 0)
  assert_eq(as("third", "create_ww_model_task", req).errcode, 45009)
  models.config { defaults = true }
end)

test("an app without the general-model grant gets 710644", function()
  local r = as("nogrant", "create_ww_model_task", { ability_id = "ww_prompt",
    kb_retrieval_words = "anything" })
  assert_eq(r.errcode, 710644)
  assert_eq(as("third", "create_ww_model_task", { ability_id = "ww_prompt",
    kb_retrieval_words = "anything" }).errcode == 710644, false, "the others have it")
end)
