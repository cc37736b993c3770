-- A slow callback takes one slot of its replica's window (option delivery_window), not the
-- program's whole traffic. zone-demo's first event is held: its spec_notify_app waits an hour
-- of the virtual clock on the SDK face, so that event's callback stays in flight until the
-- clock moves. Meanwhile the next events are delivered and an app call is answered. With the
-- window at 1, the next event waits for the held one, as every event did before the window.
-- Nothing here waits real time for something not to happen: the order of journal entries
-- tells the two rules apart.
scenario { world = "default", event_timeout_ms = 60000 }

local HOUR_MS = 3600000

-- Every event_result so far of the event whose journal entry is ev.
local function results_of(ev)
  local out = {}
  for _, e in ipairs(journal({ face = "program", kind = "event_result" })) do
    if e.event_seq == ev.seq then
      out[#out + 1] = e
    end
  end
  return out
end

-- Holds the next spec_notify_app for an hour and pushes an event that will make it; returns
-- the journal entry of that event (its seq is the event_result's event_seq).
local function push_held(name)
  sdk.reply { api = "spec_notify_app", fault = "delay", delay_ms = HOUR_MS, times = 1 }
  push_event({ event_type = name, timestamp = 1 })
  local ev = assert(wait_journal({ face = "program", kind = "event" },
    { timeout = 5, where = function(e) return e.event.event_type == name end }))
  assert(wait_journal({ face = "sdk", kind = "invoke", api = "spec_notify_app", outcome = "delayed" },
    { timeout = 5 }), "the held event reached the program and its notify is held")
  return ev
end

-- The next event_result, which must be ev's (ev: the event's journal entry).
local function result_of(ev)
  local res = assert(wait_journal({ face = "program", kind = "event_result" }, { timeout = 5 }))
  assert_eq(res.event_seq, ev.seq, "the event_result that comes next")
  return res
end

test("while one event is held, the next ones are delivered and app calls answered", function()
  assert_eq(app("set_receive_callback", { program_id = "zone-demo" }).errcode, 0)
  assert_eq(options().delivery_window, 64)
  local held = push_held("held")
  local later = {}
  for i = 1, 3 do
    push_event({ event_type = "later_" .. i, timestamp = 1 })
  end
  for _, e in ipairs(journal({ face = "program", kind = "event" })) do
    if e.event.event_type:find("^later_") then
      later[#later + 1] = e
    end
  end
  assert_eq(#later, 3)
  local waiting = {}
  for _, ev in ipairs(later) do
    waiting[ev.seq] = true
  end
  for _ = 1, 3 do -- in any order: they are in flight together
    local res = assert(wait_journal({ face = "program", kind = "event_result" }, { timeout = 5 }))
    assert_true(waiting[res.event_seq], "a later event ended first, not the held one")
    assert_eq(res.errcode, 0)
    waiting[res.event_seq] = nil
  end
  local r = call("echo_input", { ability_id = "1", task_type = "service_statistics", msg = "hi" })
  assert_eq(r.errcode, 0, "an app call is answered while the event is held")
  assert_eq(#results_of(held), 0, "the held event is still in flight")
  clock.advance(3600)
  local res = result_of(held)
  assert_eq(res.errcode, 0, "released, the held event ends normally")
  for _, ev in ipairs(later) do
    local r2 = results_of(ev)
    assert_eq(#r2, 1)
    assert_true(r2[1].seq < res.seq, "the later events ended before the held one")
  end
end)

test("delivery_window 1: the next event waits for the held one", function()
  sdk.clear()
  options { delivery_window = 1 }
  local held = push_held("held_alone")
  push_event({ event_type = "behind", timestamp = 1 })
  local behind = assert(wait_journal({ face = "program", kind = "event" },
    { timeout = 5, where = function(e) return e.event.event_type == "behind" end }))
  clock.advance(3600)
  local first = result_of(held)
  local second = result_of(behind)
  assert_eq({ first.errcode, second.errcode }, { 0, 0 })
  -- the second event's own spec_notify_app was made only after the first event ended
  local notify = assert(wait_journal({ face = "sdk", kind = "invoke", api = "spec_notify_app" },
    { timeout = 5, where = function(e) return e.seq > first.seq end }))
  assert_true(notify.seq < second.seq, "the waiting event was sent once the first ended")
  local sent_before = 0
  for _, e in ipairs(journal({ face = "sdk", kind = "invoke", api = "spec_notify_app" })) do
    if e.seq > held.seq and e.seq < first.seq and e.outcome ~= "delayed" then
      sent_before = sent_before + 1
    end
  end
  assert_eq(sent_before, 1, "only the held event's own notify (answered at the release) " ..
    "came before it ended")
  options { delivery_window = 64 }
end)

test("delivery_queue_max: an event beyond the queue is refused at once, the rest go", function()
  sdk.clear()
  options { delivery_window = 1, delivery_queue_max = 2 }
  local held = push_held("held_full")
  for i = 1, 3 do
    push_event({ event_type = "queued_" .. i, timestamp = 1 })
  end
  local queued = {}
  for _, e in ipairs(journal({ face = "program", kind = "event" })) do
    if e.event.event_type:find("^queued_") then
      queued[#queued + 1] = e
    end
  end
  assert_eq(#queued, 3)
  -- the third found two waiting: refused now, without a transfer, before the clock moves
  assert_eq(#results_of(queued[3]), 1, "the event beyond the queue has its result already")
  local refused = result_of(queued[3])
  assert_eq(refused.errcode, 710638)
  assert_true(refused.error:find("delivery_queue_max", 1, true), refused.error)
  assert_eq(refused.instance, "zone-demo/0")
  clock.advance(3600)
  assert_eq(result_of(held).errcode, 0)
  assert_eq(result_of(queued[1]).errcode, 0, "the queued events go once the window frees")
  assert_eq(result_of(queued[2]).errcode, 0)
  options { delivery_window = 64, delivery_queue_max = 100000 }
end)
