-- sync_call_program and async_program_task with a program_id WeCom would refuse: unknown,
-- not a string, empty, or with characters no program id has. Each is an errcode answer, never
-- a crash (the emulator once wrote into a freed request here; issue 19).
scenario { world = "default" }

local cases = {
  { "an unknown program_id", "no-such-program", 800001 },
  { "a program_id that is not a string", 42, 40058 },
  { "a program_id that is an object", { id = "zone-demo" }, 40058 },
  { "an empty program_id", "", 40058 },
  { "a program_id with spaces", "bad id", 800001 },
}

for _, c in ipairs(cases) do
  local what, id, code = c[1], c[2], c[3]
  test("sync_call_program with " .. what .. " is " .. code, function()
    local r = app("sync_call_program", { program_id = id, ability_id = "echo_input",
      request_data = "{}" })
    assert_eq(r.errcode, code)
  end)
  test("async_program_task with " .. what .. " is " .. code, function()
    local r = app("async_program_task", { program_id = id, ability_id = "echo_input",
      request_data = "{}" })
    assert_eq(r.errcode, code)
  end)
end

test("after the refusals the emulator still answers a good call", function()
  local r = call("echo_input", { ability_id = "1", task_type = "service_statistics", msg = "hi" })
  assert_eq(r.errcode, 0)
  assert_eq(json.decode(r.data.input).msg, "hi", "the good call reached the program")
end)
