-- settle(): the emulator has nothing under way. It returns once every callback it sent has
-- its answer, so a test can assert that something did not happen without sleeping; while
-- a callback waits on a program that does not answer, it times out.
scenario { world = "default", program_timeout_ms = 3000 }

local function msg(id)
  return { msgid = id, sender = { type = 1, id = "zhangsan" },
    receivers = { { type = 1, id = "lisi" } }, msgtype = 1, content = { content = id } }
end

test("with nothing under way it returns true", function()
  assert_eq(settle(), true)
  assert_eq(settle { timeout = 1 }, true)
end)

test("it returns once the event and what the program did with it are answered", function()
  assert_eq(app("set_receive_callback", { program_id = "zone-demo" }).errcode, 0)
  for i = 1, 5 do
    assert_eq(#archive(msg("st_" .. i)).events, 1)
  end
  assert_eq(settle { timeout = 10 }, true)
  -- no wait after it: each event was answered, and zone-demo notified the app before answering
  assert_eq(#journal { face = "program", kind = "event_result" }, 5)
  assert_eq(#sdk.calls("spec_notify_app"), 5)
  assert_eq(#journal { face = "callback", kind = "program_notify" }, 5)
  assert_eq(#notifications(), 5)
end)

test("a callback in flight to a paused program keeps it from settling", function()
  assert_eq(app("set_receive_callback", { program_id = "zone-demo" }).errcode, 0)
  program.pause(0)
  assert_eq(#archive(msg("st_paused")).events, 1)
  local ok, why = settle { timeout = 0.3 }
  assert_eq(ok, nil)
  assert_eq(why, "timeout")
  program.resume(0)
  assert_eq(settle { timeout = 10 }, true)
  local r = journal { face = "program", kind = "event_result" } -- since the file began
  assert_eq(#r, 6)
  assert_eq(r[6].status, 200)
end)

test("settle takes a table", function()
  local ok, err = pcall(settle, 1)
  assert_eq(ok, false)
  assert_match(err, "settle%(opts%): opts must be a table")
end)
