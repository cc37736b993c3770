-- Shared flow (issue 9): sync_msg through the program returns the world's messages. C++/Java:
-- ability invoke_sync_msg with the request's bare key/value pairs; Python sample
-- (vars.lang = "python"): func sync_msg with the request as func_req, the reply in "output".
local lang = (vars and vars.lang) or "c"
local PYTHON = lang == "python"

scenario { world = "../worlds/languages.json" }

local function sync_msg(req)
  if PYTHON then
    local r = call("python_sample", { input = { func = "sync_msg", func_req = req } })
    return r, r.data and r.data.output
  end
  local r = call("invoke_sync_msg", req)
  return r, r.data
end

test("sync_msg through the program returns the world's 22 messages (" .. lang .. ")", function()
  local r, d = sync_msg({ limit = 100 })
  assert_eq(r.errcode, 0)
  assert_eq(d.errcode, 0)
  assert_eq(#d.msg_list, 22)
  assert_eq(d.msg_list[1].msgid, "msg_0001")
  assert_eq(d.msg_list[22].msgid, "msg_0022")
  assert_eq(d.has_more, 0)
  local c = assert(sdk.wait_call("sync_msg", { timeout = 1 }))
  assert_eq(c.req.limit, 100, "the program passed the request on as it came")
  assert_count("sync_msg", 1)
end)

test("paging follows next_cursor (" .. lang .. ")", function()
  local _, first = sync_msg({ limit = 20 })
  assert_eq(#first.msg_list, 20)
  assert_eq(first.has_more, 1)
  local _, rest = sync_msg({ cursor = first.next_cursor, limit = 20 })
  assert_eq(#rest.msg_list, 2)
  assert_eq(rest.msg_list[2].msgid, "msg_0022")
end)
