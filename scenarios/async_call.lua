-- async_program_task / async_program_result: zone-demo answers the callback at once, runs
-- the ability on a worker and reports it with program_async_job_call_back.
scenario { world = "default" }

test("an async digest is reported through async_program_result", function()
  local task = async_call("new_messages_digest", {})
  assert_eq(task.errcode, 0, "async_program_task")
  assert_match(task.jobid, "^job_%x+$")
  local r = assert(async_result(task.jobid, { timeout = 5 }))
  assert_eq(r.errcode, 0, "async_program_result")
  assert_eq(r.response_errcode, 0)
  assert_eq(r.data.errcode, 0)
  -- the default world's 22 messages are all inside the 5-day window
  assert_eq(r.data.total, 22)
  assert_true(#r.data.by_msgtype > 0 and #r.data.by_sender > 0, "the digest has counts")
  -- the program reported it with the job_info of the callback
  local c = assert(sdk.wait_call("program_async_job_call_back", { timeout = 1 }))
  assert_eq(c.response.errcode, 0)
  assert_eq(c.req.errcode, 0)
end)

test("async_program_result on an unknown jobid answers 40058", function()
  local r = app("async_program_result", { jobid = "job_000000000000000000000000" })
  assert_eq(r.errcode, 40058)
end)
