-- Transport faults on the SDK face: garbage instead of a zone wire reply, and a slow
-- answer. zone-demo reports the first as its own failure (710660) and waits out the second.
scenario {}

test("a garbage answer to sync_msg becomes the sample's 710660", function()
  sdk.reply { api = "sync_msg", fault = "garbage", times = 1 }
  local r = call("invoke_sync_msg", { limit = 1 })
  assert_eq(r.errcode, 0)
  assert_eq(r.data.errcode, 710660)
  local e = assert(wait_journal({ face = "sdk", kind = "invoke", api = "sync_msg" },
    { timeout = 2, where = function(e) return e.outcome == "garbage" end }))
  assert_eq(e.outcome, "garbage")
  assert_eq(call("invoke_sync_msg", { limit = 1 }).data.errcode, 0, "the next call is served")
end)

test("a delayed sync_msg still answers", function()
  sdk.clear()
  sdk.reply { api = "sync_msg", fault = "delay", delay_ms = 300, times = 1 }
  local r = call("invoke_sync_msg", { limit = 1 })
  assert_eq(r.data.errcode, 0)
  assert_eq(#r.data.msg_list, 1)
  assert_true(#journal({ face = "sdk", kind = "invoke", outcome = "delayed" }) == 1)
end)
