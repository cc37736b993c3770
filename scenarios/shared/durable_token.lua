-- Shared flow (issue 19): the program keeps its newest conversation_new_message token, with
-- when it came, in its data folder, as it keeps its sync_msg cursor. Killed with SIGKILL and
-- restarted, its next digest still sends that token (with no token budget, sync_budget 0, a
-- digest without one is 45009) and resumes at the saved cursor.
local lang = (vars and vars.lang) or "c"
local PYTHON = lang == "python"

scenario { world = "../worlds/languages.json", sync_budget = 0 }

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

local token

test("a digest with the event token (" .. lang .. ")", function()
  assert_eq(app("set_receive_callback", { program_id = "zone-demo" }).errcode, 0)
  token = archive { msgid = "dt_1", sender = { type = 1, id = "zhangsan" },
    receivers = { { type = 1, id = "lisi" } }, msgtype = 1 }.events[1].token
  assert(wait_notification { timeout = 10 }, "the program has the event (and its token)")
  local d = digest()
  assert_eq(d.errcode, 0, "digest: " .. tostring(d.errmsg))
  assert_eq(d.total, 23)
end)

test("after a SIGKILL and a restart, the same token from the saved cursor (" .. lang .. ")",
  function()
    program.kill(0)
    program.restart(0)
    local before = #sdk.calls("sync_msg")
    local d = digest()
    assert_eq(d.errcode, 0, "not 45009: " .. tostring(d.errmsg))
    assert_eq(d.total, 0, "nothing new after the saved cursor")
    local c = sdk.calls("sync_msg")
    assert_eq(#c, before + 1)
    assert_eq(c[#c].req.token, token)
    assert_true(type(c[#c].req.cursor) == "string", "it resumed from the saved cursor")
  end)
