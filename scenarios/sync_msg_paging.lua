-- sync_msg paging: limit 5, following next_cursor until has_more is 0, returns every one of
-- the default world's 22 messages exactly once, in send_time order.
scenario { world = "default" }

local WORLD = {}
for i = 1, 22 do
  WORLD[i] = string.format("msg_%04d", i)
end

test("limit 5 pages through all 22 world messages once, in send_time order", function()
  local ids, seen, last_time, pages, cursor = {}, {}, nil, 0, nil
  repeat
    local r = call("invoke_sync_msg", { limit = 5, cursor = cursor })
    assert_eq(r.errcode, 0, "sync_call_program")
    assert_eq(r.data.errcode, 0, "sync_msg page " .. (pages + 1))
    pages = pages + 1
    assert_true(#r.data.msg_list <= 5, "a page holds at most limit messages")
    assert_true(r.data.page_id_list == nil, "mode 0 lists no page ids")
    for _, m in ipairs(r.data.msg_list) do
      assert_true(not seen[m.msgid], "message returned twice: " .. m.msgid)
      seen[m.msgid] = true
      assert_true(last_time == nil or m.send_time >= last_time,
        m.msgid .. " is out of send_time order")
      last_time = m.send_time
      ids[#ids + 1] = m.msgid
    end
    assert_true(r.data.has_more == 0 or r.data.has_more == 1, "has_more is an integer 0/1")
    assert_true(type(r.data.next_cursor) == "string" and #r.data.next_cursor > 0,
      "every page carries a next_cursor")
    if r.data.has_more == 1 then
      assert_eq(#r.data.msg_list, 5, "a page with has_more 1 is full")
    end
    cursor = r.data.next_cursor
  until r.data.has_more == 0 or pages > 10
  assert_eq(ids, WORLD, "every world message, in order")
  assert_eq(pages, 5, "22 messages at 5 a page")
end)
