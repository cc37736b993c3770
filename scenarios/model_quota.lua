-- The general model's quota as doc 56425 (通用模型, "频率限制说明") scopes it:
-- "每企业每天不超过1万次（按调用次数限制）。" and "每服务商每分钟调用量不超过100次，超过后将导致
-- 任务延迟或者任务失败。", "若资源紧张，任务重试超过24小时仍未有足够资源执行，任务将失败". The
-- minute is counted per provider, over all its apps: here provider P's third-party and 代开发
-- apps share it, provider Q's app has its own, and a self-built app (doc 53707 names no
-- per-minute limit) none. Over it a task is delayed to the next minute with room (default),
-- or fails (per_minute_overflow = "fail"; the errcode is unknown, zonelab says 45009), or is
-- refused at create ("refuse", zonelab before issue 16). The daily limit stays a refusal.
local invoke = require("invoke")
local KEY = "zonelabDemoAesKey0123456789abcdefghijKLMNOP"
local E = '"errcode":0,"errmsg":""'
local MSG = '{"msgid":"","encrypt_info":{"secret_key":""}}'
local function app_of(agentid, kind, secret, suite_id, auth)
  return { agentid = agentid, name = "app " .. agentid, kind = kind, secret = secret,
    suite_id = suite_id, token = "zonelabtoken", encoding_aes_key = KEY, auth = auth }
end
local function suite(id, kind)
  return { suite_id = id, suite_secret = id .. "-secret", kind = kind, token = "suitetoken",
    encoding_aes_key = KEY }
end

scenario {
  world = {
    clock_start = 1793808000,
    providers = {
      { corpid = "wwproviderP00001", name = "provider P", provider_secret = "p-secret",
        suites = { suite("wwsuiteP00000001"), suite("dktemplateP00001", "custom") } },
      { corpid = "wwproviderQ00001", name = "provider Q", provider_secret = "q-secret",
        suites = { suite("wwsuiteQ00000001") } },
    },
    corps = { {
      corpid = "wwzonelab0000001",
      name = "a corp with three providers' apps",
      apps = {
        app_of(1000002, "third_party", "quota-p-third", "wwsuiteP00000001"),
        app_of(1000003, "custom", "quota-p-custom", "dktemplateP00001"),
        app_of(1000004, "third_party", "quota-q-third", "wwsuiteQ00000001"),
        app_of(1000005, "self_built", "quota-self"),
      },
      programs = {
        { program_id = "zone-demo", role = "program", agentids = { 1000002, 1000003, 1000004, 1000005 },
          abilities = {
            { ability_id = "invoke_create_ww_model_task",
              input_protocol = '{"ability_id":"","msg_list":[' .. MSG .. ']}',
              output_protocol = '{' .. E .. ',"jobid":"","fail_list":[{"errcode":0,"errmsg":"",'
                .. '"msgid":"","encrypt_info":{"secret_key":""}}]}' },
            { ability_id = "invoke_get_ww_model_result", input_protocol = '{"jobid":""}',
              output_protocol = '{' .. E .. ',"status":0,"fail_list":[{"errcode":0,"errmsg":"",'
                .. '"msgid":""}],"response_data":""}' },
          } },
        { program_id = "general-model", role = "model", agentids = { 1000002, 1000003, 1000004 },
          abilities = { { ability_id = "ww_prompt", input_protocol = '{"prompt":"{chat}"}',
            output_protocol = '{"result":""}' } } },
      },
      members = { { userid = "zhangsan", name = "Zhang San" }, { userid = "lisi", name = "Li Si" } },
      public_keys = { { version = 1, pem_file = "../fixtures/keys/test_v1_public.pem" } },
    } },
  },
}

local SECRET = { p = "quota-p-third", pdk = "quota-p-custom", q = "quota-q-third", self = "quota-self" }
local tokens = {}

-- invoke() as app who (p, pdk: provider P's apps; q: provider Q's; self: self-built)
local function as(who, api, req)
  tokens[who] = tokens[who] or gettoken("wwzonelab0000001", SECRET[who]).access_token
  return invoke(api, req, { token = tokens[who] })
