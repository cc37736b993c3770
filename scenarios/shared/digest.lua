-- Shared flow (issue 9): zone-demo's new_messages_digest in each program's convention: the
-- first digest counts the world's messages from the start, the cursor saved by the program
-- makes the next one count only what was archived since.
local lang = (vars and vars.lang) or "c"
local PYTHON = lang == "python"

scenario { world = "../worlds/languages.json" }

local function digest()
  local r
  if PYTHON then
    r = call("python_sample", { input = { func = "new_messages_digest", func_req = {} } })
    assert_eq(r.errcode, 0, r.errmsg)
    return r.data.output
  end
  r = call("new_messages_digest")
  assert_eq(r.errcode, 0, r.errmsg)
  return r.data
end

local function count(list, field, value)
  for _, e in ipairs(list) do
    if e[field] == value then
      return e.count
    end
  end
  return 0
end

test("the first digest counts the world's messages (" .. lang .. ")", function()
  local d = digest()
  assert_eq(d.errcode, 0)
  assert_eq(d.total, 22)
  assert_eq(count(d.by_msgtype, "msgtype", 1), 9, "text messages")
  local senders = 0
  for _, e in ipairs(d.by_sender) do senders = senders + e.count end
  assert_eq(senders, 22)
end)

test("the next digest counts only what came since (" .. lang .. ")", function()
  archive { msgid = "dg_1", msgtype = 1, content = { content = "new" },
    sender = { type = 1, id = "wangwu" }, receivers = { { type = 1, id = "lisi" } } }
  local d = digest()
  assert_eq(d.total, 1)
  assert_eq(d.by_msgtype, { { msgtype = 1, count = 1 } })
  assert_eq(d.by_sender, { { type = 1, id = "wangwu", count = 1 } })
  assert_eq(digest().total, 0, "and then nothing")
end)
