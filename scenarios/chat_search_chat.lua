-- search_chat over the default world's two named groups: case-insensitive substring of the
-- current name, query_word of at least 2 characters, limit up to 100, authenticated cursors.
scenario { world = "default" }

local function search(req)
  local r = call("invoke_search_chat", req)
  assert_eq(r.errcode, 0, "sync_call_program")
  return r.data
end

test("a group name matches by case-insensitive substring", function()
  local d = search { query_word = "TEAM" }
  assert_eq(d.errcode, 0)
  assert_eq(d.chat_list, { { chatid = "wr_internal_01" } })
  assert_eq(d.has_more, 0)
  assert_eq(math.type(d.has_more), "integer")
  assert_eq(search({ query_word = "vip cust" }).chat_list, { { chatid = "wr_customer_01" } })
  local none = search { query_word = "nothing like it" }
  assert_eq(none.errcode, 0)
  assert_eq(json.encode(none.chat_list), "[]")
end)

test("limit 1 with one match: no more pages; the cursor continues to an empty page", function()
  local d = search { query_word = "pro", limit = 1 }
  assert_eq(d.chat_list, { { chatid = "wr_internal_01" } })
  assert_eq(d.has_more, 0)
  local rest = search { query_word = "pro", limit = 1, cursor = d.next_cursor }
  assert_eq(rest.errcode, 0)
  assert_eq(#rest.chat_list, 0)
  assert_eq(rest.has_more, 0)
end)

test("bad parameters: short query or limit over 100 is 40058, a foreign cursor 710611", function()
  assert_eq(search({ query_word = "t" }).errcode, 40058)
  assert_eq(search({}).errcode, 40058)
  assert_eq(search({ query_word = "team", limit = 101 }).errcode, 40058)
  assert_eq(search({ query_word = "team", cursor = "" }).errcode, 40058)
  assert_eq(search({ query_word = "team", cursor = "abc" }).errcode, 710611)
  local d = search { query_word = "team" }
  assert_eq(search({ query_word = "vip", cursor = d.next_cursor }).errcode, 710611,
    "a cursor belongs to its query")
end)