end

local hello
local function create(who)
  local req = who == "self" and { msg_list = hello } or { ability_id = "ww_prompt", msg_list = hello }
  local c = as(who, "create_ww_model_task", req)
  assert_eq(c.errcode, 0, c.errmsg)
  return c.jobid
end
local function status(who, jobid)
  return as(who, "get_ww_model_result", { jobid = jobid })
end
local function task(jobid)
  for _, t in ipairs(models.tasks()) do
    if t.jobid == jobid then
      return t
    end
  end
end
-- 1 s into the next minute of the virtual clock, the minute's start in ms
local function next_minute()
  clock.advance(61 - (state().clock.now_ms % 60000) / 1000)
  return state().clock.now_ms // 60000 * 60000
end

test("over the minute, a provider's task waits for the next minute with room", function()
  archive { msgid = "q_1", msgtype = 1, content = { content = "hello" }, secret_key = "k1",
    sender = { type = 1, id = "zhangsan" }, receivers = { { type = 1, id = "lisi" } } }
  hello = { { msgid = "q_1", encrypt_info = { secret_key = "k1" } } }
  models.config { per_minute_budget = 2, latency_ms = 1000 }
  local minute = next_minute()
  create("p")
  create("pdk") -- provider P's 代开发 app: the same provider's minute
  local late = create("p")
  local t = task(late)
  assert_eq({ t.phase, t.start_ms }, { "waiting", minute + 60000 }, "delayed, not refused")
  assert_eq(assert(wait_journal { face = "sdk", kind = "model_task", jobid = late }).start_ms,
    minute + 60000)
  local q = create("q") -- provider Q: its own minute
  assert_eq(task(q).start_ms, task(q).created_ms)
  local s = create("self") -- self-built: no per-minute limit
  assert_eq(task(s).start_ms, task(s).created_ms)

  clock.advance(30)
  assert_eq(status("p", late).status, 0, "still waiting in its first minute")
  clock.advance(31)
  assert_eq(status("p", late).status, 1, "it ran in the next minute")
  -- that minute holds the delayed task already: one more fits, the next waits again
  create("pdk")
  assert_eq(task(create("p")).start_ms, minute + 120000)
end)

test("per_minute_overflow \"fail\": the task fails (status 2, 45009), nothing is delayed", function()
  models.config { per_minute_overflow = "fail" }
  next_minute()
  create("p")
  create("p")
  local failed = create("pdk")
  local r = status("pdk", failed)
  assert_eq({ r.errcode, r.status }, { 45009, 2 }, "failed at once")
  assert_eq(assert(wait_journal { face = "sdk", kind = "model_task", jobid = failed,
    phase = "failed" }).over_minute, true)
  models.config { per_minute_overflow = "delay" }
end)

test("per_minute_overflow \"refuse\": 45009 at create (zonelab before issue 16)", function()
  models.config { per_minute_overflow = "refuse" }
  next_minute()
  create("p")
  create("pdk")
  assert_eq(as("p", "create_ww_model_task", { ability_id = "ww_prompt", msg_list = hello }).errcode,
    45009)
  assert_eq(models.config({ defaults = true, per_minute_budget = 0 }).per_minute_overflow, "delay")
end)

test("no minute with room within 24 h: the task fails", function()
  -- per_minute_budget 0: no minute ever has room
  local r = status("p", create("p"))
  assert_eq({ r.errcode, r.status }, { 45009, 2 })
  assert_eq(task(create("self")).phase ~= "failed", true, "self-built apps are not counted")
end)

test("the daily limit stays a refusal at create: 45009", function()
  -- "每企业每天不超过1万次（按调用次数限制）" (here 1 more call today)
  models.config { defaults = true }
  clock.advance(86400)
  tokens = {} -- a day later the apps fetch new tokens
  models.config { daily_budget = { ww_model = 1 } }
  create("q")
  assert_eq(as("q", "create_ww_model_task", { ability_id = "ww_prompt", msg_list = hello }).errcode,
    45009)
  models.config { defaults = true }
end)
