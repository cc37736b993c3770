-- The ability hello: the app calls it with {"name":...} and gets a greeting back.
-- Run from the project's folder: zonelab run scenarios
scenario { world = "../world.json", program = "@PROGRAM_CMD@" }

test("hello greets by name", function()
  local r = call("hello", { name = "Zhang San" })
  assert_eq(r.errcode, 0)
  assert_eq(r.data.greeting, "hello, Zhang San")
end)

test("hello without a name greets the world", function()
  local r = call("hello", { name = "" })
  assert_eq(r.errcode, 0)
  assert_eq(r.data.greeting, "hello, world")
end)

test("a request_data that does not fit the input protocol never reaches the program", function()
  local r = call("hello", { name = 42 })
  assert_eq(r.errcode, 790016, "WeCom checks request_data against the ability's protocol")
end)
