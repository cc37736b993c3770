-- The options table (docs/emulator.md, "Options") changes behaviour, not only a number in
-- GET /_zonelab/options: set at start with scenario{options=}, changed live with options{},
-- and the options fixed at start refused. tests/cli/options_ways.sh sets every option each
-- way; this file checks what a few of them do.
local invoke = require("invoke")
scenario { options = { protocol = { distinguish_integers = true } } }

test("protocol.distinguish_integers: 5.5 is not an integer example's type", function()
  -- spec app-api.md §11: "Integer vs fractional number: one number type [unknown: emulator
  -- default one number type, configurable to distinguish integers]"
  assert_eq(options()["protocol.distinguish_integers"], true)
  local r = call("invoke_sync_msg", '{"limit":5.5}')
  assert_eq(r.errcode, 790016, "the example's limit is 0, an integer")
  assert_eq(call("invoke_sync_msg", '{"limit":5}').errcode, 0, "5 is an integer")
  local d = assert(wait_journal({ face = "app", kind = "protocol_mismatch" }, { timeout = 2 }))
  assert_eq({ d.path, d.expected, d.actual }, { "$.limit", "integer", "number" })
  options { protocol = { distinguish_integers = false } }
  assert_eq(call("invoke_sync_msg", '{"limit":5.5}').errcode, 0, "one number type again")
end)

test("protocol.input_mismatch_code and protocol.top_level_only, live", function()
  local nested = '{"chat_info":{"chat_type":"one"}}'
  assert_eq(call("invoke_search_msg", nested).errcode, 790016)
  options { ["protocol.input_mismatch_code"] = 710647 }
  assert_eq(call("invoke_search_msg", nested).errcode, 710647, "input protocol mismatch")
  options { ["protocol.top_level_only"] = true }
  assert_eq(call("invoke_search_msg", nested).errcode, 0, "chat_info is an object: enough")
  assert_eq(call("invoke_search_msg", '{"chat_info":"one"}').errcode, 710647,
    "the top level is still checked")
  options { protocol = { input_mismatch_code = 790016, top_level_only = false } }
end)

test("token_fresh_each, live: the same token while valid, or a new one each call", function()
  -- doc 42543: "有效期内重复获取返回相同结果"
  assert_eq(gettoken().access_token, gettoken().access_token)
  options { token_fresh_each = true }
  assert_true(gettoken().access_token ~= gettoken().access_token, "a new token each call")
  options { token_fresh_each = false }
end)

test("options fixed at start are refused while running, and nothing changes", function()
  local before = options()
  local ok, e = pcall(options, { journal_replies = false, token_ttl_s = 60 })
  assert_eq(ok, false)
  assert_match(e, "journal_replies is fixed at start")
  ok, e = pcall(options, { ready_timeout_ms = 1 })
  assert_match(e, "ready_timeout_ms is fixed at start")
  assert_eq(options(), before)
  local j = journal { face = "control", kind = "options" }
  assert_true(#j > 0 and j[#j].set.token_fresh_each == false, "live changes are journaled")
end)

test("sync_msg.limit_over_max and sync_msg.empty_cursor", function()
  assert_eq(invoke("sync_msg", { limit = 5000 }).errcode, 40058)
  assert_eq(invoke("sync_msg", { cursor = "" }).errcode, 40058)
  options { sync_msg = { limit_over_max = "clamp", empty_cursor = "absent" } }
  local d = invoke("sync_msg", { limit = 5000 })
  assert_eq({ d.errcode, #d.msg_list }, { 0, 22 })
  d = invoke("sync_msg", { cursor = "", token = "", limit = 3 })
  assert_eq({ d.errcode, #d.msg_list, d.msg_list[1].msgid }, { 0, 3, "msg_0001" })
  options { sync_msg = { limit_over_max = "refuse", empty_cursor = "refuse" } }
end)

test("window_s and sync_msg.cursor_before_window", function()
  local cursor = invoke("sync_msg", { limit = 3 }).next_cursor -- before msg_0004 (11-02)
  -- one day back from 11-05 00:00 leaves msg_0015.. (11-04); the cursor is older
  options { window_s = 86400 }
  local d = invoke("sync_msg", { cursor = cursor, limit = 1000 })
  assert_eq(d.errcode, 0)
  assert_true(#d.msg_list < 19 and d.msg_list[1].msgid ~= "msg_0004",
    "the cursor skipped to the window")
  for _, m in ipairs(d.msg_list) do
    assert_true(m.send_time >= clock.now() - 86400, m.msgid .. " is inside one day")
  end
  options { ["sync_msg.cursor_before_window"] = "refuse" }
  assert_eq(invoke("sync_msg", { cursor = cursor }).errcode, 710611)
  options { window_s = 5 * 86400, ["sync_msg.cursor_before_window"] = "skip" }
  assert_eq(invoke("sync_msg", { cursor = cursor, limit = 1 }).msg_list[1].msgid, "msg_0004")
end)

test("get_auth_user_list.has_more: the field table's integer, or the example's boolean", function()
  -- doc 52569: has_more is "Integer" in the field table, "has_more": true in the example
  local r = app("get_auth_user_list", { limit = 1 })
  assert_eq({ r.errcode, r.has_more }, { 0, 1 })
  assert_eq(app("get_auth_user_list", { limit = 1001 }).errcode, 40058)
  options { get_auth_user_list = { has_more = "boolean", limit_over_max = "clamp" } }
  r = app("get_auth_user_list", { limit = 1 })
  assert_eq({ r.errcode, r.has_more }, { 0, true })
  r = app("get_auth_user_list", { limit = 1001 })
  assert_eq({ r.errcode, r.has_more }, { 0, false })
  options { get_auth_user_list = { has_more = "integer", limit_over_max = "refuse" } }
end)

test("async_program_result.pending_errcode: 710642 or 790023 before the report", function()
  -- the program's report is answered by the scenario, so the job stays pending
  sdk.reply { api = "program_async_job_call_back", reply = { errcode = 0, errmsg = "ok" } }
  local task = async_call("new_messages_digest", {})
  assert_eq(task.errcode, 0)
  assert(sdk.wait_call("program_async_job_call_back", { timeout = 5 }))
  assert_eq(app("async_program_result", { jobid = task.jobid }).errcode, 710642)
  options { ["async_program_result.pending_errcode"] = 790023 }
  assert_eq(app("async_program_result", { jobid = task.jobid }).errcode, 790023)
  options { ["async_program_result.pending_errcode"] = 710642 }
  sdk.clear()
end)

test("get_rule_list.max_limit", function()
  assert_eq(invoke("get_rule_list", { limit = 1000 }).errcode, 0)
  options { ["get_rule_list.max_limit"] = 500 }
  assert_eq(invoke("get_rule_list", { limit = 501 }).errcode, 40058)
  assert_eq(invoke("get_rule_list", { limit = 500 }).errcode, 0)
  options { ["get_rule_list.max_limit"] = 1000 }
end)

test("models.config{} and export.config{} are the same options", function()
  models.config { latency_ms = 4000 }
  assert_eq(options()["models.latency_ms"], 4000)
  options { ["export.waiting_ms"] = 1500 }
  assert_eq(export.config {}.waiting_ms, 1500)
  models.config { defaults = true }
  export.config { defaults = true }
  assert_eq({ options()["models.latency_ms"], options()["export.waiting_ms"] }, { 2000, 1000 })
end)
