-- Shared flow (issue 9): an async call is answered at once, run by the program and reported
-- with program_async_job_call_back (its job_info); async_program_result gives the answer.
-- C++/Java: invoke_sync_msg; Python sample (vars.lang = "python"): func sync_msg, the
-- answer in "output".
local lang = (vars and vars.lang) or "c"
local PYTHON = lang == "python"

scenario { world = "../worlds/languages.json" }

test("an async sync_msg is reported through program_async_job_call_back (" .. lang .. ")",
  function()
    local task
    if PYTHON then
      task = async_call("python_sample", { input = { func = "sync_msg", func_req = { limit = 5 } } })
    else
      task = async_call("invoke_sync_msg", { limit = 5 })
    end
    assert_eq(task.errcode, 0, "async_program_task")
    assert_match(task.jobid, "^job_%x+$")
    local r = assert(async_result(task.jobid, { timeout = 5 }))
    assert_eq(r.errcode, 0, "async_program_result")
    assert_eq(r.response_errcode, 0)
    local d = PYTHON and r.data.output or r.data
    assert_eq(d.errcode, 0)
    assert_eq(#d.msg_list, 5)
    assert_eq(d.msg_list[1].msgid, "msg_0001")
    local c = assert(sdk.wait_call("program_async_job_call_back", { timeout = 1 }))
    assert_eq(c.response.errcode, 0)
    assert_eq(c.req.errcode, 0)
    assert_eq(json.decode(c.req.result), r.data, "the reported result is the job's answer")
  end)
