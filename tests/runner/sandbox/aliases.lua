-- runner check: the old flat names (docs/scenarios.md, "Old names", kept until the next
-- release) are the new verbs, and still work.
scenario {}

-- msg_0010 is the default world's message with a fixed secret_key
local ITEM = { msgid = "msg_0010", encrypt_info = { secret_key = "zonelabFixedSecretKey00000000010" } }

test("every old name is its new verb", function()
  local same = {
    { "backend", backend, sdk.reply }, { "backend_clear", backend_clear, sdk.clear },
    { "sdk_calls", sdk_calls, sdk.calls }, { "wait_sdk_call", wait_sdk_call, sdk.wait_call },
    { "model_reply", model_reply, models.reply }, { "model_reply_clear", model_reply_clear, models.clear },
    { "model_config", model_config, models.config }, { "model_tags", model_tags, models.tags },
    { "model_knowledge", model_knowledge, models.knowledge }, { "model_tasks", model_tasks, models.tasks },
    { "export_code", export_code, export.code }, { "export_result", export_result, export.result },
    { "export_result_clear", export_result_clear, export.clear },
    { "export_config", export_config, export.config }, { "export_jobs", export_jobs, export.jobs },
    { "program_request", program_request, program.request },
  }
  for _, s in ipairs(same) do
    assert_true(type(s[2]) == "function" and s[2] == s[3], s[1])
  end
end)

test("the old names still work", function()
  backend { api = "sync_msg", errcode = 45009 }
  assert_eq(call("invoke_sync_msg", { limit = 1 }).data.errcode, 45009)
  assert_eq(assert(wait_sdk_call("sync_msg", { timeout = 5 })).outcome, "scripted")
  assert_eq(sdk_calls("sync_msg")[1].outcome, "scripted")
  backend_clear()
  assert_eq(call("invoke_sync_msg", { limit = 1 }).data.errcode, 0)

  model_reply { model = "summary", status = "failed", errcode = 790040 }
  local c = call("invoke_create_summary_task", { msg_list = { ITEM } }).data
  clock.advance(2)
  assert_eq(call("invoke_get_summary_result", { jobid = c.jobid }).data.errcode, 790040)
  model_reply_clear()
  assert_eq(model_config({ latency_ms = 100 }).latency_ms, 100)
  model_config { defaults = true }
  assert_true(model_tags({ { group_id = "g1", group_name = "G", tag_list = {
    { tag_id = "t1", tag_name = "vip" } } } }).ok)
  assert_true(model_knowledge({ kb_id = "kb_1", fragments = { "a fragment" } }).ok)
  assert_eq(model_tasks()[1].jobid, c.jobid)

  assert_match(export_code(), "^ec_")
  assert_true(export_result({ result_errcode = 710652 }).ok)
  export_result_clear()
  assert_eq(export_config({ waiting_ms = 500 }).waiting_ms, 500)
  assert_eq(#export_jobs(), 0)

  assert_eq(program_request(0), 200)
end)
