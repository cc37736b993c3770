-- Two apps of one corp share zone-demo: each lists and changes only its own knowledge sets
-- (another app's set is 790024), an upload_media id serves only the app that uploaded it
-- (40007), and events go to the apps a set is authorised to that chose a receiving program.
local E = '"errcode":0,"errmsg":""'
local DOC_IN = '{"doc_name":"","type":0,"file_media_id":"","web_url":""}'
local DOC_OUT = '{"doc_name":"","type":0,"file_media_id":"","web_url":"","docid":0}'
local ability = function(id, input, output)
  return { ability_id = id, input_protocol = input, output_protocol = "{" .. E .. output .. "}" }
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
      apps = { app_of(1000002, "kb-secret-a"), app_of(1000003, "kb-secret-b") },
      programs = { {
        program_id = "zone-demo",
        role = "program",
        agentids = { 1000002, 1000003 },
        abilities = {
          ability("invoke_knowledge_base_list", "{}", ',"kb_info_list":[{"kb_id":"","kb_name":""}]'),
          ability("invoke_knowledge_base_create", '{"kb_name":"","doc_list":[' .. DOC_IN .. "]}",
            ',"kb_id":"","doc_list":[' .. DOC_OUT .. "]"),
          ability("invoke_knowledge_base_detail", '{"kb_id":""}',
            ',"kb_id":"","kb_name":"","doc_list":[{"docid":0,"doc_name":"","type":0,"web_url":"",'
            .. '"status":0}]'),
          ability("invoke_knowledge_base_add_doc", '{"kb_id":"","doc_list":[' .. DOC_IN .. "]}",
            ',"doc_list":[' .. DOC_OUT .. "]"),
          ability("invoke_knowledge_base_delete", '{"kb_id":""}', ""),
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

local a, b, docs_b

test("each app lists and changes only its own sets", function()
  tokens.a = gettoken("wwzonelab0000001", "kb-secret-a").access_token
  tokens.b = gettoken("wwzonelab0000001", "kb-secret-b").access_token
  a = sdk("a", "knowledge_base_create", { kb_name = "alpha", doc_list = {
    { doc_name = "a", type = 101, web_url = "https://example.com/a" } } }).kb_id
  local d = sdk("b", "knowledge_base_create", { kb_name = "beta", doc_list = {
    { doc_name = "b", type = 101, web_url = "https://example.com/b" } } })
  b, docs_b = d.kb_id, d.doc_list
  assert_true(a and b and a ~= b, "two sets")
  assert_eq(sdk("a", "knowledge_base_list", {}).kb_info_list, { { kb_id = a, kb_name = "alpha" } })
  assert_eq(sdk("b", "knowledge_base_list", {}).kb_info_list, { { kb_id = b, kb_name = "beta" } })
  assert_eq(sdk("a", "knowledge_base_detail", { kb_id = b }).errcode, 790024, "b's set")
  assert_eq(sdk("a", "knowledge_base_delete", { kb_id = b }).errcode, 790024)
  assert_eq(sdk("b", "knowledge_base_detail", { kb_id = b }).kb_name, "beta")
end)

test("an upload_media id is usable by the app that uploaded it only", function()
  local m = upload_media("b.pdf", "%PDF-1.4 for b", { token = tokens.b })
  assert_eq(m.errcode, 0, m.errmsg)
  local doc = { { doc_name = "b.pdf", type = 2, file_media_id = m.media_id } }
  assert_eq(sdk("a", "knowledge_base_add_doc", { kb_id = a, doc_list = doc }).errcode, 40007)
  assert_eq(sdk("b", "knowledge_base_add_doc", { kb_id = b, doc_list = doc }).errcode, 0)
end)

test("events go to each app the set is authorised to, through its receiving program", function()
  -- only app a chose a receiving program
  assert_eq(app("set_receive_callback", { program_id = "zone-demo" }, { token = tokens.a }).errcode, 0)
  local r = knowledge { action = "authorise", kb_id = b, agentid = 1000002 }
  assert_eq(r.events, { { agentid = 1000002, program_id = "zone-demo",
    event_type = "auth_knowledge_base" } })
  assert_eq(#sdk("a", "knowledge_base_list", {}).kb_info_list, 2, "a lists b's set now")
  assert_eq(sdk("a", "knowledge_base_detail", { kb_id = b }).errcode, 790024,
    "but only b, its creator, may use the set APIs on it")

  -- learning of b's new document is announced to a (b has no receiving program)
  local d = sdk("b", "knowledge_base_add_doc", { kb_id = b, doc_list = {
    { doc_name = "c", type = 101, web_url = "https://example.com/c" } } })
  clock.advance(2)
  local e = assert(wait_journal({ face = "program", kind = "event", event = {
    knowledge_base_learn_done = { doc_id = d.doc_list[1].docid } } }, { timeout = 5 }))
  assert_eq(e.agentid, 1000002)

  -- b deletes its set: a hears of it, b (the deleter) does not
  assert_eq(sdk("b", "knowledge_base_delete", { kb_id = b }).errcode, 0)
  e = assert(wait_journal({ face = "program", kind = "event",
    event = { event_type = "delete_knowledge_base" } }, { timeout = 5 }))
  assert_eq(e.agentid, 1000002)
  assert_eq(e.event.delete_knowledge_base, { knowledge_base_id = b, knowledge_base_name = "beta" })
  assert_eq(sdk("a", "knowledge_base_list", {}).kb_info_list, { { kb_id = a, kb_name = "alpha" } })
  assert_eq(sdk("a", "knowledge_base_detail", { kb_id = b }).errcode, 790034)
end)

test("a revoke for an app without a receiving program changes the list, sends nothing", function()
  local r = knowledge { action = "create", kb_name = "for b", agentid = 1000003 }
  assert_eq(#r.events, 0, "b has no receiving program")
  assert_eq(#sdk("b", "knowledge_base_list", {}).kb_info_list, 1)
  assert_eq(#knowledge({ action = "revoke", kb_id = r.kb_id, agentid = 1000003 }).events, 0)
  assert_eq(#sdk("b", "knowledge_base_list", {}).kb_info_list, 0)
end)
