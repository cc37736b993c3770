-- POST /_zonelab/events with "events": a batch, for load tests. Each event is delivered and
-- journaled on its own, in the order given; a bad batch is refused whole, before any goes.
scenario { world = "default" }

local function ev(i)
  return { event_type = "made_up", timestamp = i, seq_in_batch = i }
end

test("a batch of three goes out as three events, in order", function()
  assert_eq(app("set_receive_callback", { program_id = "zone-demo" }).errcode, 0)
  local status, r = http("POST", "/_zonelab/events", { events = { ev(1), ev(2), ev(3) } })
  assert_eq(status, 200)
  assert_eq(r.count, 3)
  assert_eq(r.program_id, "zone-demo")
  assert(settle { timeout = 10 })
  local sent = journal { face = "program", kind = "event" }
  assert_eq(#sent, 3)
  for i = 1, 3 do
    assert_eq(sent[i].event.seq_in_batch, i)
  end
  local res = journal { face = "program", kind = "event_result" }
  assert_eq(#res, 3)
  for i = 1, 3 do
    assert_eq(res[i].errcode, 0)
  end
  assert_eq(#notifications(), 3, "zone-demo stored and notified each")
end)

test("bad batches are refused whole", function()
  local before = #journal { face = "program", kind = "event" }
  local function refused(body, status, pattern)
    local s, r = http("POST", "/_zonelab/events", body)
    assert_eq(s, status)
    assert_match(r.error, pattern)
  end
  refused({ events = {} }, 400, "1 to 1000 JSON objects")
  refused({ events = { ev(1), "x", ev(3) } }, 400, "events%[1%] must be a JSON object")
  refused({ event = ev(1), events = { ev(2) } }, 400, "not both")
  local many = {}
  for i = 1, 1001 do
    many[i] = ev(i)
  end
  refused({ events = many }, 400, "1 to 1000")
  refused({ events = { ev(1) }, program_id = "nobody" }, 404, "program_id")
  assert(settle())
  assert_eq(#journal { face = "program", kind = "event" }, before, "none of them went out")
end)
