-- Keyword rule limits and errcodes (sdk-api.md §4): name and word lengths, list sizes, flags
-- without words, behaviour values, the applicable range's scope checks, 500 rules per corp.
local invoke = require("invoke")
scenario { world = "default" }

local function create(body)
  return invoke("create_rule", body)
end

local function words(n, len)
  local t = {}
  for i = 1, n do
    t[i] = string.rep("w", len - #tostring(i)) .. i
  end
  return t
end

-- a rule with one word and the given applicable range
local function ranged(ar)
  return { name = "r", keyword = { word_list = { "x" } }, applicable_range = ar }
end

test("name: required, 1 to 20 characters (not bytes)", function()
  assert_eq(create { keyword = { word_list = { "x" } } }.errcode, 40058, "no name")
  assert_eq(create { name = "", keyword = { word_list = { "x" } } }.errcode, 40058, "empty")
  assert_eq(create { name = string.rep("n", 21), keyword = { word_list = { "x" } } }.errcode, 40058)
  assert_eq(create { name = string.rep("n", 20), keyword = { word_list = { "x" } } }.errcode, 0)
  assert_eq(create { name = string.rep("关", 20), keyword = { word_list = { "x" } } }.errcode, 0,
    "20 Chinese characters are 60 bytes but 20 characters")
end)

test("words: at most 20, each 1 to 32 characters", function()
  assert_eq(create { name = "r", keyword = { word_list = words(20, 32) } }.errcode, 0)
  assert_eq(create { name = "r", keyword = { word_list = words(21, 5) } }.errcode, 40058)
  assert_eq(create { name = "r", keyword = { word_list = words(1, 33) } }.errcode, 40058)
  assert_eq(create { name = "r", keyword = { word_list = { "" } } }.errcode, 40058)
  assert_eq(create { name = "r", keyword = { word_list = { string.rep("词", 32) } } }.errcode, 0)
  assert_eq(create { name = "r", applicable_range = { exclude_keyword = { word_list = words(21, 3) } },
    keyword = { word_list = { "x" } } }.errcode, 40058, "blacklist: at most 20 words")
end)

test("flags need words; some list is required; trim is taken without exact", function()
  assert_eq(create { name = "r", keyword = { is_case_sensitive = 0 },
    semantics = { semantics_list = { 2 } } }.errcode, 710650)
  assert_eq(create { name = "r", keyword = { match_rule = 1, word_list = array() },
    semantics = { semantics_list = { 2 } } }.errcode, 710650)
  assert_eq(create { name = "r" }.errcode, 710610)
  assert_eq(create { name = "r", keyword = { word_list = array() },
    semantics = { semantics_list = array() } }.errcode, 710610)
  -- is_trim_msg: "默认为否`仅match_rule=1时生效`" (doc 53346): taken, with no effect
  -- (rules_vendor_examples.lua)
  assert_eq(create { name = "r", keyword = { word_list = { "x" }, is_trim_msg = 1 } }.errcode, 0)
  assert_eq(create { name = "r", keyword = { word_list = { "x" }, is_trim_msg = 1,
    match_rule = 1 } }.errcode, 0)
  assert_eq(create { name = "r", keyword = { word_list = { "x" }, match_rule = 2 } }.errcode, 40058)
end)

test("key behaviours are 1..12", function()
  assert_eq(create { name = "r", semantics = { semantics_list = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10,
    11, 12 } } }.errcode, 0)
  assert_eq(create { name = "r", semantics = { semantics_list = { 13 } } }.errcode, 710648)
  assert_eq(create { name = "r", semantics = { semantics_list = { 0 } } }.errcode, 710648)
end)

