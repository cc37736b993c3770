-- Two apps of one corp share zone-demo: a display component's code, a template's media_id
-- and a jobid each serve only the app they were issued to, and
-- chat_archive_export_finished goes to the receiving program of the app that created the job.
local ability = function(id, input, output)
  return { ability_id = id, input_protocol = input,
    output_protocol = '{"errcode":0,"errmsg":""' .. output .. "}" }
end
local function app_of(agentid, secret)
  return { agentid = agentid, name = "app " .. agentid, secret = secret, callback_url = "",
    token = "zonelabtoken", encoding_aes_key = "zonelabDemoAesKey0123456789abcdefghijKLMNOP" }
end

scenario {
  world = {
    clock_start = 1793808000,
    corps = { {
      corpid = "wwzonelab0000001",
      name = "two apps",
      apps = { app_of(1000002, "ex-secret-a"), app_of(1000003, "ex-secret-b") },
      programs = { {
        program_id = "zone-demo",
        role = "program",
        agentids = { 1000002, 1000003 },
        abilities = {
          ability("invoke_create_chatdata_export_job", '{"code":"","media_id":""}', ',"jobid":""'),
          ability("invoke_get_chatdata_export_job_status", '{"jobid":""}',
            ',"status":0,"result_errcode":0,"result_errmsg":"","result_id":""'),
        },
      } },
      members = { { userid = "zhangsan", name = "Zhang San" } },
      public_keys = { { version = 1, pem_file = "../fixtures/keys/test_v1_public.pem" } },
    } },
  },
}

local tokens = {}

local function sdk(agent, api, req)
  local r = call("invoke_" .. api, req, { token = tokens[agent] })
  assert_eq(r.errcode, 0, "sync_call_program " .. api .. ": " .. tostring(r.errmsg))
  return r.data
end

local media = {}

test("a code and a media_id serve only their own app", function()
  tokens.a = gettoken("wwzonelab0000001", "ex-secret-a").access_token
  tokens.b = gettoken("wwzonelab0000001", "ex-secret-b").access_token
  media.a = upload_media("t.txt", "$userName=zhangsan$", { token = tokens.a }).media_id
  media.b = upload_media("t.txt", "$userName=zhangsan$", { token = tokens.b }).media_id
  local code_b = export_code { agentid = 1000003 }
  local r = sdk("a", "create_chatdata_export_job", { code = code_b, media_id = media.a })
  assert_eq(r.errcode, 40058)
  assert_match(r.errmsg, "issued to another app")
  r = sdk("b", "create_chatdata_export_job", { code = code_b, media_id = media.a })
  assert_eq(r.errcode, 40007, "app a's template")
  assert_eq(sdk("b", "create_chatdata_export_job", { code = code_b, media_id = media.b }).errcode, 0,
    "neither refusal spent the code")
end)

test("a jobid is its app's; the event goes to that app's receiver", function()
  assert_eq(app("set_receive_callback", { program_id = "zone-demo" }, { token = tokens.b }).errcode, 0)
  local a = sdk("a", "create_chatdata_export_job",
    { code = export_code { agentid = 1000002 }, media_id = media.a }).jobid
  local b = sdk("b", "create_chatdata_export_job",
    { code = export_code { agentid = 1000003 }, media_id = media.b }).jobid
  assert_eq(sdk("b", "get_chatdata_export_job_status", { jobid = a }).errcode, 40058)
  clock.advance(3)
  local e = assert(wait_journal({ face = "program", kind = "event",
    event = { chat_archive_export_finished = { jobid = b } } }, { timeout = 5 }))
  assert_eq(e.agentid, 1000003)
  assert_eq(sdk("a", "get_chatdata_export_job_status", { jobid = a }).status, 3)
  sleep(0.2)
  assert_eq(#journal({ face = "program", kind = "event",
    event = { chat_archive_export_finished = { jobid = a } } }), 0,
    "app a chose no receiving program")
end)
