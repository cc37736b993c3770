-- A saved sync_msg cursor resumes exactly after the last message it covered: nothing is
-- repeated, nothing skipped, also after other calls in between; messages archived later
-- appear after the cursor that ended the archive.
scenario { world = "default" }

local function ids_of(r)
  local out = {}
  for _, m in ipairs(r.data.msg_list) do
    out[#out + 1] = m.msgid
  end
  return out
end

local function range(a, b)
  local out = {}
  for i = a, b do
    out[#out + 1] = string.format("msg_%04d", i)
  end
  return out
end

local function sync(req)
  local r = call("invoke_sync_msg", req)
  assert_eq(r.errcode, 0, "sync_call_program")
  assert_eq(r.data.errcode, 0, "sync_msg: " .. tostring(r.data.errmsg))
  return r
end

local saved_end -- the cursor after the last world message (test 1 -> test 2)

test("a saved cursor resumes right after its last message, even after other calls", function()
  local first = sync { limit = 7 }
  assert_eq(ids_of(first), range(1, 7))
  assert_eq(first.data.has_more, 1)
  local saved = first.data.next_cursor

  -- other calls in between (a fresh start, a different page size) do not move the saved cursor
  assert_eq(ids_of(sync { limit = 3 }), range(1, 3))

  local resumed = sync { limit = 6, cursor = saved }
  assert_eq(ids_of(resumed), range(8, 13), "resumes exactly after msg_0007")
  -- the same cursor again gives the same page (a cursor is a position, not a session)
  assert_eq(ids_of(sync { limit = 6, cursor = saved }), range(8, 13), "same cursor, same page")

  local rest = sync { limit = 1000, cursor = resumed.data.next_cursor }
  assert_eq(ids_of(rest), range(14, 22), "the rest, nothing skipped")
  assert_eq(rest.data.has_more, 0)
  saved_end = rest.data.next_cursor
end)

test("messages archived later appear after the cursor that ended the archive", function()
  assert_true(saved_end, "the first test saved the end cursor")
  local idle = sync { cursor = saved_end }
  assert_eq(#idle.data.msg_list, 0, "nothing new yet")
  assert_eq(idle.data.has_more, 0)

  clock.advance(60) -- a new minute: a fresh tokenless sync_msg budget for the calls below
  archive {
    { msgid = "resume_1", sender = { type = 1, id = "lisi" },
      receivers = { { type = 1, id = "zhangsan" } }, msgtype = 1, content = { content = "one" } },
    { msgid = "resume_2", sender = { type = 2, id = "wm_cust_01" },
      receivers = { { type = 1, id = "zhangsan" } }, msgtype = 1, content = { content = "two" } },
  }
  local r = sync { limit = 1, cursor = saved_end }
  assert_eq(ids_of(r), { "resume_1" })
  assert_eq(r.data.has_more, 1)
  local r2 = sync { limit = 1, cursor = r.data.next_cursor }
  assert_eq(ids_of(r2), { "resume_2" })
  assert_eq(r2.data.has_more, 0)
  -- the cursor of the empty call (taken before the archive) resumes at the same place
  assert_eq(ids_of(sync { cursor = idle.data.next_cursor }), { "resume_1", "resume_2" })
end)
