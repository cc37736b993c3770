-- runner check: a file whose tests pass (and one the filter leaves out).
scenario {}

test("log level is 2 by default", function()
  assert_eq(app("get_log_level", { program_id = "zone-demo" }).log_level, 2)
end)

test("filtered <out> & \"quoted\"", function()
  assert_true(true)
end)
