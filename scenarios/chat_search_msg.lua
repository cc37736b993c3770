-- search_msg over the default world's messages (the clock starts 2026-11-05, so all 22 are
-- inside the default last 31 days). Searched: text "content", link and mini program "title",
-- file "filename"/"name", mixed item[] text; case-insensitive substring; newest first;
-- paging with next_cursor; the span and chat_info rules.
scenario { world = "default" }

local function search(req)
  local r = call("invoke_search_msg", req)
  assert_eq(r.errcode, 0, "sync_call_program")
  return r.data
end

local function ids(d)
  local out = {}
  for i, m in ipairs(d.msg_list) do
    out[i] = m.msgid
  end
  return out
end

test("text and link title match, newest first, case-insensitive", function()
  local d = search { query_word = "CATALOGUE" }
  assert_eq(d.errcode, 0)
  assert_eq(ids(d), { "msg_0011", "msg_0009" })
  assert_eq(d.has_more, 0)
  assert_eq(math.type(d.has_more), "integer")
  assert_true(#d.next_cursor > 0, "a next_cursor even on the last page")
end)

test("file name, mini program title, mixed text and Chinese text are searchable", function()
  assert_eq(ids(search { query_word = "quote.pdf" }), { "msg_0014" })
  assert_eq(ids(search { query_word = "order track" }), { "msg_0015" })
  assert_eq(ids(search { query_word = "like this" }), { "msg_0018" })
  assert_eq(ids(search { query_word = "早上" }), { "msg_0001" })
end)

test("kinds that are not searchable never match", function()
  assert_eq(#search({ query_word = "Release" }).msg_list, 0, "markdown (27)")
  assert_eq(#search({ query_word = "office" }).msg_list, 0, "location (14)")
  assert_eq(#search({ query_word = "sdk_img" }).msg_list, 0, "image (2)")
end)

test("limit 2 pages through the six messages holding \"the\"", function()
  local got, cursor, pages = {}, nil, 0
  repeat
    local d = search { query_word = "the", limit = 2, cursor = cursor }
    assert_eq(d.errcode, 0)
    assert_true(#d.msg_list <= 2)
    for _, id in ipairs(ids(d)) do
      got[#got + 1] = id
    end
    cursor, pages = d.next_cursor, pages + 1
  until d.has_more == 0 or pages > 5
  assert_eq(got, { "msg_0022", "msg_0017", "msg_0016", "msg_0010", "msg_0009", "msg_0001" })
  assert_eq(pages, 3)
end)

test("chat_info narrows: group, 1:1 pair, msgtypes, senders", function()
  assert_eq(ids(search { query_word = "the", chat_info = { chat_type = 2 } }),
    { "msg_0017", "msg_0016" })
  assert_eq(ids(search { query_word = "the",
    chat_info = { chat_type = 2, chat_id = "wr_customer_01" } }), { "msg_0017", "msg_0016" })
  assert_eq(ids(search { query_word = "the", chat_info = { chat_type = 1 } }),
    { "msg_0022", "msg_0010", "msg_0009", "msg_0001" })
  assert_eq(ids(search { query_word = "catalogue", chat_info = { chat_type = 1,
    id_list = { { open_userid = "zhangsan" }, { external_userid = "wm_cust_01" } } } }),
    { "msg_0011", "msg_0009" })
  assert_eq(ids(search { query_word = "catalogue", chat_info = { msg_type_list = { 4 } } }),
    { "msg_0011" })
  assert_eq(ids(search { query_word = "the", chat_info = { sender = { userid = "lisi" } } }),
    { "msg_0016" })
  assert_eq(ids(search { query_word = "the", chat_info = {
    sender = { userid = "lisi" }, sender_list = { { open_userid = "zhangsan" } } } }),
    { "msg_0022", "msg_0010", "msg_0001" }, "sender_list wins over sender")
end)

test("skip_stop_words drops stop words and matches the rest word by word", function()
  assert_eq(ids(search { query_word = "the spring catalogue" }), { "msg_0009" })
  assert_eq(ids(search { query_word = "the spring catalogue", skip_stop_words = true }),
    { "msg_0011", "msg_0009" })
end)

test("start_time and end_time bound send_time (inclusive)", function()
  assert_eq(ids(search { query_word = "catalogue", start_time = 1793667600,
    end_time = 1793667650 }), { "msg_0009" })
  assert_eq(ids(search { query_word = "catalogue", start_time = 1793667630,
    end_time = 1793667695 }), { "msg_0011", "msg_0009" })
  assert_eq(ids(search { query_word = "catalogue", start_time = 1793667631 }), { "msg_0011" })
end)

test("a message archived now is found first", function()
  archive { msgid = "chat_s1", sender = { type = 1, id = "lisi" },
    receivers = { { type = 2, id = "wm_cust_02" } }, msgtype = 1,
    content = { content = "the new catalogue is out" } }
  assert_eq(ids(search { query_word = "catalogue" }), { "chat_s1", "msg_0011", "msg_0009" })
end)

test("bad parameters are 40058, an unknown chat_id 710624", function()
  local bad = {
    { query_word = "t" },
    { query_word = "早" },
    { limit = 10 },
    { query_word = "the", limit = 101 },
    { query_word = "the", limit = -1 },
    { query_word = "the", end_time = 1793667650 },
    { query_word = "the", start_time = 1793667650, end_time = 1793667650 },
    { query_word = "the", start_time = 1790000000, end_time = 1793667650 },
    { query_word = "the", start_time = 1790000000 },
    { query_word = "the", chat_info = { chat_type = 3 } },
    { query_word = "the", chat_info = { chat_id = "wr_customer_01" } },
    { query_word = "the", chat_info = { chat_type = 1, id_list = { { userid = "zhangsan" } } } },
    { query_word = "the", chat_info = { msg_type_list = { 2 } } },
    { query_word = "the", chat_info = { sender = { external_userid = "wm_cust_01" } } },
    { query_word = "the", chat_info = { sender = { userid = "nobody" } } },
    { query_word = "the", cursor = "" },
  }
  for i, req in ipairs(bad) do
    assert_eq(search(req).errcode, 40058, "case " .. i .. " " .. json.encode(req))
  end
  assert_eq(search({ query_word = "the",
    chat_info = { chat_type = 2, chat_id = "wr_nope" } }).errcode, 710624)
end)

test("a cursor of another query or another API is 710611", function()
  local d = search { query_word = "the", limit = 1 }
  assert_eq(d.has_more, 1)
  assert_eq(search({ query_word = "catalogue", cursor = d.next_cursor }).errcode, 710611)
  assert_eq(search({ query_word = "the", cursor = "not-a-cursor" }).errcode, 710611)
  local c = call("invoke_search_chat", { query_word = "team" }).data
  assert_eq(search({ query_word = "the", cursor = c.next_cursor }).errcode, 710611)
  assert_eq(search({ query_word = "the", limit = 1, cursor = d.next_cursor }).errcode, 0)
end)
