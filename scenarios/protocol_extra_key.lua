-- A key the protocol example does not have, and request_data that is not JSON at all.
scenario { world = "default" }

test("a key outside the protocol example is 790016 naming it", function()
  local r = call("invoke_sync_msg", { limit = 5, bogus = 1 })
  assert_eq(r.errcode, 790016)
  local e = assert(wait_journal({ kind = "protocol_mismatch" }, { timeout = 1 }))
  assert_sub(e, { errcode = 790016, path = "$.bogus", expected = "absent", actual = "number" })
  assert_match(e.diagnosis, '"bogus"')
end)

test("request_data bytes that are not JSON are 790015", function()
  local r = call("invoke_sync_msg", '{"limit":5,')
  assert_eq(r.errcode, 790015)
  local e = assert(wait_journal({ kind = "protocol_mismatch" }, { timeout = 1 }))
  assert_eq(e.errcode, 790015)
  assert_match(e.diagnosis, "not JSON")
  assert_eq(#journal({ face = "program", kind = "call" }), 0, "the program was not called")
end)
