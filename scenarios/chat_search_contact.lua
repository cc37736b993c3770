-- search_contact_or_customer: employees by name, name pinyin and alias; customers by name,
-- name pinyin, remark and remark pinyin, only when a follow-up member is in scope. Members
-- come first (world order), then customers.
scenario { world = "default" }

local function search(req)
  local r = call("invoke_search_contact_or_customer", req)
  assert_eq(r.errcode, 0, "sync_call_program")
  return r.data
end

test("both kinds by default; query_user_type narrows", function()
  local d = search { query_word = "li" }
  assert_eq(d.errcode, 0)
  assert_eq(d.user_list, { { type = 1, id = "lisi" }, { type = 2, id = "wm_cust_02" } })
  assert_eq(d.has_more, 0)
  assert_eq(search({ query_word = "li", query_user_type = 1 }).user_list,
    { { type = 1, id = "lisi" } })
  assert_eq(search({ query_word = "li", query_user_type = 2 }).user_list,
    { { type = 2, id = "wm_cust_02" } })
end)

test("alias, pinyin and remark are searched", function()
  assert_eq(search({ query_word = "sam" }).user_list, { { type = 1, id = "zhangsan" } })
  assert_eq(search({ query_word = "wangwu" }).user_list, { { type = 1, id = "wangwu" } })
  assert_eq(search({ query_word = "Buyer" }).user_list, { { type = 2, id = "wm_cust_01" } })
  assert_eq(search({ query_word = "chenjing" }).user_list, { { type = 2, id = "wm_cust_01" } })
end)

test("limit 1 pages member then customer", function()
  local d = search { query_word = "li", limit = 1 }
  assert_eq(d.user_list, { { type = 1, id = "lisi" } })
  assert_eq(d.has_more, 1)
  local rest = search { query_word = "li", limit = 1, cursor = d.next_cursor }
  assert_eq(rest.user_list, { { type = 2, id = "wm_cust_02" } })
  assert_eq(rest.has_more, 0)
end)

test("query_word is 2 to 31 characters; bad type, limit or cursor refused", function()
  assert_eq(search({ query_word = "l" }).errcode, 40058)
  assert_eq(search({ query_word = string.rep("a", 31) }).errcode, 0)
  assert_eq(search({ query_word = string.rep("a", 32) }).errcode, 40058)
  assert_eq(search({ query_word = string.rep("张", 31) }).errcode, 0, "characters, not bytes")
  assert_eq(search({ query_word = "li", query_user_type = 3 }).errcode, 40058)
  assert_eq(search({ query_word = "li", limit = 101 }).errcode, 40058)
  local d = search { query_word = "li", limit = 1 }
  assert_eq(search({ query_word = "li", query_user_type = 2, cursor = d.next_cursor }).errcode,
    710611, "the cursor belongs to its query")
end)
