-- Two apps of one corp share zone-demo: each lists and changes only its own knowledge sets
-- (another app's set is 790024), an upload_media id serves only the app that uploaded it
-- (40007), and events go to the apps a set is authorised to that chose a receiving program.
local apps = require("two_apps")
scenario { world = "worlds/two_apps.json" }

local a, b, docs_b

test("each app lists and changes only its own sets", function()
  a = apps.a("knowledge_base_create", { kb_name = "alpha", doc_list = {
    { doc_name = "a", type = 101, web_url = "https://example.com/a" } } }).kb_id
  local d = apps.b("knowledge_base_create", { kb_name = "beta", doc_list = {
    { doc_name = "b", type = 101, web_url = "https://example.com/b" } } })
  b, docs_b = d.kb_id, d.doc_list
  assert_true(a and b and a ~= b, "two sets")
  assert_eq(apps.a("knowledge_base_list", {}).kb_info_list, { { kb_id = a, kb_name = "alpha" } })
  assert_eq(apps.b("knowledge_base_list", {}).kb_info_list, { { kb_id = b, kb_name = "beta" } })
  assert_eq(apps.a("knowledge_base_detail", { kb_id = b }).errcode, 790024, "b's set")
  assert_eq(apps.a("knowledge_base_delete", { kb_id = b }).errcode, 790024)
  assert_eq(apps.b("knowledge_base_detail", { kb_id = b }).kb_name, "beta")
end)

test("an upload_media id is usable by the app that uploaded it only", function()
  local m = upload_media("b.pdf", "%PDF-1.4 for b", { token = apps.token("b") })
  assert_eq(m.errcode, 0, m.errmsg)
  local doc = { { doc_name = "b.pdf", type = 2, file_media_id = m.media_id } }
  assert_eq(apps.a("knowledge_base_add_doc", { kb_id = a, doc_list = doc }).errcode, 40007)
  assert_eq(apps.b("knowledge_base_add_doc", { kb_id = b, doc_list = doc }).errcode, 0)
end)

test("events go to each app the set is authorised to, through its receiving program", function()
  -- only app a chose a receiving program
  assert_eq(app("set_receive_callback", { program_id = "zone-demo" },
    { token = apps.token("a") }).errcode, 0)
  local r = knowledge { action = "authorise", kb_id = b, agentid = 1000002 }
  assert_eq(r.events, { { agentid = 1000002, program_id = "zone-demo",
    event_type = "auth_knowledge_base" } })
  assert_eq(#apps.a("knowledge_base_list", {}).kb_info_list, 2, "a lists b's set now")
  assert_eq(apps.a("knowledge_base_detail", { kb_id = b }).errcode, 790024,
    "but only b, its creator, may use the set APIs on it")

  -- learning of b's new document is announced to a (b has no receiving program)
  local d = apps.b("knowledge_base_add_doc", { kb_id = b, doc_list = {
    { doc_name = "c", type = 101, web_url = "https://example.com/c" } } })
  clock.advance(2)
  local e = assert(wait_journal({ face = "program", kind = "event", event = {
    knowledge_base_learn_done = { doc_id = d.doc_list[1].docid } } }, { timeout = 5 }))
  assert_eq(e.agentid, 1000002)

  -- b deletes its set: a hears of it, b (the deleter) does not
  assert_eq(apps.b("knowledge_base_delete", { kb_id = b }).errcode, 0)
  e = assert(wait_journal({ face = "program", kind = "event",
    event = { event_type = "delete_knowledge_base" } }, { timeout = 5 }))
  assert_eq(e.agentid, 1000002)
  assert_eq(e.event.delete_knowledge_base, { knowledge_base_id = b, knowledge_base_name = "beta" })
  assert_eq(apps.a("knowledge_base_list", {}).kb_info_list, { { kb_id = a, kb_name = "alpha" } })
  assert_eq(apps.a("knowledge_base_detail", { kb_id = b }).errcode, 790034)
end)

test("a revoke for an app without a receiving program changes the list, sends nothing", function()
  local r = knowledge { action = "create", kb_name = "for b", agentid = 1000003 }
  assert_eq(#r.events, 0, "b has no receiving program")
  assert_eq(#apps.b("knowledge_base_list", {}).kb_info_list, 1)
  assert_eq(#knowledge({ action = "revoke", kb_id = r.kb_id, agentid = 1000003 }).events, 0)
  assert_eq(#apps.b("knowledge_base_list", {}).kb_info_list, 0)
end)
