-- The ability sync_msg: func sync_msg passes func_req to ChatDataSDK.sync_msg and answers
-- with its reply as the output. The world archives three messages.
scenario { world = "../world.json", program = "exec python3 main.py" }

local function sync_msg(req)
  return call("sync_msg", { input = { func = "sync_msg", func_req = req } })
end

test("sync_msg through the program returns the archived messages", function()
  local r = sync_msg({ limit = 100 })
  assert_eq(r.errcode, 0)
  assert_eq(r.data.output.errcode, 0)
  assert_eq(#r.data.output.msg_list, 3)
  assert_eq(r.data.output.msg_list[1].msgid, "msg_0001")
  local c = assert(sdk.wait_call("sync_msg", { timeout = 5 }))
  assert_eq(c.req.limit, 100, "the program passed func_req on as it came")
end)

test("paging follows next_cursor", function()
  local first = sync_msg({ limit = 2 }).data.output
  assert_eq(#first.msg_list, 2)
  assert_eq(first.has_more, 1)
  local rest = sync_msg({ cursor = first.next_cursor, limit = 2 }).data.output
  assert_eq(#rest.msg_list, 1)
  assert_eq(rest.msg_list[1].msgid, "msg_0006")
end)
