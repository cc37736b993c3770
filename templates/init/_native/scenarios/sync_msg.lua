-- The ability invoke_sync_msg: the program passes the app's request to sync_msg and answers
-- with its reply. The world archives three messages.
scenario { world = "../world.json", program = "@PROGRAM_CMD@" }

test("sync_msg through the program returns the archived messages", function()
  local r = call("invoke_sync_msg", { limit = 100 })
  assert_eq(r.errcode, 0)
  assert_eq(r.data.errcode, 0)
  assert_eq(#r.data.msg_list, 3)
  assert_eq(r.data.msg_list[1].msgid, "msg_0001")
  local c = assert(sdk.wait_call("sync_msg", { timeout = 5 }))
  assert_eq(c.req.limit, 100, "the program passed the request on as it came")
end)

test("paging follows next_cursor", function()
  local first = call("invoke_sync_msg", { limit = 2 }).data
  assert_eq(#first.msg_list, 2)
  assert_eq(first.has_more, 1)
  local rest = call("invoke_sync_msg", { cursor = first.next_cursor, limit = 2 }).data
  assert_eq(#rest.msg_list, 1)
  assert_eq(rest.msg_list[1].msgid, "msg_0006")
end)
