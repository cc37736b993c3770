-- Keyword rules through zone-demo's invoke_<api> abilities: create, list (has_more is a bool),
-- detail (defaults filled in), update (omitted fields kept, an empty range list clears the
-- item), delete, and the errcodes of unknown and malformed rule ids.
local invoke = require("invoke")
scenario { world = "default" }

-- the SDK answer of invoke_<api>, as zone-demo returns it
local id

test("create_rule answers a rule_id; get_rule_detail shows the body with defaults", function()
  local t0 = clock.now()
  local d = invoke("create_rule", {
    name = "refunds",
    keyword = { word_list = { "refund", "退款" } },
    applicable_range = { chat_type = { type_list = { 1 } }, msg_scope = 3 },
  })
  assert_eq(d.errcode, 0, d.errmsg)
  assert_match(d.rule_id, "^kwr_%x+$")
  id = d.rule_id

  local det = invoke("get_rule_detail", { rule_id = id })
  assert_eq(det, {
    errcode = 0, errmsg = "ok", name = "refunds",
    keyword = { word_list = { "refund", "退款" }, is_case_sensitive = 1, match_rule = 0,
      is_trim_msg = 0 },
    semantics = { semantics_list = array() },
    applicable_range = { chat_type = { type_list = { 1 } }, msg_scope = 3 },
  })

  local l = invoke("get_rule_list", {})
  assert_eq(l.errcode, 0)
  assert_eq(l.has_more, false, "has_more is a bool")
  assert_eq(#l.rule_list, 1)
  assert_eq(l.rule_list[1].rule_id, id)
  assert_eq(l.rule_list[1].name, "refunds")
  assert_true(l.rule_list[1].create_time >= t0 and l.rule_list[1].create_time <= t0 + 60,
    "create_time is the virtual now in Unix seconds")
  assert_true(type(l.next_cursor) == "string" and #l.next_cursor > 0, "a next_cursor")
end)

test("update_rule changes what it names and keeps the rest", function()
  assert_true(id, "the first test made a rule")
  assert_eq(invoke("update_rule", { rule_id = id, name = "refunds v2",
    semantics = { semantics_list = { 2, 3 } },
    keyword = { is_case_sensitive = 0 } }).errcode, 0)
  local det = invoke("get_rule_detail", { rule_id = id })
  assert_eq(det.name, "refunds v2")
  assert_eq(det.keyword, { word_list = { "refund", "退款" }, is_case_sensitive = 0, match_rule = 0,
    is_trim_msg = 0 })
  assert_eq(det.semantics.semantics_list, { 2, 3 })
  assert_eq(det.applicable_range, { chat_type = { type_list = { 1 } }, msg_scope = 3 })

  -- an empty list clears that item of the applicable range
  assert_eq(invoke("update_rule", { rule_id = id,
    applicable_range = { chat_type = { type_list = array() } } }).errcode, 0)
  assert_eq(invoke("get_rule_detail", { rule_id = id }).applicable_range, { msg_scope = 3 })

  -- clearing the words leaves the behaviours: still a valid rule
  assert_eq(invoke("update_rule", { rule_id = id, keyword = { word_list = array() } }).errcode, 0)
  -- clearing the behaviours too: 710610, and the rule is unchanged
  assert_eq(invoke("update_rule", { rule_id = id, semantics = { semantics_list = array() } }).errcode,
    710610)
  assert_eq(invoke("get_rule_detail", { rule_id = id }).semantics.semantics_list, { 2, 3 })
end)

test("unknown and malformed rule ids", function()
  for _, api in ipairs { "get_rule_detail", "update_rule", "delete_rule" } do
    assert_eq(invoke(api, { rule_id = "kwr_0000000000000000" }).errcode, 710612, api .. " unknown")
    assert_eq(invoke(api, { rule_id = "rule-1" }).errcode, 710620, api .. " malformed")
    assert_eq(invoke(api, {}).errcode, 40058, api .. " without rule_id")
  end
end)

test("delete_rule removes it from the list and from get_rule_detail", function()
  assert_true(id, "the first test made a rule")
  assert_eq(invoke("delete_rule", { rule_id = id }).errcode, 0)
  assert_eq(invoke("get_rule_detail", { rule_id = id }).errcode, 710612)
  assert_eq(invoke("delete_rule", { rule_id = id }).errcode, 710612, "deleting twice")
  local l = invoke("get_rule_list", {})
  assert_eq(#l.rule_list, 0)
  assert_eq(l.has_more, false)
end)

test("get_rule_list pages with limit and next_cursor", function()
  local made = {}
  for i = 1, 5 do
    local d = invoke("create_rule", { name = "r" .. i, semantics = { semantics_list = { 2 } } })
    assert_eq(d.errcode, 0, d.errmsg)
    made[i] = d.rule_id
  end
  local seen, cursor, pages = {}, nil, 0
  repeat
    local l = invoke("get_rule_list", { limit = 2, cursor = cursor })
    assert_eq(l.errcode, 0, l.errmsg)
    assert_true(#l.rule_list <= 2, "at most limit rules")
    for _, r in ipairs(l.rule_list) do
      seen[#seen + 1] = r.rule_id
    end
    cursor = l.next_cursor
    pages = pages + 1
  until l.has_more == false
  assert_eq(seen, made, "every rule once, in creation order")
  assert_eq(pages, 3)

  -- the last cursor stays usable: it lists the rules created after it
  local d = invoke("create_rule", { name = "r6", semantics = { semantics_list = { 3 } } })
  local l = invoke("get_rule_list", { cursor = cursor })
  assert_eq(#l.rule_list, 1)
  assert_eq(l.rule_list[1].rule_id, d.rule_id)

  assert_eq(invoke("get_rule_list", { cursor = "not-a-cursor" }).errcode, 710611)
  assert_eq(invoke("get_rule_list", { cursor = "" }).errcode, 40058)
  assert_eq(invoke("get_rule_list", { limit = 1001 }).errcode, 40058)
  assert_eq(invoke("get_rule_list", { limit = -1 }).errcode, 40058)
  -- a sync_msg cursor is not a get_rule_list cursor
  local s = invoke("sync_msg", { limit = 1 })
  assert_eq(invoke("get_rule_list", { cursor = s.next_cursor }).errcode, 710611)
end)
