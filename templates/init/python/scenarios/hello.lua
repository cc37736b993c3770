-- The ability hello: the app calls it with {"input":{"func":"hello","func_req":{"name":...}}}
-- and gets {"output":{"greeting":...}} back. Run from the project's folder: zonelab run scenarios
scenario { world = "../world.json", program = "exec python3 main.py" }

local function hello(name)
  return call("hello", { input = { func = "hello", func_req = { name = name } } })
end

test("hello greets by name", function()
  local r = hello("Zhang San")
  assert_eq(r.errcode, 0)
  assert_eq(r.data.output.greeting, "hello, Zhang San")
end)

test("hello without a name greets the world", function()
  assert_eq(hello("").data.output.greeting, "hello, world")
end)

test("a request_data that does not fit the input protocol never reaches the program", function()
  local r = call("hello", { name = "Zhang San" })
  assert_eq(r.errcode, 790016, "WeCom checks request_data against the ability's protocol")
end)
