-- Documents learn on the virtual clock (2 s by default) and each one raises
-- knowledge_base_learn_done once, to the program the app chose with set_receive_callback;
-- learn_result{} makes documents fail (learn_status 1) and changes the latency.
local invoke = require("invoke")
scenario { world = "default" }

local function learn_done(docid, timeout)
  return wait_journal({ face = "program", kind = "event",
    event = { event_type = "knowledge_base_learn_done",
      knowledge_base_learn_done = { doc_id = docid } } }, { timeout = timeout or 5 })
end

local kb

test("each document's learning ends with one event, which the program receives", function()
  assert_eq(app("set_receive_callback", { program_id = "zone-demo" }).errcode, 0)
  local d = invoke("knowledge_base_create", { kb_name = "FAQ", doc_list = {
    { doc_name = "a", type = 101, web_url = "https://example.com/a" },
    { doc_name = "b", type = 101, web_url = "https://example.com/b" },
  } })
  assert_eq(d.errcode, 0, d.errmsg)
  kb = d.kb_id
  local t0 = clock.now()
  clock.advance(2)
  for i = 1, 2 do
    local e = assert(learn_done(d.doc_list[i].docid))
    assert_eq(e.agentid, 1000002)
    assert_true(e.event.timestamp >= t0 + 2, "timestamp: the virtual time learning ended")
    assert_eq(e.event.knowledge_base_learn_done, { knowledge_base_id = kb,
      knowledge_base_name = "FAQ", doc_id = d.doc_list[i].docid, learn_status = 0 })
  end
  -- the program stored it and told the app, which reads it back
  local n = assert(wait_notification { timeout = 5 })
  local back = call("get_callback_data", {}, { notify_id = n.notify_id })
  assert_eq(back.data.event_type, "knowledge_base_learn_done")
  assert_eq(back.data.knowledge_base_learn_done.knowledge_base_id, kb)

  clock.advance(60)
  assert(settle())
  assert_eq(#journal({ face = "program", kind = "event",
    event = { event_type = "knowledge_base_learn_done" } }), 2, "once per document")
end)

test("learn_result{docid=} fails one document: status 1 and learn_status 1", function()
  learn_result { latency = 30 }
  local d = invoke("knowledge_base_add_doc", { kb_id = kb, doc_list = {
    { doc_name = "login wall", type = 101, web_url = "https://example.com/private" },
    { doc_name = "open", type = 101, web_url = "https://example.com/open" },
  } })
  assert_eq(d.errcode, 0, d.errmsg)
  local bad, good = d.doc_list[1].docid, d.doc_list[2].docid
  assert_eq(learn_result { docid = bad }.learn_status, 1)
  clock.advance(29)
  assert(settle())
  local det = invoke("knowledge_base_detail", { kb_id = kb })
  assert_eq(det.doc_list[3].status, 2, "still learning after 29 s")
  clock.advance(1)
  assert_eq(assert(learn_done(bad)).event.knowledge_base_learn_done.learn_status, 1)
  assert_eq(assert(learn_done(good)).event.knowledge_base_learn_done.learn_status, 0)
  det = invoke("knowledge_base_detail", { kb_id = kb })
  assert_eq(det.doc_list[3], { docid = bad, doc_name = "login wall", type = 101,
    web_url = "https://example.com/private", status = 1 })
  assert_eq(det.doc_list[4].status, 0)

  -- a document that has finished cannot be changed any more
  local ok, why = pcall(learn_result, { docid = good })
  assert_true(not ok, "refused")
  assert_match(why, "finished learning")
end)

test("learn_result{web_url=} and {doc_name=} fail the documents they name, from now on", function()
  learn_result { latency = 2 }
  learn_result { web_url = "https://example.com/broken" }
  learn_result { doc_name = "bad.xlsx", kb_id = kb }
  local media = upload_media("bad.xlsx", "not a Q&A sheet").media_id
  local d = invoke("knowledge_base_add_doc", { kb_id = kb, doc_list = {
    { doc_name = "broken", type = 101, web_url = "https://example.com/broken" },
    { doc_name = "bad.xlsx", type = 4, file_media_id = media },
    { doc_name = "fine", type = 101, web_url = "https://example.com/fine" },
  } })
  assert_eq(d.errcode, 0, d.errmsg)
  clock.advance(2)
  assert_eq(assert(learn_done(d.doc_list[1].docid)).event.knowledge_base_learn_done.learn_status, 1)
  assert_eq(assert(learn_done(d.doc_list[2].docid)).event.knowledge_base_learn_done.learn_status, 1)
  assert_eq(assert(learn_done(d.doc_list[3].docid)).event.knowledge_base_learn_done.learn_status, 0)

  -- a later rule wins: learn_status 0 undoes the URL's failure
  learn_result { web_url = "https://example.com/broken", learn_status = 0 }
  assert_eq(invoke("knowledge_base_remove_doc", { kb_id = kb, docid_list = { d.doc_list[1].docid } })
    .errcode, 0)
  local again = invoke("knowledge_base_add_doc", { kb_id = kb, doc_list = {
    { doc_name = "broken", type = 101, web_url = "https://example.com/broken" } } })
  clock.advance(2)
  assert_eq(assert(learn_done(again.doc_list[1].docid)).event.knowledge_base_learn_done.learn_status, 0)
end)

test("a document removed, or a set deleted, before learning ends raises nothing", function()
  local d = invoke("knowledge_base_add_doc", { kb_id = kb, doc_list = {
    { doc_name = "gone", type = 101, web_url = "https://example.com/gone" } } })
  local gone = d.doc_list[1].docid
  assert_eq(invoke("knowledge_base_remove_doc", { kb_id = kb, docid_list = { gone } }).errcode, 0)
  local other = invoke("knowledge_base_create", { kb_name = "short-lived", doc_list = {
    { doc_name = "x", type = 101, web_url = "https://example.com/x" } } })
  assert_eq(invoke("knowledge_base_delete", { kb_id = other.kb_id }).errcode, 0)
  clock.advance(5)
  assert(settle())
  assert_eq(#journal({ face = "program", kind = "event", event = {
    knowledge_base_learn_done = { doc_id = gone } } }), 0)
  assert_eq(#journal({ face = "program", kind = "event", event = {
    knowledge_base_learn_done = { knowledge_base_id = other.kb_id } } }), 0)
end)

test("the console's list shows the sets, their creator, authorisations and the latency", function()
  local r = knowledge { action = "list" }
  assert_eq(r.latency_ms, 2000)
  assert_true(#r.sets >= 1, "the console sees the sets")
  assert_eq(r.sets[1].kb_id, kb)
  assert_eq(r.sets[1].creator_agentid, 1000002)
  assert_eq(r.sets[1].authorised, { 1000002 })
end)
