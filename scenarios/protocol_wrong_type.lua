-- A value of the wrong type: {"limit":"5"} where the protocol example has a number.
scenario { world = "default" }

test("a string where the protocol has a number is 790016 at $.limit", function()
  local r = call("invoke_sync_msg", { limit = "5" })
  assert_eq(r.errcode, 790016)
  local e = assert(wait_journal({ kind = "protocol_mismatch" }, { timeout = 1 }))
  assert_sub(e, { ability_id = "invoke_sync_msg", errcode = 790016, path = "$.limit",
    expected = "number", actual = "string" })
  assert_match(e.diagnosis, "%$%.limit")
  assert_eq(#sdk.calls("sync_msg"), 0, "the program was not called")
end)
