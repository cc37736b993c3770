-- Shared flow (issue 9), run against any program: a new message fires
-- conversation_new_message, the program stores it and calls spec_notify_app, the app gets
-- program_notify and calls the program with that notify_id for the stored event: C++/Java
-- ability get_callback_data, Python sample func do_async_job (vars.lang = "python").
-- zonelab run --program CMD [--var lang=python] scenarios/shared
local lang = (vars and vars.lang) or "c"
local PYTHON = lang == "python"

scenario { world = "../worlds/languages.json" }

-- The stored event under notify_id, in the program's convention: the reply and the event.
local function fetch_event(notify_id)
  if PYTHON then
    local r = call("python_sample", { input = { func = "do_async_job", func_req = {} } },
      { notify_id = notify_id })
    return r, r.data and r.data.output
  end
  local r = call("get_callback_data", {}, { notify_id = notify_id })
  return r, r.data
end

test("a new message reaches the app through the notify_id (" .. lang .. ")", function()
  assert_eq(app("set_receive_callback", { program_id = "zone-demo" }).errcode, 0)
  local r = archive { msgid = "sh_nf_1", sender = { type = 1, id = "zhangsan" },
    receivers = { { type = 1, id = "lisi" } }, msgtype = 1, content = { content = "hi" } }
  assert_eq(#r.events, 1)
  local n = assert(wait_notification { timeout = 5 })
  assert_eq(n.event, "program_notify")
  local c = assert(sdk.wait_call("spec_notify_app", { timeout = 5 }))
  assert_eq(c.req.notify_id, n.notify_id, "the program notified the id the app received")
  assert_match(n.notify_id, "^%x+$")
  local reply, event = fetch_event(n.notify_id)
  assert_eq(reply.errcode, 0)
  assert_sub(event, { event_type = "conversation_new_message",
    conversation_new_message = { token = r.events[1].token } },
    "the event stored under this notify_id")
end)

test("each notify_id gives back its own event, not the newest (" .. lang .. ")", function()
  local r1 = archive { msgid = "sh_nf_2", sender = { type = 1, id = "lisi" },
    receivers = { { type = 1, id = "zhangsan" } }, msgtype = 1 }
  local n1 = assert(wait_notification { timeout = 5 })
  local r2 = archive { msgid = "sh_nf_3", sender = { type = 1, id = "wangwu" },
    receivers = { { type = 1, id = "zhangsan" } }, msgtype = 1 }
  local n2 = assert(wait_notification { timeout = 5 })
  assert_true(n1.notify_id ~= n2.notify_id, "two events, two notify ids")
  local _, e1 = fetch_event(n1.notify_id)
  local _, e2 = fetch_event(n2.notify_id)
  assert_eq(e1.conversation_new_message.token, r1.events[1].token)
  assert_eq(e2.conversation_new_message.token, r2.events[1].token)
end)

test("a notify_id never issued is refused by WeCom before the program (" .. lang .. ")",
  function()
    local r = fetch_event("0123456789abcdef0123456789abcdef")
    assert_eq(r.errcode, 710646)
  end)
