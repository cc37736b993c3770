-- A failed export, as a scenario scripts it (export.result{}): status 3 with result_errcode
-- and result_errmsg, no result_id; chat_archive_export_finished goes out all the same. A
-- rule is for the next jobs (times), a jobid for one job still under way.
local invoke = require("invoke")
scenario { world = "default" }

local media

local function new_job()
  local c = invoke("create_chatdata_export_job", { code = export.code(), media_id = media })
  assert_eq(c.errcode, 0, c.errmsg)
  return c.jobid
end

local function status(jobid)
  return invoke("get_chatdata_export_job_status", { jobid = jobid })
end

local function finished(jobid)
  return wait_journal({ face = "program", kind = "event",
    event = { chat_archive_export_finished = { jobid = jobid } } }, { timeout = 5 })
end

test("the next job fails as scripted; the one after succeeds", function()
  assert_eq(app("set_receive_callback", { program_id = "zone-demo" }).errcode, 0)
  media = upload_media("template.txt", "$chatName=wr_internal_01$").media_id
  local r = export.result { result_errcode = 710652, result_errmsg = "archive expired" }
  assert_eq({ r.result_errcode, r.times }, { 710652, 1 })
  local bad, good = new_job(), new_job()
  clock.advance(3)
  assert(finished(bad), "a failed job raises the event too")
  assert(finished(good))
  assert_eq(status(bad), { errcode = 0, errmsg = "ok", status = 3, result_errcode = 710652,
    result_errmsg = "archive expired" })
  local g = status(good)
  assert_eq({ g.status, g.result_errcode }, { 3, 0 })
  assert_match(g.result_id, "^rid_")
  local j = export.jobs()
  assert_eq({ j[1].scripted, j[1].result_id, j[2].scripted }, { true, nil, false })
end)

test("times counts jobs; result_errmsg defaults to the code's text", function()
  export.result { result_errcode = -1, times = 2 }
  local a, b, c = new_job(), new_job(), new_job()
  clock.advance(3)
  assert_eq(status(a), { errcode = 0, errmsg = "ok", status = 3, result_errcode = -1,
    result_errmsg = "system busy" })
  assert_eq(status(b).result_errcode, -1)
  assert_eq(status(c).result_errcode, 0)
end)

test("a job under way, by jobid: failed, or made to succeed again", function()
  local jobid = new_job()
  clock.advance(1)
  assert_eq(status(jobid).status, 2)
  local r = export.result { jobid = jobid, result_errcode = 301052 }
  assert_eq({ r.jobid, r.status }, { jobid, 2 })
  clock.advance(2)
  assert_eq(status(jobid).result_errcode, 301052)
  local seen = journal({ face = "sdk", kind = "export_job", jobid = jobid, status = 3 })
  assert_eq({ seen[1].result_errcode, seen[1].scripted }, { 301052, true })

  export.result { result_errcode = 710652 }
  local other = new_job()
  export.result { jobid = other, result_errcode = 0 }
  clock.advance(3)
  assert_eq(status(other).result_errcode, 0, "the jobid's script replaces the rule's")
end)

test("the control face refuses what it cannot do", function()
  local jobid = new_job()
  clock.advance(3)
  local ok, why = pcall(export.result, { jobid = jobid, result_errcode = 1 })
  assert_true(not ok)
  assert_match(why, "export%.result refused: job exp_%x+ is done already")
  ok, why = pcall(export.result, { jobid = "exp_nope", result_errcode = 1 })
  assert_match(why, "not an export job")
  ok, why = pcall(export.result, { result_errcode = 1.5 })
  assert_match(why, "result_errcode is required")
  ok, why = pcall(export.result, { jobid = jobid, result_errcode = 1, times = 2 })
  assert_match(why, "times is a positive integer")
  ok, why = pcall(export.config, { latency_ms = 5 })
  assert_match(why, "unknown setting latency_ms")
  local status_code, body = http("GET", "/_zonelab/export/code")
  assert_eq({ status_code, body.ok }, { 405, false })
  status_code, body = http("POST", "/_zonelab/export/nope", {})
  assert_eq(status_code, 404)

  export.result { result_errcode = 1, times = 3 }
  export.clear()
  local fresh = new_job()
  clock.advance(3)
  assert_eq(status(fresh).result_errcode, 0, "cleared")
end)
