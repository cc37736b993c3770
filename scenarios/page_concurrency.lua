-- get_msg_list_by_page_id takes "at most 10 concurrent calls per corp" (doc 53341); the 11th
-- in flight is 45033. zonelab answers a call as soon as it arrives, so here the scenario holds
-- ten of them (an hour of the virtual clock each) while zone-demo's async workers, twelve of
-- them, make an eleventh. Released, the ten are answered as usual.
scenario { world = "default", env = { ZONE_DEMO_ASYNC_WORKERS = "12" } }

local PAGE = "get_msg_list_by_page_id"

test("the 11th concurrent get_msg_list_by_page_id of a corp is 45033", function()
  sdk.reply { api = PAGE, fault = "delay", delay_ms = 3600000, times = 10 }
  local jobs = {}
  for i = 1, 10 do
    local r = async_call("invoke_" .. PAGE, { page_id = "held_" .. i })
    assert_eq(r.errcode, 0)
    jobs[i] = r.jobid
  end
  for _ = 1, 10 do
    assert(wait_journal({ face = "sdk", kind = "invoke", api = PAGE, outcome = "delayed" },
      { timeout = 5 }), "ten page calls are held")
  end
  local r = async_call("invoke_" .. PAGE, { page_id = "eleventh" })
  assert_eq(r.errcode, 0)
  local res = assert(async_result(r.jobid, { timeout = 5 }))
  assert_eq(res.data.errcode, 45033)
  local e = assert(wait_journal({ face = "sdk", kind = "invoke", api = PAGE, outcome = "answered" },
    { timeout = 5 }))
  assert_eq(e.response.errcode, 45033)
  clock.advance(3600)
  for _, jobid in ipairs(jobs) do
    local held = assert(async_result(jobid, { timeout = 5 }))
    assert_eq(held.data.errcode, 40058, "released, each is served (its page_id is unknown)")
  end
  r = async_call("invoke_" .. PAGE, { page_id = "after" })
  assert_eq(assert(async_result(r.jobid, { timeout = 5 })).data.errcode, 40058,
    "with none in flight, a call is served again")
end)
