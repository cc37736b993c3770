-- Knowledge-set limits and bad inputs (sdk-api.md §5): names (790032, 790033), document types,
-- web_url (790025, 790029), upload_media ids (40007), 1000 documents per set (790026) and
-- 1000 sets per corp (790027). A failed request changes nothing.
local invoke = require("invoke")
scenario { world = "default" }

local function link(name, url)
  return { doc_name = name, type = 101, web_url = url }
end

local function create(name, docs)
  return invoke("knowledge_base_create", { kb_name = name, doc_list = docs })
end

local kb, media

test("kb_name: 1 to 20 characters, nothing invisible", function()
  assert_eq(create("一二三四五六七八九十一二三四五六七八九十", { link("a", "https://e.com/a") }).errcode, 0,
    "20 Chinese characters")
  assert_eq(create("一二三四五六七八九十一二三四五六七八九十一", { link("a", "https://e.com/a") }).errcode,
    40058, "21 characters")
  assert_eq(create("", { link("a", "https://e.com/a") }).errcode, 40058, "empty")
  assert_eq(create("zero\u{200B}width", { link("a", "https://e.com/a") }).errcode, 790033)
  assert_eq(create("tab\there", { link("a", "https://e.com/a") }).errcode, 790033)
  assert_eq(invoke("knowledge_base_create", { doc_list = { link("a", "https://e.com/a") } }).errcode,
    40058, "no kb_name")
  local d = create("limits", { link("a", "https://e.com/a") })
  kb = d.kb_id
  assert_eq(invoke("knowledge_base_modify_name", { kb_id = kb, kb_name = "bad\u{FEFF}" }).errcode, 790033)
  assert_eq(invoke("knowledge_base_modify_name", { kb_id = kb, kb_name = string.rep("x", 21) }).errcode,
    40058)
  assert_eq(invoke("knowledge_base_detail", { kb_id = kb }).kb_name, "limits", "unchanged")
end)

test("doc_list: 1 to 1000 documents of the types that can be added", function()
  media = upload_media("manual.docx", "PK\3\4 a docx").media_id
  assert_eq(invoke("knowledge_base_create", { kb_name = "x", doc_list = array() }).errcode, 40058)
  assert_eq(invoke("knowledge_base_create", { kb_name = "x" }).errcode, 40058)
  for _, t in ipairs { 8, 9, 10, 16, 1, 3, 7, 100 } do
    assert_eq(invoke("knowledge_base_add_doc", { kb_id = kb, doc_list = {
      { doc_name = "online.docx", type = t, file_media_id = media } } }).errcode, 40058,
      "type " .. t)
  end
  assert_eq(invoke("knowledge_base_add_doc", { kb_id = kb, doc_list = {
    { doc_name = "manual.docx", type = 6 } } }).errcode, 40058, "no file_media_id")
  assert_eq(invoke("knowledge_base_add_doc", { kb_id = kb, doc_list = {
    { doc_name = "page", type = 101 } } }).errcode, 40058, "no web_url")
end)

test("doc_name: at most 200 bytes with the type's extension (790032), nothing invisible", function()
  local function add(name, type)
    return invoke("knowledge_base_add_doc", { kb_id = kb, doc_list = {
      { doc_name = name, type = type, file_media_id = media } } }).errcode
  end
  assert_eq(add("manual.pdf", 6), 790032, "a .pdf name for a docx")
  assert_eq(add("manual.doc", 6), 790032, ".doc is not .docx")
  assert_eq(add(".docx", 6), 790032, "an extension alone")
  assert_eq(add("", 6), 790032, "empty")
  assert_eq(add(string.rep("n", 196) .. ".docx", 6), 790032, "201 bytes")
  assert_eq(add("soft\u{AD}hyphen.docx", 6), 790033)
  assert_eq(add(string.rep("n", 195) .. ".docx", 6), 0, "200 bytes")
  assert_eq(add("UPPER.DOCX", 6), 0, "extensions compare without case")
  assert_eq(add("sheet.xlsx", 4), 0)
  assert_eq(add("old.doc", 5), 0)
  assert_eq(add("paper.pdf", 2), 0)
end)

