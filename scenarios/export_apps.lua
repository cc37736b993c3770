-- Two apps of one corp share zone-demo: a display component's code, a template's media_id
-- and a jobid each serve only the app they were issued to, and
-- chat_archive_export_finished goes to the receiving program of the app that created the job.
local apps = require("two_apps")
scenario { world = "worlds/two_apps.json" }

local media = {}

test("a code and a media_id serve only their own app", function()
  media.a = upload_media("t.txt", "$userName=zhangsan$", { token = apps.token("a") }).media_id
  media.b = upload_media("t.txt", "$userName=zhangsan$", { token = apps.token("b") }).media_id
  local code_b = export.code { agentid = 1000003 }
  local r = apps.a("create_chatdata_export_job", { code = code_b, media_id = media.a })
  assert_eq(r.errcode, 40058)
  assert_match(r.errmsg, "issued to another app")
  r = apps.b("create_chatdata_export_job", { code = code_b, media_id = media.a })
  assert_eq(r.errcode, 40007, "app a's template")
  assert_eq(apps.b("create_chatdata_export_job", { code = code_b, media_id = media.b }).errcode, 0,
    "neither refusal spent the code")
end)

test("a jobid is its app's; the event goes to that app's receiver", function()
  assert_eq(app("set_receive_callback", { program_id = "zone-demo" },
    { token = apps.token("b") }).errcode, 0)
  local a = apps.a("create_chatdata_export_job",
    { code = export.code { agentid = 1000002 }, media_id = media.a }).jobid
  local b = apps.b("create_chatdata_export_job",
    { code = export.code { agentid = 1000003 }, media_id = media.b }).jobid
  assert_eq(apps.b("get_chatdata_export_job_status", { jobid = a }).errcode, 40058)
  clock.advance(3)
  local e = assert(wait_journal({ face = "program", kind = "event",
    event = { chat_archive_export_finished = { jobid = b } } }, { timeout = 5 }))
  assert_eq(e.agentid, 1000003)
  assert_eq(apps.a("get_chatdata_export_job_status", { jobid = a }).status, 3)
  assert(settle())
  assert_eq(#journal({ face = "program", kind = "event",
    event = { chat_archive_export_finished = { jobid = a } } }), 0,
    "app a chose no receiving program")
end)
