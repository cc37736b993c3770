-- The Python sample wraps request_data as {"input":{"func":...,"func_req":{...}}}; the
-- default world's invoke_sync_msg takes bare pairs, so WeCom answers 790016 and the journal
-- explains the mix-up.
scenario { world = "default" }

test("the Python sample's input wrapper is refused with 790016 and diagnosed", function()
  local r = call("invoke_sync_msg", { input = { func = "sync_msg", func_req = {} } })
  assert_eq(r.errcode, 790016)
  local e = assert(wait_journal({ kind = "protocol_mismatch" }, { timeout = 1 }))
  assert_sub(e, { ability_id = "invoke_sync_msg", errcode = 790016, path = "$.input" })
  assert_match(e.diagnosis, "Python sample")
  assert_match(e.diagnosis, "wrapper")
  assert_match(e.diagnosis, "func_req")
  -- the app sees WeCom's wording only
  assert_true(not string.find(r.errmsg, "wrapper"), "errmsg does not leak the diagnosis")
  -- the program was never called
  assert_eq(#journal({ face = "program", kind = "call" }), 0)
end)