test("web_url: http or https, at most 1024 bytes (790025), once per set (790029)", function()
  local function add(...)
    return invoke("knowledge_base_add_doc", { kb_id = kb, doc_list = { ... } }).errcode
  end
  assert_eq(add(link("ftp", "ftp://e.com/f")), 790025)
  assert_eq(add(link("no host", "https://")), 790025)
  assert_eq(add(link("space", "https://e.com/a b")), 790025)
  assert_eq(add(link("long", "https://e.com/" .. string.rep("p", 1011))), 790025, "1025 bytes")
  assert_eq(add(link("long", "https://e.com/" .. string.rep("p", 1010))), 0, "1024 bytes")
  assert_eq(add(link("again", "https://e.com/a")), 790029, "the set holds it already")
  assert_eq(add(link("b1", "https://e.com/b"), link("b2", "https://e.com/b")), 790029,
    "twice in one request")
  assert_eq(add(link("b1", "https://e.com/b"), link("bad", "gopher://x")), 790025)
  local urls = {}
  for _, doc in ipairs(invoke("knowledge_base_detail", { kb_id = kb }).doc_list) do
    urls[doc.web_url] = true
  end
  assert_true(not urls["https://e.com/b"], "a failed request adds nothing")
  assert_eq(add(link("B", "HTTPS://E.COM/B")), 0, "the scheme in capitals")
end)

test("file_media_id: an upload_media id of this app, less than 3 days old (40007)", function()
  local function add(id)
    return invoke("knowledge_base_add_doc", { kb_id = kb, doc_list = {
      { doc_name = "f.pdf", type = 2, file_media_id = id } } }).errcode
  end
  assert_eq(add("md_00000000000000000000000000000000"), 40007, "unknown")
  local fresh = upload_media("f.pdf", "%PDF-1.4 ...").media_id
  assert_eq(add(fresh), 0)
  assert_eq(add(fresh), 0, "an id may serve several documents")
  clock.advance(3 * 86400 - 10)
  assert_eq(add(fresh), 0, "still valid")
  clock.advance(10)
  assert_eq(add(fresh), 40007, "3 days old")
end)

test("1000 documents per set: 790026", function()
  local docs = {}
  for i = 1, 1000 do
    docs[i] = link("p" .. i, "https://e.com/p/" .. i)
  end
  local d = create("full", docs)
  assert_eq(d.errcode, 0, d.errmsg)
  assert_eq(#d.doc_list, 1000)
  assert_eq(invoke("knowledge_base_add_doc", { kb_id = d.kb_id, doc_list = {
    link("one more", "https://e.com/more") } }).errcode, 790026)
  docs[1001] = link("p1001", "https://e.com/p/1001")
  assert_eq(create("too full", docs).errcode, 790026)
  assert_eq(invoke("knowledge_base_remove_doc", { kb_id = d.kb_id, docid_list = { d.doc_list[1].docid } })
    .errcode, 0)
  assert_eq(invoke("knowledge_base_add_doc", { kb_id = d.kb_id, doc_list = {
    link("one more", "https://e.com/more") } }).errcode, 0, "room for one again")
end)

test("1000 sets per corp, console ones included: 790027; a deleted one frees a place", function()
  local n = #knowledge({ action = "list" }).sets
  local last
  for i = n + 1, 1000 do
    last = knowledge({ action = "create", kb_name = "c" .. i }).kb_id
  end
  assert_eq(create("one more", { link("a", "https://e.com/a") }).errcode, 790027)
  local ok, why = pcall(knowledge, { action = "create", kb_name = "one more" })
  assert_true(not ok, "the console is bound by the limit too")
  assert_match(why, "1000")
  knowledge { action = "delete", kb_id = last }
  assert_eq(create("one more", { link("a", "https://e.com/a") }).errcode, 0)
end)
