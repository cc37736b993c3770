-- runner check: a file with a failing assertion and a misused verb.
scenario {}

test("a wrong expectation", function()
  assert_eq(app("get_log_level", { program_id = "zone-demo" }).log_level, 3, "log level")
end)

test("a misused verb", function()
  call(nil)
end)
