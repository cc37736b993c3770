-- Knowledge sets through zone-demo's invoke_<api> abilities (sdk-api.md §5): create with a
-- web link and an uploaded file, list (and its legacy name document_list), detail with each
-- document's status, add, remove, rename, delete, and the errcodes of unknown, malformed and
-- deleted kb_ids.
local invoke = require("invoke")
scenario { world = "default" }

-- the SDK answer of invoke_<api>, as zone-demo returns it
local kb, media, docs

test("upload_media gives a media id for a document", function()
  local r = upload_media("guide.pdf", "%PDF-1.4 a tiny guide")
  assert_eq(r.errcode, 0, r.errmsg)
  assert_eq(r.type, "file")
  assert_match(r.media_id, "^md_%x+$")
  media = r.media_id
end)

test("knowledge_base_create answers kb_id and the documents with their docids", function()
  assert_true(media, "the first test uploaded a file")
  local d = invoke("knowledge_base_create", {
    kb_name = "售后 FAQ",
    doc_list = {
      { doc_name = "guide.pdf", type = 2, file_media_id = media },
      { doc_name = "returns page", type = 101, web_url = "https://example.com/returns" },
    },
  })
  assert_eq(d.errcode, 0, d.errmsg)
  assert_match(d.kb_id, "^kb_%x+$")
  kb = d.kb_id
  assert_eq(#d.doc_list, 2)
  assert_sub(d.doc_list[1], { doc_name = "guide.pdf", type = 2, file_media_id = media })
  assert_sub(d.doc_list[2], { doc_name = "returns page", type = 101,
    web_url = "https://example.com/returns" })
  assert_true(math.type(d.doc_list[1].docid) == "integer" and d.doc_list[1].docid > 0, "a docid")
  assert_true(d.doc_list[2].docid ~= d.doc_list[1].docid, "docids differ")
  docs = { d.doc_list[1].docid, d.doc_list[2].docid }
end)

test("the set is listed at once, also under the legacy name document_list", function()
  local l = invoke("knowledge_base_list", {})
  assert_eq(l, { errcode = 0, errmsg = "ok", kb_info_list = { { kb_id = kb, kb_name = "售后 FAQ" } } })
  assert_eq(invoke("document_list", {}).kb_info_list, l.kb_info_list)
end)

test("detail shows documents learning (2), then learned (0) after 2 s of virtual time", function()
  local d = invoke("knowledge_base_detail", { kb_id = kb })
  assert_eq(d, { errcode = 0, errmsg = "ok", kb_id = kb, kb_name = "售后 FAQ", doc_list = {
    { docid = docs[1], doc_name = "guide.pdf", type = 2, web_url = "", status = 2 },
    { docid = docs[2], doc_name = "returns page", type = 101,
      web_url = "https://example.com/returns", status = 2 },
  } })
  clock.advance(2)
  assert(wait_journal({ face = "control", kind = "knowledge_learn_done", docid = docs[2] },
    { timeout = 5 }))
  d = invoke("knowledge_base_detail", { kb_id = kb })
  assert_eq(d.doc_list[1].status, 0)
  assert_eq(d.doc_list[2].status, 0)
end)

test("add_doc, remove_doc and modify_name", function()
  local a = invoke("knowledge_base_add_doc", { kb_id = kb, doc_list = {
    { doc_name = "prices", type = 101, web_url = "http://example.com/prices" } } })
  assert_eq(a.errcode, 0, a.errmsg)
  assert_eq(#a.doc_list, 1)
  assert_sub(a.doc_list[1], { doc_name = "prices", type = 101, web_url = "http://example.com/prices" })
  local added = a.doc_list[1].docid

  assert_eq(invoke("knowledge_base_remove_doc", { kb_id = kb, docid_list = { docs[1] } }).errcode, 0)
  assert_eq(invoke("knowledge_base_modify_name", { kb_id = kb, kb_name = "FAQ v2" }).errcode, 0)
  local d = invoke("knowledge_base_detail", { kb_id = kb })
  assert_eq(d.kb_name, "FAQ v2")
  assert_eq(#d.doc_list, 2)
  assert_eq(d.doc_list[1].docid, docs[2])
  assert_eq(d.doc_list[2].docid, added)
  assert_eq(invoke("knowledge_base_list", {}).kb_info_list[1].kb_name, "FAQ v2")

  -- a docid that is not in the set; removing every document
  assert_eq(invoke("knowledge_base_remove_doc", { kb_id = kb, docid_list = { docs[1] } }).errcode,
    40058, "removed already")
  assert_eq(invoke("knowledge_base_remove_doc", { kb_id = kb, docid_list = { docs[2], added } })
    .errcode, 790028, "a set keeps one document")
  assert_eq(#invoke("knowledge_base_detail", { kb_id = kb }).doc_list, 2, "nothing removed")
end)

test("unknown and malformed kb_ids: 800000; without kb_id: 40058", function()
  for _, api in ipairs { "knowledge_base_detail", "knowledge_base_delete" } do
    assert_eq(invoke(api, { kb_id = "kb_0000000000000000" }).errcode, 800000, api .. " unknown")
    assert_eq(invoke(api, { kb_id = "not a kb" }).errcode, 800000, api .. " malformed")
    assert_eq(invoke(api, {}).errcode, 40058, api .. " without kb_id")
  end
  assert_eq(invoke("knowledge_base_modify_name", { kb_id = "kb_x", kb_name = "n" }).errcode, 800000)
end)

test("knowledge_base_delete: gone from the list; every later use is 790034", function()
  assert_eq(invoke("knowledge_base_delete", { kb_id = kb }).errcode, 0)
  assert_eq(#invoke("knowledge_base_list", {}).kb_info_list, 0)
  assert_eq(invoke("knowledge_base_detail", { kb_id = kb }).errcode, 790034)
  assert_eq(invoke("knowledge_base_modify_name", { kb_id = kb, kb_name = "again" }).errcode, 790034)
  assert_eq(invoke("knowledge_base_add_doc", { kb_id = kb, doc_list = {
    { doc_name = "x", type = 101, web_url = "https://example.com/x" } } }).errcode, 790034)
  assert_eq(invoke("knowledge_base_remove_doc", { kb_id = kb, docid_list = { docs[2] } }).errcode,
    790034)
  assert_eq(invoke("knowledge_base_delete", { kb_id = kb }).errcode, 790034, "deleting twice")
end)