test("applicable range: scope checks and list limits", function()
  assert_eq(create(ranged { chat = { id_list = { "wr_internal_01", "wr_customer_01" } },
    user = { id_list = { "zhangsan" } }, external_contact = { id_list = { "wm_cust_01" } },
    target_type = { type_list = { 1, 2 } }, session_type = { session_type_list = { 1, 2 } },
    exclude_mobile = { mobile_list = { "13800000000" } },
    exclude_bank_card = { bank_card_list = { "6222020200112233446" } },
    exclude_email = { email_list = { "boss@example.com" } },
    voice_match_msgtype = { type_list = { 6, 21 } }, msg_scope = 3 }).errcode, 0)
  assert_eq(create(ranged { chat = { id_list = { "wr_nope" } } }).errcode, 710606)
  assert_eq(create(ranged { department = { id_list = { 99 } } }).errcode, 710607,
    "部门不在授权范围内: 99 is no department of the corp")
  assert_eq(create(ranged { department = { id_list = { 1, 2 } } }).errcode, 0,
    "the app archives the corp's own scope: every department of the corp is inside it")
  assert_eq(create(ranged { user = { id_list = { "nobody" } } }).errcode, 710608)
  assert_eq(create(ranged { external_contact = { id_list = { "wm_nobody" } } }).errcode, 710609)
  assert_eq(create(ranged { exclude_mobile = { mobile_list = { "555-1234" } } }).errcode, 710621)
  assert_eq(create(ranged { exclude_mobile = { mobile_list = { "+8612345679876" } } }).errcode, 0,
    "the page's own example (doc 53346)")
  assert_eq(create(ranged { exclude_bank_card = { bank_card_list = { "12ab" } } }).errcode, 710622)
  assert_eq(create(ranged { session_type = { session_type_list = { 3 } } }).errcode, 710615)
  assert_eq(create(ranged { msg_scope = 4 }).errcode, 40058)
  assert_eq(create(ranged { target_type = { type_list = { 3 } } }).errcode, 40058)
  assert_eq(create(ranged { chat_type = { type_list = { 0 } } }).errcode, 40058)
  assert_eq(create(ranged { exclude_email = { email_list = { "not-an-email" } } }).errcode, 40058)
  assert_eq(create(ranged { voice_match_msgtype = { type_list = { 7 } } }).errcode, 40058)

  local chats = {}
  for i = 1, 2001 do
    chats[i] = "wr_internal_01"
  end
  assert_eq(create(ranged { chat = { id_list = chats } }).errcode, 710649, "2001 chat ids")
  chats[2001] = nil
  assert_eq(create(ranged { chat = { id_list = chats } }).errcode, 0, "2000 chat ids")

  local mobiles = {}
  for i = 1, 101 do
    mobiles[i] = string.format("138%08d", i)
  end
  assert_eq(create(ranged { exclude_mobile = { mobile_list = mobiles } }).errcode, 40058,
    "101 mobiles")
end)

test("update_rule checks like create_rule", function()
  local id = create { name = "u", keyword = { word_list = { "x" } } }.rule_id
  assert_eq(invoke("update_rule", { rule_id = id, name = string.rep("n", 21) }).errcode, 40058)
  assert_eq(invoke("update_rule", { rule_id = id,
    applicable_range = { user = { id_list = { "nobody" } } } }).errcode, 710608)
  assert_eq(invoke("update_rule", { rule_id = id, semantics = { semantics_list = { 99 } } }).errcode,
    710648)
  assert_eq(invoke("update_rule", { rule_id = id, keyword = { word_list = array() } }).errcode, 710610)
  assert_eq(invoke("get_rule_detail", { rule_id = id }).keyword.word_list, { "x" }, "unchanged")
end)

test("at most 500 rules per corp: 710619, and room again after delete_rule", function()
  local count, cursor = 0, nil
  repeat
    local l = invoke("get_rule_list", { limit = 1000, cursor = cursor })
    count = count + #l.rule_list
    cursor = l.next_cursor
  until not l.has_more
  local last
  for _ = count + 1, 500 do
    local d = create { name = "fill", semantics = { semantics_list = { 1 } } }
    assert_eq(d.errcode, 0, d.errmsg)
    last = d.rule_id
  end
  assert_eq(create { name = "one too many", semantics = { semantics_list = { 1 } } }.errcode, 710619)
  assert_eq(invoke("delete_rule", { rule_id = last }).errcode, 0)
  assert_eq(create { name = "fits again", semantics = { semantics_list = { 1 } } }.errcode, 0)
  local total, more = 0, true
  cursor = nil
  while more do
    local l = invoke("get_rule_list", { limit = 1000, cursor = cursor })
    total = total + #l.rule_list
    cursor, more = l.next_cursor, l.has_more
  end
  assert_eq(total, 500)
end)
