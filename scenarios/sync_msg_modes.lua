-- sync_msg modes: 1 (pre-paging) answers page_id_list (at most 10 ids of limit messages each),
-- fetched with get_msg_list_by_page_id; 2 (adaptive) answers msg_list when the rest fits in
-- one page and page ids otherwise.
scenario { world = "default" }

local function all_ids()
  local out = {}
  for i = 1, 22 do
    out[i] = string.format("msg_%04d", i)
  end
  return out
end

local function sync(req)
  local r = call("invoke_sync_msg", req)
  assert_eq(r.errcode, 0, "sync_call_program")
  assert_eq(r.data.errcode, 0, "sync_msg: " .. tostring(r.data.errmsg))
  return r.data
end

-- every page's messages, appended to ids (in page order)
local function fetch_pages(page_ids, limit, ids)
  for k, id in ipairs(page_ids) do
    local r = call("invoke_get_msg_list_by_page_id", { page_id = id })
    assert_eq(r.errcode, 0, "sync_call_program")
    assert_eq(r.data.errcode, 0, "page " .. k .. ": " .. tostring(r.data.errmsg))
    assert_true(#r.data.msg_list >= 1 and #r.data.msg_list <= limit,
      "page " .. k .. " holds 1.." .. limit .. " messages, got " .. #r.data.msg_list)
    for _, m in ipairs(r.data.msg_list) do
      ids[#ids + 1] = m.msgid
    end
  end
  return ids
end

test("mode 1 with limit 5: page ids whose pages hold every message once, in order", function()
  local d = sync { mode = 1, limit = 5 }
  assert_true(d.msg_list == nil, "mode 1 answers no msg_list")
  assert_eq(#d.page_id_list, 5, "22 messages in pages of 5")
  assert_eq(d.has_more, 0, "the listed pages cover everything")
  assert_eq(fetch_pages(d.page_id_list, 5, {}), all_ids())
  -- a page fetched twice gives the same messages
  assert_eq(fetch_pages({ d.page_id_list[2] }, 5, {}),
    { "msg_0006", "msg_0007", "msg_0008", "msg_0009", "msg_0010" })
  -- next_cursor moved past every listed page
  local after = sync { cursor = d.next_cursor }
  assert_eq(#after.msg_list, 0)
  assert_eq(after.has_more, 0)
end)

test("mode 2: limit 1000 answers msg_list directly, limit 5 answers page ids", function()
  local d = sync { mode = 2, limit = 1000 }
  assert_true(d.page_id_list == nil, "everything fits one page: no page ids")
  local ids = {}
  for _, m in ipairs(d.msg_list) do
    ids[#ids + 1] = m.msgid
  end
  assert_eq(ids, all_ids())
  assert_eq(d.has_more, 0)

  d = sync { mode = 2, limit = 5 }
  assert_true(d.msg_list == nil, "more than one page: no msg_list")
  assert_eq(#d.page_id_list, 5)
  assert_eq(fetch_pages(d.page_id_list, 5, {}), all_ids())
end)

test("mode 1 with more than 10 pages: has_more and next_cursor lead to the rest", function()
  -- limit 2: 11 pages; one call lists at most 10 (20 messages), so 2 remain for the next call
  local ids, cursor, calls = {}, nil, 0
  repeat
    local d = sync { mode = 1, limit = 2, cursor = cursor }
    calls = calls + 1
    assert_true(#d.page_id_list <= 10, "at most 10 page ids")
    fetch_pages(d.page_id_list, 2, ids)
    cursor = d.next_cursor
    if calls == 1 then
      assert_eq(#d.page_id_list, 10)
      assert_eq(d.has_more, 1, "20 of 22 listed: has_more must be 1")
    end
  until d.has_more == 0 or calls > 5
  assert_eq(ids, all_ids(), "following has_more yields every message")
end)
