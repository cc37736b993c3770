-- Debug mode as the vendor describes it (doc 54809 调试说明, doc 54810 开启专区调试模式): the
-- console's debug token (调试凭证) and debug URL (接收事件服务器), and the forwarding of the
-- program's calls and events to the developer's machine while debug mode is in effect. The
-- default world's app is a test installation (auth.test), so it may open debug mode; the
-- refusals (710672) are in debug_mode_corps.lua.
local invoke = require("invoke")
scenario { world = "default" }

local PROGRAM = "zone-demo"

-- both halves of debug mode: the app's open_debug_mode and the program's SpecOpenDebugMode
local function open(token)
  assert_eq(app("open_debug_mode", { program_id = PROGRAM, debug_token = token }).errcode, 0)
  local on = call("open_debug_mode", { debug_token = token, access_token = gettoken().access_token })
  assert_eq(on.data, { errcode = 0, errmsg = "ok" }, "SpecOpenDebugMode")
  assert_eq(app("check_debug_mode", { program_id = PROGRAM }).debug_mode_status, 2)
end

-- The program's newest "program"/"call" entry, and the instance whose SDK call that call caused.
local function last_call()
  local calls = journal({ face = "program", kind = "call", program_id = PROGRAM })
  local invokes = sdk.calls("sync_msg")
  return calls[#calls], invokes[#invokes]
end

test("the debug token: the same while it is valid, and its expiry does not move", function()
  -- "该凭证3天内有效，有效期内重复获取会获取到同样的凭证，并且不会刷新过期时间。"
  local t1 = program.debug_token()
  assert_eq(t1.debug_token, state().programs[1].debug_token, "the token the console showed")
  assert_eq(t1.renewed, false)
  assert_eq(t1.expires_at, state().programs[1].debug_token_expires_at)
  clock.advance(86400)
  local t2 = program.debug_token()
  assert_eq({ t2.debug_token, t2.expires_at, t2.renewed }, { t1.debug_token, t1.expires_at, false })
  assert(wait_journal { face = "control", kind = "debug_token", renewed = false })
end)

test("an expired debug token is 710671; fetching again gives a new one for 3 days", function()
  local old = program.debug_token()
  clock.advance(old.expires_at - clock.now() + 1)
  -- ERR 710671 "调试凭证已过期"
  assert_eq(app("open_debug_mode", { program_id = PROGRAM, debug_token = old.debug_token }).errcode,
    710671)
  local new = program.debug_token()
  assert_eq(new.renewed, true)
  assert_eq(new.debug_token == old.debug_token, false, "a new token")
  assert_eq(new.expires_at, clock.now() + 3 * 86400)
  assert_eq(state().programs[1].debug_token, new.debug_token, "/_zonelab/state shows the new one")
  assert_eq(app("open_debug_mode", { program_id = PROGRAM, debug_token = old.debug_token }).errcode,
    710671, "the old one stays expired")
  assert_eq(app("open_debug_mode", { program_id = PROGRAM, debug_token = new.debug_token }).errcode, 0)
  assert_eq(app("close_debug_mode", { program_id = PROGRAM }).errcode, 0)
end)

test("the debug URL: an http(s) URL or \"\", shown in the state", function()
  local ok, why = pcall(program.debug_url, { url = "ftp://example.com" })
  assert_eq(ok, false)
  assert_match(why, "http:// or https://")
  assert_eq(program.debug_url { url = "http://127.0.0.1:9/" }, "http://127.0.0.1:9/")
  assert_eq(state().programs[1].debug_url, "http://127.0.0.1:9/")
  assert_eq(program.debug_url { url = "" }, "")
  assert(wait_journal { face = "control", kind = "debug_url", debug_url = "" })
end)

test("in debug mode the program's calls and events reach the debug URL, not the replicas", function()
  -- "开启调试模式后，通过应用同步调用专区程序或者应用异步调用专区程序主动发起的程序调用，以及
  -- 专区程序接收事件通知的回调，都会转发到此URL"; §3: "这两个接口均调用成功后，调试模式才会生效。
  -- 对应应用调用程序的请求以及接收的回调请求都会请求到「1.2 设置接收事件服务器」中设置的接收事件
  -- 服务器，而不会请求到部署在企业微信专区中的程序。"
  local url = program.debug_start() -- the developer's machine: zone-demo on a port of its own
  assert_match(url, "^http://127%.0%.0%.1:%d+$")
  assert_eq(program.debug_url { url = url }, url)
  local token = program.debug_token().debug_token

  -- the app half alone: not in effect yet, the deployed replica still answers
  assert_eq(app("open_debug_mode", { program_id = PROGRAM, debug_token = token }).errcode, 0)
  assert_eq(invoke("sync_msg", { limit = 1 }).errcode, 0)
  local c, i = last_call()
  assert_eq({ c.instance, c.debug_url, i.instance }, { "zone-demo/0", nil, "zone-demo/0" })

  -- the SDK half (SpecOpenDebugMode is the program's, by its secret): now in effect
  open(token)
  assert_eq(invoke("sync_msg", { limit = 1 }).errcode, 0)
  c, i = last_call()
  assert_eq(c.debug_url, url, "the journal says where the call went")
  assert_eq(i.instance, "zone-demo/debug", "the developer's machine made the SDK call")

  -- async_program_task: the developer's machine accepts the job and reports it
  local task = async_call("new_messages_digest", {})
  assert_eq(task.errcode, 0)
  local r = assert(async_result(task.jobid, { timeout = 5 }))
  assert_eq({ r.errcode, r.response_errcode, r.data.errcode }, { 0, 0, 0 })
  local done = journal({ face = "sdk", kind = "invoke", api = "program_async_job_call_back" })
  assert_eq(done[#done].instance, "zone-demo/debug")
  assert_eq(assert(wait_journal { face = "program", kind = "call", is_async = true }).debug_url, url)

  -- events: "需要设置专区接收回调事件后，调式程序才可以收到专区程序接收事件通知"
  assert_eq(app("set_receive_callback", { program_id = PROGRAM }).errcode, 0)
  push_event({ event_type = "made_up", timestamp = 7 })
  local e = assert(wait_journal({ face = "program", kind = "event_result" }, { timeout = 5 }))
  assert_eq({ e.errcode, e.debug_url }, { 0, url })
  local n = assert(wait_notification { timeout = 5 })
  local notes = sdk.calls("spec_notify_app")
  assert_eq(notes[#notes].instance, "zone-demo/debug", "the developer's machine notified the app")
  assert_eq(call("get_callback_data", {}, { notify_id = n.notify_id }).data,
    { event_type = "made_up", timestamp = 7 })

  -- "使用调试模式，不需要上传镜像文件": no deployed replica is needed meanwhile (no 800002)
  program.kill(0)
  assert_eq(invoke("sync_msg", { limit = 1 }).errcode, 0)
  program.restart(0)
end)

test("after close_debug_mode the calls reach the deployed replicas again", function()
  assert_eq(app("close_debug_mode", { program_id = PROGRAM }).errcode, 0)
  assert_eq(app("check_debug_mode", { program_id = PROGRAM }).debug_mode_status, 1)
  assert_eq(invoke("sync_msg", { limit = 1 }).errcode, 0)
  local c, i = last_call()
  assert_eq({ c.instance, c.debug_url, i.instance }, { "zone-demo/0", nil, "zone-demo/0" })
  push_event({ event_type = "made_up", timestamp = 8 })
  local e = assert(wait_journal({ face = "program", kind = "event_result" }, { timeout = 5 }))
  assert_eq({ e.instance, e.debug_url }, { "zone-demo/0", nil })
end)

test("debug mode without a debug URL keeps the replicas", function()
  open(program.debug_token().debug_token)
  assert_eq(state().programs[1].debug_url ~= "", true, "the URL set above stays")
  program.debug_url { url = "" }
  assert_eq(invoke("sync_msg", { limit = 1 }).errcode, 0)
  local c, i = last_call()
  assert_eq({ c.debug_url, i.instance }, { nil, "zone-demo/0" })
  assert_eq(app("close_debug_mode", { program_id = PROGRAM }).errcode, 0)
end)
