-- Supervision (option replica_restart; serve's default, a scenario's is off): a replica killed
-- with SIGKILL is started again by the emulator itself, after a backoff. An event sent while
-- it is down waits for it and arrives once it listens; later events reach it as before.
-- (stable_ms an hour: the second kill is always within it, however loaded the machine)
scenario { world = "default",
  options = { replica_restart = true, replica_restart_stable_ms = 3600000 } }

local function message(id)
  return archive { msgid = id, sender = { type = 1, id = "zhangsan" },
    receivers = { { type = 1, id = "lisi" } }, msgtype = 1, content = { content = id } }
end

-- The event_result of the event carrying token, once it is there.
local function result_of(token)
  local ev = assert(wait_journal({ face = "program", kind = "event",
    event = { conversation_new_message = { token = token } } }, { timeout = 5 }))
  return assert(wait_journal({ face = "program", kind = "event_result", event_seq = ev.seq },
    { timeout = 10 }), "the event was answered")
end

test("a killed replica comes back by itself and gets the event sent while it was down", function()
  assert_eq(app("set_receive_callback", { program_id = "zone-demo" }).errcode, 0)
  program.kill(0)
  local ex = assert(wait_journal({ face = "program", kind = "replica_exit",
    instance = "zone-demo/0" }, { timeout = 5 }))
  assert_eq(ex.signal, 9)
  assert_eq(ex.restart_in_ms, 100, "the first restart comes after replica_restart_delay_ms")
  -- sent while it is down: held for it, not refused
  local token = message("sup_down").events[1].token
  clock.advance(0.1) -- the delay is on the virtual clock: no real wait for it
  local rs = assert(wait_journal({ face = "program", kind = "replica_restart",
    instance = "zone-demo/0" }, { timeout = 10 }), "restarted by the emulator")
  assert_eq({ rs.attempt, rs.delay_ms }, { 1, 100 })
  local res = result_of(token)
  assert_eq({ res.instance, res.status, res.errcode }, { "zone-demo/0", 200, 0 })
  assert_order({ face = "program", kind = "replica_restart" },
    { face = "program", kind = "spawn", instance = "zone-demo/0" },
    { face = "program", kind = "event_result", event_seq = res.event_seq })
  local n = assert(wait_notification { timeout = 5 }, "the app was notified of it")
  local reply = call("get_callback_data", {}, { notify_id = n.notify_id })
  assert_eq(reply.data, { event_type = "conversation_new_message",
    timestamp = reply.data.timestamp, conversation_new_message = { token = token } })
end)

test("later events reach the restarted replica", function()
  local token = message("sup_after").events[1].token
  local res = result_of(token)
  assert_eq({ res.instance, res.errcode }, { "zone-demo/0", 0 })
  assert(wait_notification { timeout = 5 }, "the app was notified")
  assert_eq(#journal({ face = "program", kind = "event_result", errcode = 710674 }), 0,
    "no event was refused")
end)

test("killed again, it comes back again after twice the delay", function()
  program.kill(0)
  local ex = assert(wait_journal({ face = "program", kind = "replica_exit" }, { timeout = 5 }))
  assert_eq(ex.restart_in_ms, 200, "the second restart within replica_restart_stable_ms")
  clock.advance(0.2)
  local rs = assert(wait_journal({ face = "program", kind = "replica_restart" }, { timeout = 10 }))
  assert_eq({ rs.attempt, rs.delay_ms }, { 2, 200 })
  local token = message("sup_again").events[1].token
  assert_eq(result_of(token).errcode, 0)
end)

test("events in flight when it dies are sent again once it is back", function()
  program.pause(0) -- the events reach its socket and wait there, unanswered
  local tokens = {}
  for i = 1, 3 do
    tokens[i] = message("sup_flight_" .. i).events[1].token
  end
  program.kill(0)
  local ex = assert(wait_journal({ face = "program", kind = "replica_exit" }, { timeout = 5 }))
  assert_eq(ex.restart_in_ms, 400)
  clock.advance(0.4)
  assert(wait_journal({ face = "program", kind = "replica_restart" }, { timeout = 10 }))
  for i = 1, 3 do
    local res = result_of(tokens[i])
    assert_eq({ res.instance, res.errcode }, { "zone-demo/0", 0 }, "event " .. i)
  end
  for i = 1, 3 do
    assert(wait_notification { timeout = 5 }, "notification " .. i)
  end
end)
