-- create_chatdata_export_job / get_chatdata_export_job_status: a job waits (status 1), runs
-- (2) and is done (3) on the virtual clock (1 s + 2 s by default), then
-- chat_archive_export_finished{jobid} goes to the program the app chose; result_id only
-- when result_errcode is 0. The template is an upload_media id read as text.
local invoke = require("invoke")
scenario { world = "default" }

local TEMPLATE = table.concat({
  "Export for $userName=zhangsan$ ($userAlias=zhangsan$) in $chatName=wr_internal_01$",
  "$msgContent=msg_0010/zonelabFixedSecretKey00000000010$",
  "$msgContent=msg_0001/key-1$ $msgContent=msg_0001/key-1$",
  "customer: $externalUserName=wm_cust_01$, team: $departmentName=1$",
  "not tokens: $price$ $userName=$ $msgContent=msg_0002$ $noSuchToken=x$",
}, "\n")

local function status(jobid)
  return invoke("get_chatdata_export_job_status", { jobid = jobid })
end

local media, jobid

test("a job waits, runs, and is done; the program hears of it", function()
  assert_eq(app("set_receive_callback", { program_id = "zone-demo" }).errcode, 0)
  media = upload_media("template.txt", TEMPLATE)
  assert_eq(media.errcode, 0, media.errmsg)
  local c = invoke("create_chatdata_export_job", { code = export.code(), media_id = media.media_id })
  assert_eq(c.errcode, 0, c.errmsg)
  assert_match(c.jobid, "^exp_%x+$")
  assert_true(#c.jobid <= 64, "a jobid is at most 64 characters")
  jobid = c.jobid

  -- status polling: 1 waiting, 2 running, 3 done, on the virtual clock
  assert_eq(status(jobid), { errcode = 0, errmsg = "ok", status = 1 })
  clock.advance(1)
  assert_eq(status(jobid), { errcode = 0, errmsg = "ok", status = 2 })
  clock.advance(1.5)
  assert_eq(status(jobid).status, 2, "still running at 2.5 s")
  local t0 = clock.now()
  clock.advance(0.5)
  local e = assert(wait_journal({ face = "program", kind = "event",
    event = { event_type = "chat_archive_export_finished" } }, { timeout = 5 }))
  assert_eq(e.agentid, 1000002)
  assert_eq(e.event.chat_archive_export_finished, { jobid = jobid })
  assert_true(e.event.timestamp >= t0, "timestamp: the virtual time the job finished")

  local d = status(jobid)
  assert_eq({ d.errcode, d.status, d.result_errcode, d.result_errmsg }, { 0, 3, 0, "ok" })
  assert_match(d.result_id, "^rid_%x+$")
  assert_eq(status(jobid), d, "a finished job answers the same")

  -- zone-demo stored the event and told the app, which reads it back
  local n = assert(wait_notification { timeout = 5 })
  local back = call("get_callback_data", {}, { notify_id = n.notify_id })
  assert_eq(back.data.event_type, "chat_archive_export_finished")
  assert_eq(back.data.chat_archive_export_finished.jobid, jobid)
  assert_eq(#journal({ face = "program", kind = "event",
    event = { event_type = "chat_archive_export_finished" } }), 1, "one event per job")
end)

test("the journal has each status; the control face read the template's tokens", function()
  local seen = {}
  for _, e in ipairs(journal({ face = "sdk", kind = "export_job", jobid = jobid })) do
    seen[#seen + 1] = e.status
  end
  assert_eq(seen, { 1, 2, 3 })
  local j = export.jobs()[1]
  assert_eq(j.jobid, jobid)
  assert_eq(j.status, 3)
  assert_eq(j.message_ids, 2, "msg_0010 and msg_0001 (named twice)")
  assert_eq(j.tokens, { departmentName = 1, userName = 1, userAlias = 1, userAliasOrName = 0,
    chatName = 1, msgContent = 3, externalUserName = 1 })
  assert_eq(j.result_expires_at, j.due_ms // 1000 + 14 * 86400, "result_id lives 14 days")
end)

test("a get after the due time finishes the job itself; the event still goes once", function()
  local c = invoke("create_chatdata_export_job", { code = export.code(), media_id = media.media_id })
  clock.advance(3)
  assert_eq(status(c.jobid).status, 3)
  assert(wait_journal({ face = "program", kind = "event",
    event = { chat_archive_export_finished = { jobid = c.jobid } } }, { timeout = 5 }))
  assert(settle())
  assert_eq(#journal({ face = "program", kind = "event",
    event = { chat_archive_export_finished = { jobid = c.jobid } } }), 1)
end)

test("the timings are settings; a jobid is answered 24 h after its job finished", function()
  assert_eq(export.config { waiting_ms = 0, running_ms = 60000 },
    { waiting_ms = 0, running_ms = 60000, daily_budget = 1000, bad_code_errcode = 40058,
      accept_upload_media = true })
  local c = invoke("create_chatdata_export_job", { code = export.code(), media_id = media.media_id })
  assert_eq(status(c.jobid).status, 2, "no wait")
  clock.advance(59)
  assert_eq(status(c.jobid).status, 2)
  clock.advance(1)
  assert_eq(status(c.jobid).status, 3)
  export.config { defaults = true }

  clock.advance(86399)
  assert_eq(status(c.jobid).status, 3, "a day less one second")
  clock.advance(1)
  local r = status(c.jobid)
  assert_eq(r.errcode, 40058, "the jobid's 24 h are over")
  assert_match(r.errmsg, "unknown jobid")
end)

test("jobid: required, and unknown ids are 40058", function()
  assert_eq(status(nil).errcode, 40058)
  assert_eq(invoke("get_chatdata_export_job_status", { jobid = "" }).errcode, 40058)
  assert_eq(status("exp_0000000000000000").errcode, 40058)
  assert_eq(status(string.rep("x", 65)).errcode, 40058)
  assert_eq(call("invoke_get_chatdata_export_job_status", { jobid = 7 }).errcode, 790016,
    "not a string: the ability's input protocol refuses it before the SDK")
end)
