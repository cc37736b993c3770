-- get_group_chat: an internal group's creator, create time and members (robots included);
-- a customer group is 301059, an unknown chatid 710624, a missing one 40058.
scenario { world = "default" }

local function group_chat(req)
  local r = call("invoke_get_group_chat", req)
  assert_eq(r.errcode, 0, "sync_call_program")
  return r.data
end

test("an internal group lists its members with their type and join time", function()
  local d = group_chat { chatid = "wr_internal_01" }
  assert_eq(d, {
    errcode = 0, errmsg = "ok", creator = "zhangsan", room_create_time = 1790989200,
    members = {
      { memberid = "zhangsan", jointime = 1790989200, type = 1 },
      { memberid = "lisi", jointime = 1790989200, type = 1 },
      { memberid = "wangwu", jointime = 1791853200, type = 1 },
      { memberid = "wb_robot_01", jointime = 1792717200, type = 3 },
    },
  })
end)

test("a customer group is not served: 301059", function()
  local d = group_chat { chatid = "wr_customer_01" }
  assert_eq(d.errcode, 301059)
  assert_true(d.members == nil and d.creator == nil, "no group data with an error")
end)

test("an unknown chatid is 710624; none or an empty one 40058", function()
  assert_eq(group_chat({ chatid = "wr_nope" }).errcode, 710624)
  assert_eq(group_chat({ chatid = "" }).errcode, 40058)
  local d = group_chat {}
  assert_eq(d.errcode, 40058)
  assert_match(d.errmsg, "chatid is required")
end)
