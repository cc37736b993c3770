-- sync_msg's limit: up to 1000 is fine, 0 (or absent) means the default 200, above 1000 or
-- negative is 40058. The answer reaches the app verbatim in response_data.
scenario { world = "default" }

local function sync(req)
  local r = call("invoke_sync_msg", req)
  assert_eq(r.errcode, 0, "sync_call_program")
  assert_true(type(r.data) == "table", "response_data is JSON")
  return r.data
end

test("limit 1000 is accepted; 0 and absent mean 200, so all 22 come back", function()
  for _, req in ipairs { { limit = 1000 }, { limit = 0 }, {} } do
    local d = sync(req)
    assert_eq(d.errcode, 0, "limit " .. tostring(req.limit))
    assert_eq(#d.msg_list, 22, "limit " .. tostring(req.limit))
    assert_eq(d.has_more, 0, "limit " .. tostring(req.limit))
  end
end)

test("limit 1001 and negative limits are answered 40058", function()
  for _, limit in ipairs { 1001, 100000, -1, -200 } do
    local d = sync { limit = limit }
    assert_eq(d.errcode, 40058, "limit " .. limit)
    assert_true(d.msg_list == nil, "no msg_list with an error (limit " .. limit .. ")")
    assert_true(d.next_cursor == nil, "no next_cursor with an error (limit " .. limit .. ")")
  end
end)

test("limit 0 and absent page at 200 once the archive holds more", function()
  local batch = {}
  for i = 1, 200 do
    batch[i] = { msgid = string.format("lim_%03d", i), sender = { type = 1, id = "zhangsan" },
      receivers = { { type = 1, id = "lisi" } }, msgtype = 1, content = { content = "n" .. i } }
  end
  assert_eq(archive(batch).archived, 200)
  for _, req in ipairs { { limit = 0 }, {} } do
    local d = sync(req)
    assert_eq(d.errcode, 0)
    assert_eq(#d.msg_list, 200, "limit " .. tostring(req.limit))
    assert_eq(d.has_more, 1, "limit " .. tostring(req.limit))
    local rest = sync { cursor = d.next_cursor, limit = req.limit }
    assert_eq(#rest.msg_list, 22, "the 222nd is the last")
    assert_eq(rest.msg_list[22].msgid, "lim_200")
    assert_eq(rest.has_more, 0)
  end
end)
