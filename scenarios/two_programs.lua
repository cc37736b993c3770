-- Two programs of the default world at once: zone-demo (the main program) and zone-model,
-- started with the same command (programs = { [...] = true }); both get scenario{}.env.
-- zone-demo reads ZONE_DEMO_NOTIFY_SCENE, so the notify_scene the app receives shows which
-- environment the program that sent it had.
scenario {
  world = "default",
  programs = { ["zone-model"] = true },
  env = { ZONE_DEMO_NOTIFY_SCENE = "9" },
}

local function program_state(id)
  for _, p in ipairs(state().programs) do
    if p.program_id == id then
      return p
    end
  end
end

-- The next event_result for program id, with its spec_notify_app and the notification.
local function answered(id)
  local res = assert(wait_journal({ face = "program", kind = "event_result", program_id = id },
    { timeout = 5 }), "an event_result for " .. id)
  local c = assert(sdk.wait_call("spec_notify_app", { timeout = 5 }), "spec_notify_app")
  local n = assert(wait_notification { timeout = 5 }, "a notification")
  return res, c, n
end

test("both programs run, each with the world's replicas", function()
  assert_eq(program.replicas(), 1)
  assert_eq(program.replicas("zone-model"), 1)
  for _, id in ipairs({ "zone-demo", "zone-model" }) do
    local p = assert(program_state(id), id .. " is in state()")
    assert_eq(#p.replicas, 1, id)
    assert_eq(p.replicas[1].instance, id .. "/0")
    assert_true(p.replicas[1].running, id .. " runs")
    assert_true(p.replicas[1].pid > 0, id .. " was spawned")
  end
  assert_eq(#journal({ face = "program", kind = "spawn" }), 2)
  assert_order({ face = "program", kind = "spawn", instance = "zone-demo/0" },
    { face = "program", kind = "spawn", instance = "zone-model/0" })
end)

test("an event for zone-model is answered by zone-model, which got env", function()
  local p = push_event({ event_type = "made_up", timestamp = 2 },
    { program = "zone-model", agentid = 1000002 })
  assert_eq(p.program_id, "zone-model")
  local res, c, n = answered("zone-model")
  assert_eq({ res.instance, res.status, res.errcode }, { "zone-model/0", 200, 0 })
  assert_eq(c.instance, "zone-model/0", "zone-model's replica notified the app")
  assert_eq(c.errcode, 0)
  assert_eq(n.notify_id, c.req.notify_id)
  assert_eq(n.notify_scene, 9, "ZONE_DEMO_NOTIFY_SCENE from scenario{}.env")
end)

test("the main program got env too", function()
  assert_eq(app("set_receive_callback", { program_id = "zone-demo" }).errcode, 0)
  archive { msgid = "two_1", sender = { type = 1, id = "zhangsan" },
    receivers = { { type = 1, id = "lisi" } }, msgtype = 1 }
  local res, c, n = answered("zone-demo")
  assert_eq({ res.instance, res.errcode }, { "zone-demo/0", 0 })
  assert_eq(c.instance, "zone-demo/0")
  assert_eq(n.notify_scene, 9)
end)

test("program verbs act on zone-model with opts.program", function()
  program.kill(0, { program = "zone-model" })
  assert_eq(program_state("zone-model").replicas[1].running, false)
  assert_eq(program_state("zone-demo").replicas[1].running, true, "the main one is left alone")
  assert_eq(program.request(0, { program = "zone-model" }), nil, "a killed replica answers nothing")
  local d = call("new_messages_digest")
  assert_eq({ d.errcode, d.data.errcode }, { 0, 0 }, "the main program still answers")

  program.restart(0, { program = "zone-model" })
  assert_eq(program_state("zone-model").replicas[1].running, true)
  -- sealed with zone-model's own secret: its SDK verifies it (no ww-exception)
  local status, code = program.request(0, { program = "zone-model" })
  assert_eq({ status, code }, { 200, nil })

  push_event({ event_type = "after_restart" }, { program = "zone-model", agentid = 1000002 })
  local res, c, n = answered("zone-model")
  assert_eq({ res.instance, res.errcode, c.instance }, { "zone-model/0", 0, "zone-model/0" })
  assert_eq(n.notify_scene, 9, "a restarted replica gets env too")

  local ok, err = pcall(program.kill, 0, { program = "zone-nope" })
  assert_eq(ok, false)
  assert_match(err,
    'program "zone%-nope" is not one the scenario started %(started: zone%-demo, zone%-model%)')
end)
