-- Without a token sync_msg is limited per corp per minute (here 3): the 4th call in the minute
-- is answered 45009; in the next minute it works again.
scenario { world = "default", sync_budget = 3 }

local function sync(req)
  local r = call("invoke_sync_msg", req)
  assert_eq(r.errcode, 0, "sync_call_program")
  return r.data
end

test("the 4th tokenless call in a minute gets 45009, and works a minute later", function()
  local cursor
  for i = 1, 3 do
    local d = sync { limit = 2, cursor = cursor }
    assert_eq(d.errcode, 0, "call " .. i)
    cursor = d.next_cursor
  end
  local d = sync { limit = 2, cursor = cursor }
  assert_eq(d.errcode, 45009, "4th call")
  assert_true(d.msg_list == nil and d.next_cursor == nil, "no data with 45009")
  -- a call with a token that is not a valid event token counts as tokenless
  assert_eq(sync { limit = 2, token = "not-an-event-token" }.errcode, 45009, "unknown token")

  clock.advance(60)
  d = sync { limit = 2, cursor = cursor }
  assert_eq(d.errcode, 0, "after a minute")
  assert_eq(d.msg_list[1].msgid, "msg_0007", "the refused call did not move anything")
end)
