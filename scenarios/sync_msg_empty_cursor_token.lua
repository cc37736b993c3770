-- sync_msg refuses empty-string cursor and token with 40058 (leave the keys out instead),
-- and a cursor it did not issue (forged or tampered with) with 710611.
scenario { world = "default" }

local function sync(req)
  local r = call("invoke_sync_msg", req)
  assert_eq(r.errcode, 0, "sync_call_program")
  assert_true(type(r.data) == "table", "response_data is JSON")
  return r.data
end

-- s with the character at i replaced by another base64url character
local function flip(s, i)
  local c = s:sub(i, i)
  return s:sub(1, i - 1) .. (c == "A" and "B" or "A") .. s:sub(i + 1)
end

test("cursor \"\" and token \"\" are answered 40058", function()
  for _, req in ipairs {
    { cursor = "" }, { token = "" }, { cursor = "", token = "" }, { cursor = "", limit = 5 },
    { token = "", limit = 5, mode = 1 },
  } do
    local d = sync(req)
    assert_eq(d.errcode, 40058, json.encode(req))
    assert_true(d.msg_list == nil and d.next_cursor == nil, "no data with 40058: " .. json.encode(req))
  end
  -- leaving both out is fine
  local d = sync { limit = 1 }
  assert_eq(d.errcode, 0)
  assert_eq(d.msg_list[1].msgid, "msg_0001")
end)

test("a forged or tampered cursor is answered 710611", function()
  local good = sync { limit = 5 }
  assert_eq(good.errcode, 0)
  local cursor = good.next_cursor
  local forged = {
    "forged-cursor",
    "AQEAAAABAAAAAAAAAAUAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    flip(cursor, 12),           -- the position part
    flip(cursor, #cursor - 10), -- the MAC part
  }
  for _, c in ipairs(forged) do
    assert_true(c ~= cursor)
    local d = sync { cursor = c, limit = 5 }
    assert_eq(d.errcode, 710611, "cursor " .. c)
    assert_true(d.msg_list == nil, "no msg_list for cursor " .. c)
  end
  -- the genuine cursor still works
  local d = sync { cursor = cursor, limit = 5 }
  assert_eq(d.errcode, 0)
  assert_eq(d.msg_list[1].msgid, "msg_0006")
end)
