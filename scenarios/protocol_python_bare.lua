-- The mismatch pair's Python half (issue 9): bare key/value pairs, the C++/Java samples'
-- request_data, sent to an ability registered the Python sample's way
-- ({"input":{"func":...,"func_req":{...}}}) get 790016, and the journal explains the mix-up.
-- The C half, the wrapper sent to bare pairs, is protocol_python_wrapper.lua.
scenario { world = "worlds/languages.json" }

local DIAGNOSIS = "request_data has bare key/value pairs (cursor, limit), but this ability's "
  .. "input protocol expects the Python sample's {\"input\":{\"func\":...,\"func_req\":{...}}} "
  .. "wrapper: send {\"input\":{\"func\":\"<name>\",\"func_req\":{<your pairs>}}} as request_data"

test("bare pairs sent to the Python sample's ability are refused with 790016 and diagnosed",
  function()
    local r = call("python_sample", '{"cursor":"","limit":10}')
    assert_eq(r.errcode, 790016)
    local e = assert(wait_journal({ kind = "protocol_mismatch" }, { timeout = 1 }))
    assert_sub(e, { ability_id = "python_sample", errcode = 790016 })
    assert_eq(e.diagnosis, DIAGNOSIS)
    -- the app sees WeCom's wording only
    assert_true(not string.find(r.errmsg, "wrapper", 1, true), "errmsg does not leak the diagnosis")
    -- the program was never called
    assert_eq(#journal({ face = "program", kind = "call" }), 0)
  end)

test("the same pairs in the wrapper pass the input protocol and reach the program", function()
  local r = call("python_sample", '{"input":{"func":"sync_msg","func_req":{"cursor":"","limit":10}}}')
  assert_true(r.errcode ~= 790016, "the wrapper matches the input protocol")
  assert_eq(#journal({ kind = "protocol_mismatch", errcode = 790016 }), 1, "only the bare call")
  assert_eq(#journal({ face = "program", kind = "call" }), 1)
end)
