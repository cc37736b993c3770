-- The corp's side of knowledge sets (knowledge{}): sets made in the admin console and
-- authorised to the app (auth_knowledge_base), revoked (unauth_knowledge_base) and deleted
-- (delete_knowledge_base); what the SDK APIs answer on such sets (790024, 790034), and an app
-- without the knowledge-set grant (710643).
local invoke = require("invoke")
scenario { world = "default" }

-- the next event of type to the program, checked against the set
local function event(type, kb_id, name)
  local e = assert(wait_journal({ face = "program", kind = "event", event = { event_type = type } },
    { timeout = 5 }))
  assert_eq(e.agentid, 1000002)
  assert_eq(e.event[type], { knowledge_base_id = kb_id, knowledge_base_name = name })
  return e
end

local console

test("a console set authorised to the app: auth_knowledge_base, and it is listed", function()
  assert_eq(app("set_receive_callback", { program_id = "zone-demo" }).errcode, 0)
  local r = knowledge { action = "create", kb_name = "Policies", agentid = 1000002 }
  console = r.kb_id
  assert_match(console, "^kb_%x+$")
  assert_eq(r.events, { { agentid = 1000002, program_id = "zone-demo",
    event_type = "auth_knowledge_base" } })
  local t0 = clock.now()
  local e = event("auth_knowledge_base", console, "Policies")
  assert_true(math.abs(e.event.timestamp - t0) <= 1, "timestamp: the time of the authorisation")
  -- the program received it: the app reads it back through get_callback_data
  local n = assert(wait_notification { timeout = 5 })
  assert_eq(call("get_callback_data", {}, { notify_id = n.notify_id }).data.auth_knowledge_base,
    { knowledge_base_id = console, knowledge_base_name = "Policies" })
  assert_eq(invoke("knowledge_base_list", {}).kb_info_list, { { kb_id = console, kb_name = "Policies" } })
end)

test("the app may list a console set but not use the set APIs on it: 790024", function()
  assert_eq(invoke("knowledge_base_detail", { kb_id = console }).errcode, 790024)
  assert_eq(invoke("knowledge_base_modify_name", { kb_id = console, kb_name = "mine" }).errcode, 790024)
  assert_eq(invoke("knowledge_base_add_doc", { kb_id = console, doc_list = {
    { doc_name = "x", type = 101, web_url = "https://example.com/x" } } }).errcode, 790024)
  assert_eq(invoke("knowledge_base_delete", { kb_id = console }).errcode, 790024)
end)

test("revoke: unauth_knowledge_base, gone from the list; authorise again", function()
  local r = knowledge { action = "revoke", kb_id = console }
  assert_eq(r.changed, true)
  assert_eq(r.events[1].event_type, "unauth_knowledge_base")
  event("unauth_knowledge_base", console, "Policies")
  assert_eq(#invoke("knowledge_base_list", {}).kb_info_list, 0)
  assert_eq(knowledge({ action = "revoke", kb_id = console }).changed, false, "revoked already")
  assert_eq(#knowledge({ action = "revoke", kb_id = console }).events, 0, "no second event")

  knowledge { action = "authorise", kb_id = console, agentid = 1000002 }
  event("auth_knowledge_base", console, "Policies")
  assert_eq(#invoke("knowledge_base_list", {}).kb_info_list, 1)
end)

test("delete: delete_knowledge_base to the apps it was authorised to; then 790034", function()
  local r = knowledge { action = "delete", kb_id = console }
  assert_eq(r.events[1].event_type, "delete_knowledge_base")
  event("delete_knowledge_base", console, "Policies")
  assert_eq(#invoke("knowledge_base_list", {}).kb_info_list, 0)
  assert_eq(invoke("knowledge_base_detail", { kb_id = console }).errcode, 790034)
  local ok, why = pcall(knowledge, { action = "authorise", kb_id = console })
  assert_true(not ok, "a deleted set cannot be authorised")
  assert_match(why, "deleted")
end)

test("a set the app created, revoked by the corp: 790024 until authorised again", function()
  local d = invoke("knowledge_base_create", { kb_name = "Mine", doc_list = {
    { doc_name = "a", type = 101, web_url = "https://example.com/a" } } })
  assert_eq(d.errcode, 0, d.errmsg)
  local kb = d.kb_id
  assert_eq(#journal({ face = "program", kind = "event",
    event = { auth_knowledge_base = { knowledge_base_id = kb } } }), 0,
    "sets created through the API are listed without an event")

  knowledge { action = "revoke", kb_id = kb }
  event("unauth_knowledge_base", kb, "Mine")
  assert_eq(#invoke("knowledge_base_list", {}).kb_info_list, 0)
  for _, api in ipairs { "knowledge_base_detail", "knowledge_base_delete" } do
    assert_eq(invoke(api, { kb_id = kb }).errcode, 790024, api)
  end
  assert_eq(invoke("knowledge_base_remove_doc", { kb_id = kb, docid_list = { d.doc_list[1].docid } })
    .errcode, 790024)

  knowledge { action = "authorise", kb_id = kb }
  event("auth_knowledge_base", kb, "Mine")
  assert_eq(invoke("knowledge_base_detail", { kb_id = kb }).kb_name, "Mine")

  -- the app deletes its own set: no event to itself
  assert_eq(invoke("knowledge_base_delete", { kb_id = kb }).errcode, 0)
  assert(settle())
  assert_eq(#journal({ face = "program", kind = "event",
    event = { delete_knowledge_base = { knowledge_base_id = kb } } }), 0)
end)

test("without the knowledge-set grant every API answers 710643", function()
  local d = invoke("knowledge_base_create", { kb_name = "kept", doc_list = {
    { doc_name = "a", type = 101, web_url = "https://example.com/a" } } })
  assert_eq(knowledge({ action = "grant", granted = false }).granted, false)
  assert_eq(invoke("knowledge_base_list", {}).errcode, 710643)
  assert_eq(invoke("document_list", {}).errcode, 710643)
  assert_eq(invoke("knowledge_base_create", { kb_name = "n", doc_list = {
    { doc_name = "b", type = 101, web_url = "https://example.com/b" } } }).errcode, 710643)
  assert_eq(invoke("knowledge_base_detail", { kb_id = d.kb_id }).errcode, 710643)
  assert_eq(invoke("knowledge_base_delete", { kb_id = "kb_unknown" }).errcode, 710643)
  assert_eq(knowledge({ action = "grant" }).granted, true)
  assert_eq(invoke("knowledge_base_list", {}).kb_info_list, { { kb_id = d.kb_id, kb_name = "kept" } })
end)

test("the console refuses what it cannot do", function()
  for _, spec in ipairs {
    { action = "fly" },
    { action = "authorise", kb_id = "kb_nope" },
    { action = "create" },
    { action = "create", kb_name = "x", agentid = 42 },
    { action = "grant", agentid = 42 },
  } do
    local ok = pcall(knowledge, spec)
    assert_true(not ok, "refused: " .. json.encode(spec))
  end
  local status, r = http("POST", "/_zonelab/knowledge", { action = "revoke" })
  assert_eq(status, 400)
  assert_eq(r.ok, false)
  assert_match(r.error, "kb_id")
end)
