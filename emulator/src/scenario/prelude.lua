-- prelude.lua: the scenario verbs (docs/scenarios.md), built on the C primitives in _zl.
-- Compiled into zonelab; runs before every scenario file. A verb misused raises an error at
-- the scenario's line; a wait that runs out returns nil, "timeout". Story verbs are flat
-- (call, archive, wait_notification, assert_eq, ...); what scripts or inspects one part of
-- the emulator is a table of verbs: sdk.*, models.*, export.*, suite.*, program.*, clock.*.
-- At the end the old flat names are kept as aliases and every global defined here is locked.

local zl = _zl
_zl = nil

null = setmetatable({}, { __name = "null", __tostring = function() return "null" end })
array_mt = { __name = "array" }

-- An array that stays an array when empty (JSON []).
function array(t)
  return setmetatable(t or {}, array_mt)
end

json = { encode = zl.json_encode, decode = zl.json_decode, null = null, array = array }

local clock_ms = zl.monotonic_ms

-- Raises at the scenario's line (not the prelude's), however deep the call is.
local function raise(msg)
  error(zl.where() .. msg, 0)
end

local function check(cond, level, fmt, ...)
  if not cond then
    raise(string.format(fmt, ...))
  end
end

local token

-- ---- the app's side ----

-- http(method, path, body): body a table (sent as JSON) or a string (sent as is);
-- returns status, decoded body (or the raw text when it is not JSON).
function http(method, path, body, timeout)
  check(type(method) == "string" and type(path) == "string", 2, "http(method, path, body?)")
  if type(body) == "table" then
    body = json.encode(body)
  end
  local status, text = zl.http(method, path, body, timeout)
  if not status then
    raise("HTTP " .. method .. " " .. path .. " failed: " .. tostring(text))
  end
  local decoded = json.decode(text)
  if decoded == nil then
    return status, text
  end
  return status, decoded
end

-- gettoken(corpid?, secret?): the raw gettoken reply (defaults: the world's first app).
function gettoken(corpid, secret)
  local info = zl.info()
  local _, r = http("GET", "/cgi-bin/gettoken?corpid=" .. (corpid or info.corpid)
    .. "&corpsecret=" .. (secret or info.secret))
  return r
end

local function access_token()
  if not token then
    local r = gettoken()
    check(r.errcode == 0, 3, "gettoken failed: %s", json.encode(r))
    token = r.access_token
  end
  return token
end

-- app(endpoint, body, opts): POST /cgi-bin/chatdata/<endpoint> with the app's token
-- (opts.token to use another); returns the decoded reply.
function app(endpoint, body, opts)
  check(type(endpoint) == "string", 2, "app(endpoint, body): endpoint must be a string")
  opts = opts or {}
  local status, r = http("POST", "/cgi-bin/chatdata/" .. endpoint .. "?access_token="
    .. (opts.token or access_token()), body or {}, opts.timeout)
  if not opts.token and type(r) == "table" and (r.errcode == 42001 or r.errcode == 40014) then
    token = nil -- the clock moved past its 7200 s: fetch a new one, as an app must
    status, r = http("POST", "/cgi-bin/chatdata/" .. endpoint .. "?access_token="
      .. access_token(), body or {}, opts.timeout)
  end
  check(status == 200 and type(r) == "table", 2, "%s answered HTTP %s: %s", endpoint,
    tostring(status), tostring(r))
  return r
end

local function request_text(request, level)
  if request == nil then
    return "{}"
  elseif type(request) == "table" then
    return json.encode(request)
  end
  check(type(request) == "string", level + 1,
    "request_data is a table (sent as JSON) or a string (sent byte for byte)")
  return request
end

-- call(ability, request, opts): sync_call_program. request is a table or exact bytes;
-- opts.notify_id, opts.program. The reply gets .data, response_data decoded.
function call(ability, request, opts)
  check(type(ability) == "string", 2, "call(ability, request, opts): ability must be a string")
  opts = opts or {}
  local r = app("sync_call_program", {
    program_id = opts.program or zl.info().program_id,
    ability_id = ability,
    request_data = request_text(request, 2),
    notify_id = opts.notify_id,
  }, opts)
  if type(r.response_data) == "string" then
    r.data = json.decode(r.response_data)
  end
  return r
end

-- async_call(ability, request, opts): async_program_task; returns the reply (with jobid).
function async_call(ability, request, opts)
  check(type(ability) == "string", 2, "async_call(ability, request): ability must be a string")
  opts = opts or {}
  return app("async_program_task", {
    program_id = opts.program or zl.info().program_id,
    ability_id = ability,
    request_data = request_text(request, 2),
  }, opts)
end

-- async_result(jobid, {timeout=s}): polls async_program_result until the job is reported;
-- returns the reply (with .data), or nil, "timeout".
function async_result(jobid, opts)
  check(type(jobid) == "string", 2, "async_result(jobid): jobid must be a string")
  local deadline = clock_ms() + (opts and opts.timeout or zl.step_timeout()) * 1000
  while true do
    local r = app("async_program_result", { jobid = jobid })
    if r.errcode ~= 710642 then
      if type(r.response_data) == "string" then
        r.data = json.decode(r.response_data)
      end
      return r
    end
    if clock_ms() >= deadline then
      return nil, "timeout"
    end
    zl.sleep(0.02)
  end
end

-- ---- the world ----

-- archive(message or list of messages): archives through the control face; returns
-- {archived=n, events={{msgid, agentid, program_id, token}...}}.
function archive(messages)
  check(type(messages) == "table", 2, "archive(message or list of messages)")
  if messages.msgid then
    messages = { messages }
  end
  local status, r = http("POST", "/_zonelab/messages", { messages = messages })
  check(status == 200, 2, "archive refused: %s", type(r) == "table" and tostring(r.error) or tostring(r))
  return r
end

-- push_event(event, {program=, replica=, agentid=}): any event JSON to the program.
function push_event(event, opts)
  check(type(event) == "table", 2, "push_event(event): event must be a table")
  opts = opts or {}
  local status, r = http("POST", "/_zonelab/events", {
    event = event, program_id = opts.program, replica = opts.replica, agentid = opts.agentid,
  })
  check(status == 200, 2, "push_event refused: %s", type(r) == "table" and tostring(r.error) or tostring(r))
  return r
end

-- consent{userid= | chatid=, external_userid=, status="Agree"|"Disagree", corpid=}: a
-- customer decides on archiving; returns {ok, change_time, events = {{agentid, program_id,
-- event_type}...}}, the chat_archive_audit_approved_* events it fired.
function consent(spec)
  check(type(spec) == "table", 2, "consent{userid= or chatid=, external_userid=, status=}")
  local status, r = http("POST", "/_zonelab/consent", {
    corpid = spec.corpid, userid = spec.userid, chatid = spec.chatid,
    external_userid = spec.external_userid, status = spec.status or "Agree",
  })
  check(status == 200, 2, "consent refused: %s", type(r) == "table" and tostring(r.error) or tostring(r))
  return r
end

-- knowledge{action=, kb_id=, kb_name=, agentid=, granted=, corpid=}: the admin console's side
-- of knowledge sets (POST /_zonelab/knowledge): "create", "authorise", "revoke", "delete",
-- "grant" or "list"; returns the answer ({ok, kb_id?, changed?, events = {{agentid,
-- program_id, event_type}...}, sets?}).
function knowledge(spec)
  check(type(spec) == "table" and type(spec.action) == "string", 2,
    "knowledge{action = \"authorise\" | \"revoke\" | \"delete\" | \"create\" | \"grant\" | \"list\", ...}")
  local status, r = http("POST", "/_zonelab/knowledge", {
    action = spec.action, corpid = spec.corpid, kb_id = spec.kb_id, kb_name = spec.kb_name,
    agentid = spec.agentid, granted = spec.granted,
  })
  check(status == 200, 2, "knowledge refused: %s", type(r) == "table" and tostring(r.error) or tostring(r))
  return r
end

-- learn_result{docid= | doc_name= | web_url=, kb_id=, learn_status=1, latency=seconds,
-- corpid=}: how documents finish learning (knowledge_base_learn_done); returns the answer.
function learn_result(spec)
  check(type(spec) == "table", 2, "learn_result{docid= or doc_name= or web_url=, learn_status=, latency=}")
  check(spec.latency == nil or (type(spec.latency) == "number" and spec.latency >= 0), 2,
    "learn_result{}.latency is seconds >= 0")
  local status, r = http("POST", "/_zonelab/knowledge", {
    action = "learn_result", corpid = spec.corpid, kb_id = spec.kb_id, docid = spec.docid,
    doc_name = spec.doc_name, web_url = spec.web_url,
    learn_status = spec.learn_status or ((spec.docid or spec.doc_name or spec.web_url) and 1 or nil),
    latency_ms = spec.latency and math.floor(spec.latency * 1000) or nil,
  })
  check(status == 200, 2, "learn_result refused: %s", type(r) == "table" and tostring(r.error) or tostring(r))
  return r
end

-- upload_media(filename, bytes, opts): POST /cgi-bin/chatdata/upload_media as multipart
-- (part "media" with filename, filelength and a Content-Type); opts.token, opts.type
-- (default "file"), opts.content_type, opts.timeout. Returns the decoded reply.
function upload_media(filename, bytes, opts)
  check(type(filename) == "string" and not filename:find('["\r\n]') and type(bytes) == "string", 2,
    "upload_media(filename, bytes): two strings; no quote or line break in filename")
  opts = opts or {}
  local b = "zonelab-boundary-7d41f0c2"
  local body = "--" .. b .. "\r\n"
    .. 'Content-Disposition: form-data; name="media"; filename="' .. filename .. '"; filelength='
    .. #bytes .. "\r\nContent-Type: " .. (opts.content_type or "application/octet-stream")
    .. "\r\n\r\n" .. bytes .. "\r\n--" .. b .. "--\r\n"
  local function post(t)
    local status, text = zl.http("POST", "/cgi-bin/chatdata/upload_media?access_token=" .. t
      .. "&type=" .. (opts.type or "file"), body, opts.timeout, "multipart/form-data; boundary=" .. b)
    if not status then
      raise("HTTP POST upload_media failed: " .. tostring(text))
    end
    return status, json.decode(text) or text
  end
  local status, r = post(opts.token or access_token())
  if not opts.token and type(r) == "table" and (r.errcode == 42001 or r.errcode == 40014) then
    token = nil
    status, r = post(access_token())
  end
  check(status == 200 and type(r) == "table", 2, "upload_media answered HTTP %s: %s",
    tostring(status), tostring(r))
  return r
end

-- decrypt_secret_key(encrypted_secret_key, private_key_file): what an app does with a sync_msg
-- item's service_encrypt_info: the message's secret_key, or nil, why when the key does not
-- fit (another app's key, say). A relative file is read from the scenario file's folder.
function decrypt_secret_key(encrypted, file)
  check(type(encrypted) == "string" and type(file) == "string", 2,
    "decrypt_secret_key(encrypted_secret_key, private_key_file)")
  return zl.decrypt_secret_key(encrypted, file)
end

-- file_text(file): the text of a file beside the scenario (at most 1 MiB), such as the PEM
-- of a public key for set_public_key.
function file_text(file)
  check(type(file) == "string", 2, "file_text(file)")
  return zl.file_text(file)
end

function state()
  local _, r = http("GET", "/_zonelab/state")
  return r
end

-- options(): the value of every option now, {["name"] = value} (GET /_zonelab/options).
-- options{name = value, ...}: sets live options (POST /_zonelab/options; nested tables join
-- names with dots) and returns what it set; an unknown name, a bad value or an option fixed
-- at start raises "options{} refused: ...".
function options(spec)
  if spec == nil then
    local status, r = http("GET", "/_zonelab/options")
    check(status == 200, 2, "options(): %s", type(r) == "table" and tostring(r.error) or "")
    local t = {}
    for _, o in ipairs(r.options) do
      t[o.name] = o.value
    end
    return t
  end
  check(type(spec) == "table", 2,
    "options{name = value, ...} sets options, options() reads them (zonelab options lists them)")
  local status, r = http("POST", "/_zonelab/options", next(spec) == nil and "{}" or spec)
  check(status == 200, 2, "options{} refused: %s", type(r) == "table" and tostring(r.error) or
    tostring(r))
  return r.set
end

clock = {}

-- clock.advance(seconds): moves the virtual clock forward.
function clock.advance(seconds)
  check(type(seconds) == "number" and seconds >= 0, 2, "clock.advance(seconds >= 0)")
  local status, r = http("POST", "/_zonelab/clock", { advance_ms = math.floor(seconds * 1000) })
  check(status == 200, 2, "clock.advance: %s", type(r) == "table" and tostring(r.error) or "")
  return r.now
end

function clock.now()
  return state().clock.now
end

-- ---- waiting ----

function sleep(seconds)
  zl.sleep(seconds)
end

-- settle({timeout=s}): true once the emulator has nothing under way (every callback it sent
-- answered or given up, every request it received answered, no timer due on the virtual
-- clock), or nil, "timeout". For asserting that something did not happen, without sleeping.
function settle(opts)
  check(opts == nil or type(opts) == "table", 2, "settle(opts): opts must be a table")
  return zl.settle(opts and opts.timeout)
end

-- wait_notification({timeout=s, agentid=n}): the next program_notify the built-in app got.
function wait_notification(opts)
  opts = opts or {}
  return zl.wait_inbox(opts.agentid, opts.timeout)
end

function notifications(agentid)
  return zl.inbox(agentid)
end

-- test_app{fail=n}: points the first app's callback URL at an app server inside the
-- emulator that verifies and decrypts like a real app, leaving its first n deliveries
-- unanswered past the per-try timeout. Returns the URL.
function test_app(opts)
  return zl.test_app(opts and opts.fail or 0)
end

-- test_app_received(): what that app decrypted so far: {notify_id, xml} each.
function test_app_received()
  return zl.test_app_received()
end

local function with_request(e)
  if e and type(e.request) == "string" then
    e.req = json.decode(e.request)
  end
  return e
end

-- wait_journal(filter, {timeout=s, where=fn}): the next journal entry whose fields equal
-- filter's and, when given, for which where(entry) is true (string.find patterns and the
-- like go there).
function wait_journal(filter, opts)
  check(type(filter) == "table", 2, "wait_journal(filter): filter must be a table")
  opts = opts or {}
  check(opts.where == nil or type(opts.where) == "function", 2, "wait_journal: where is a function")
  local deadline = clock_ms() + (opts.timeout or zl.step_timeout()) * 1000
  while true do
    local left = (deadline - clock_ms()) / 1000
    if left <= 0 then
      return nil, "timeout"
    end
    local e, why = zl.wait_journal(filter, left)
    if not e or not opts.where or opts.where(e) then
      return e, why
    end
  end
end

-- journal(filter): every journal entry so far matching filter.
function journal(filter)
  return zl.journal(filter)
end

-- ---- the SDK face: sdk.* ----

sdk = {}

-- sdk.calls(api?): every SDK invoke of api (of any api when nil) so far, each with .req
-- decoded.
function sdk.calls(api)
  local list = zl.journal({ face = "sdk", kind = "invoke", api = api })
  for _, e in ipairs(list) do
    with_request(e)
  end
  return list
end

-- sdk.wait_call(api, {timeout=s}): the next SDK invoke of api by the program (since the
-- test began); the entry has .req, the request decoded, and .response.
function sdk.wait_call(api, opts)
  check(type(api) == "string", 2, "sdk.wait_call(api): api must be a string")
  local e, why = zl.wait_journal({ face = "sdk", kind = "invoke", api = api }, opts and opts.timeout)
  return with_request(e), why
end

local specs = {}

local function dispatch(api, request)
  for _, s in ipairs(specs) do
    if s.api == api and s.left ~= 0 then
      s.left = s.left - 1
      if s.reply ~= nil then
        local r = s.reply
        if type(r) == "function" then
          r = r(request)
        end
        if r ~= nil then
          return { action = "reply", reply = r }
        end
        return nil
      elseif s.errcode then
        return { action = "reply",
          reply = { errcode = s.errcode, errmsg = s.errmsg or "scripted by the scenario" } }
      else
        return { action = s.fault, delay_ms = s.delay_ms }
      end
    end
  end
  return nil
end

-- sdk.reply{api=, reply=table|fn(request), errcode=n, errmsg=, fault="reset"|"garbage"|"delay",
-- delay_ms=, times=n}: what the emulator answers the program's next calls to api (times
-- defaults to every call for reply, once otherwise). Earlier rules are tried first.
function sdk.reply(spec)
  check(type(spec) == "table" and type(spec.api) == "string", 2, "sdk.reply{api=..., ...}")
  local n = (spec.reply ~= nil and 1 or 0) + (spec.errcode and 1 or 0) + (spec.fault and 1 or 0)
  check(n == 1, 2, "sdk.reply{}: give exactly one of reply, errcode and fault")
  if spec.fault then
    check(spec.fault == "reset" or spec.fault == "garbage" or spec.fault == "delay", 2,
      "sdk.reply{}.fault is reset, garbage or delay")
    check(spec.fault ~= "delay" or type(spec.delay_ms) == "number", 2,
      "sdk.reply{fault=\"delay\"} needs delay_ms")
  end
  local times = spec.times or (spec.reply ~= nil and -1 or 1)
  specs[#specs + 1] = { api = spec.api, reply = spec.reply, errcode = spec.errcode,
    errmsg = spec.errmsg, fault = spec.fault, delay_ms = spec.delay_ms, left = times }
  zl.backend(dispatch)
end

-- sdk.clear(): drops every sdk.reply rule.
function sdk.clear()
  specs = {}
  zl.backend(nil)
end

-- POST /_zonelab/<family>/<verb> (the models and export verbs); a refusal raises
-- "<family>.<verb> refused: why" at the scenario's line (level counts from the caller).
local function family_post(family, verb, body, level)
  local status, r = http("POST", "/_zonelab/" .. family .. "/" .. verb, body)
  check(status == 200, level + 1, "%s.%s refused: %s", family, verb,
    type(r) == "table" and tostring(r.error) or tostring(r))
  return r
end

-- ---- WeCom's models (POST /_zonelab/models/...): models.* ----

models = {}


-- models.reply{model=, msgid= | jobid=, result=, status="done"|"failed"|"pending", errcode=,
-- latency_ms=, times=}: what a model task answers instead of the default (docs/scenarios.md).
function models.reply(spec)
  check(type(spec) == "table" and type(spec.model) == "string", 2,
    "models.reply{model=\"sentiment\"|\"spam\"|\"summary\"|\"customer_tag\"|\"recommend_dialog\"|\"ww_model\", ...}")
  return family_post("models", "reply", {
    model = spec.model, msgid = spec.msgid, jobid = spec.jobid, result = spec.result,
    status = spec.status, errcode = spec.errcode, latency_ms = spec.latency_ms, times = spec.times,
  }, 2)
end

-- models.clear(): drops every models.reply rule.
function models.clear()
  return family_post("models", "clear", {}, 2)
end

-- models.config{latency_ms=, daily_budget={model=n}, per_minute_budget=, duplicate_errcode=,
-- ww_model_text_only=, defaults=true}: returns the configuration in force.
function models.config(spec)
  check(type(spec) == "table", 2, "models.config{latency_ms=, daily_budget={...}, ...}")
  return family_post("models", "config", spec, 2).config
end

-- models.tags(tag_group_list, corpid?): the corp's customer tag library, [{group_id,
-- group_name, tag_list = {{tag_id, tag_name}...}}...].
function models.tags(groups, corpid)
  check(type(groups) == "table", 2, "models.tags({{group_id=, group_name=, tag_list={...}}...})")
  return family_post("models", "tags", { tag_group_list = array(groups), corpid = corpid }, 2)
end

-- models.knowledge{kb_id=, fragments={...}, corpid=}: the text fragments of a knowledge set.
function models.knowledge(spec)
  check(type(spec) == "table" and type(spec.kb_id) == "string" and type(spec.fragments) == "table",
    2, "models.knowledge{kb_id=, fragments={\"...\"}}")
  return family_post("models", "knowledge", { kb_id = spec.kb_id,
    fragments = array(spec.fragments), corpid = spec.corpid }, 2)
end

-- models.tasks(): every model task, oldest first ({jobid, model, phase, messages, ...}).
function models.tasks()
  local status, r = http("GET", "/_zonelab/models")
  check(status == 200, 2, "models.tasks: %s", type(r) == "table" and tostring(r.error) or "")
  return r.tasks
end

-- ---- the corp's authorisation of an app (/_zonelab/auth/...): auth.* ----

auth = {}

local function auth_post(verb, spec, body)
  check(spec == nil or type(spec) == "table", 3, "auth.%s{agentid=, corpid=, ...}", verb)
  spec = spec or {}
  body = body or {}
  body.agentid, body.corpid = spec.agentid, spec.corpid
  return family_post("auth", verb, body, 3)
end

-- auth.info{agentid=, corpid=}: the app's authorisation now: editions (with their status now),
-- seats, msg_duration_days, cancelled, archive_check, effective_userids, auth_user_count,
-- permanent_code, auth_code.
function auth.info(spec)
  check(spec == nil or type(spec) == "table", 2, "auth.info{agentid=, corpid=}")
  spec = spec or {}
  local q = {}
  if spec.agentid then q[#q + 1] = "agentid=" .. tostring(spec.agentid) end
  if spec.corpid then q[#q + 1] = "corpid=" .. spec.corpid end
  local status, r = http("GET", "/_zonelab/auth" .. (#q > 0 and "?" .. table.concat(q, "&") or ""))
  check(status == 200, 2, "auth.info refused: %s", type(r) == "table" and tostring(r.error) or "")
  return r
end

-- auth.expire{agentid=, edition=}: the editions in effect (or one) end now.
function auth.expire(spec)
  return auth_post("expire", spec, { edition = spec and spec.edition })
end

-- auth.buy{agentid=, edition=, days=365, seats=}: paid from now for days.
function auth.buy(spec)
  return auth_post("buy", spec, { edition = spec and spec.edition, days = spec and spec.days,
    seats = spec and spec.seats })
end

-- auth.scope{agentid=, userids=, department_ids=, tag_ids=} or auth.scope{corp = true}: the
-- authorisation's scope changes (change_auth).
function auth.scope(spec)
  spec = spec or {}
  return auth_post("scope", spec, { userids = spec.userids and array(spec.userids),
    department_ids = spec.department_ids and array(spec.department_ids),
    tag_ids = spec.tag_ids and array(spec.tag_ids), corp = spec.corp })
end

-- auth.retention{agentid=, msg_duration_days=}: 90, 180, 365 or 730 days (change_auth).
function auth.retention(spec)
  return auth_post("retention", spec, { msg_duration_days = spec and spec.msg_duration_days })
end

-- auth.cancel{agentid=}: the corp cancels the authorisation (cancel_auth).
function auth.cancel(spec)
  return auth_post("cancel", spec)
end

-- auth.grant{agentid=}: the corp authorises the app again (create_auth with a new auth_code).
function auth.grant(spec)
  return auth_post("grant", spec)
end

-- ---- conversation export (/_zonelab/export/...): export.* ----

export = {}


-- export.code{agentid=, corpid=}: a code as the display component gives it to the app
-- (valid 5 min of virtual time, single use; defaults: the world's first corp and its first
-- app). Returns the code, and the whole answer {ok, code, corpid, agentid, expires_at}.
function export.code(spec)
  check(spec == nil or type(spec) == "table", 2, "export.code{agentid=, corpid=}")
  spec = spec or {}
  local r = family_post("export", "code", { agentid = spec.agentid, corpid = spec.corpid }, 2)
  return r.code, r
end

-- export.result{result_errcode=, result_errmsg=, jobid= | times=}: how export jobs end
-- (result_errcode 0 succeeds): the next jobs created (times, default 1), or job jobid.
function export.result(spec)
  check(type(spec) == "table" and type(spec.result_errcode) == "number", 2,
    "export.result{result_errcode=n, result_errmsg=, jobid= or times=}")
  return family_post("export", "result", { result_errcode = spec.result_errcode,
    result_errmsg = spec.result_errmsg, jobid = spec.jobid, times = spec.times }, 2)
end

-- export.clear(): drops every export.result rule.
function export.clear()
  return family_post("export", "clear", {}, 2)
end

-- export.config{waiting_ms=, running_ms=, daily_budget=, bad_code_errcode=,
-- accept_upload_media=, defaults=true}: returns the settings in force.
function export.config(spec)
  check(type(spec) == "table", 2, "export.config{waiting_ms=, running_ms=, daily_budget=, ...}")
  return family_post("export", "config", spec, 2).config
end

-- export.jobs(): every export job, oldest first ({jobid, status, message_ids, tokens, ...}).
function export.jobs()
  local status, r = http("GET", "/_zonelab/export")
  check(status == 200, 2, "export.jobs: %s", type(r) == "table" and tostring(r.error) or "")
  return r.jobs
end

-- ---- the provider's side: suite.* ----

suite = {}

local suite_seen = {} -- suite.wait_callback's cursor, per filter's suite_id ("" = any)

local function suite_query(suite_id, level)
  check(suite_id == nil or type(suite_id) == "string", level + 1, "suite_id is a string")
  return suite_id and ("suite_id=" .. suite_id) or ""
end

-- suite.callbacks(suite_id?, since?): what the built-in fake provider received (the command
-- callbacks of suites whose callback_url is ""), oldest first: {seq, t, suite_id, info_type,
-- xml, fields}.
function suite.callbacks(suite_id, since)
  local q = suite_query(suite_id, 2)
  check(since == nil or type(since) == "number", 2, "suite.callbacks(suite_id?, since?)")
  local status, r = http("GET", "/_zonelab/provider/callbacks?" .. q .. "&since=" .. (since or 0))
  check(status == 200, 2, "suite.callbacks: %s", type(r) == "table" and tostring(r.error) or "")
  return r.callbacks
end

-- suite.wait_callback{info_type=, suite_id=, timeout=}: the next callback the fake provider
-- received after the last one this verb returned, or nil, "timeout".
function suite.wait_callback(opts)
  opts = opts or {}
  check(type(opts) == "table", 2, "suite.wait_callback{info_type=, suite_id=, timeout=}")
  local q = suite_query(opts.suite_id, 2)
  local key = opts.suite_id or ""
  local deadline = clock_ms() + (opts.timeout or zl.step_timeout()) * 1000
  while true do
    local status, r = http("GET", "/_zonelab/provider/callbacks?" .. q .. "&since="
      .. (suite_seen[key] or 0))
    check(status == 200, 2, "suite.wait_callback: %s", type(r) == "table" and tostring(r.error) or "")
    for _, c in ipairs(r.callbacks) do
      suite_seen[key] = c.seq
      if not opts.info_type or c.info_type == opts.info_type then
        return c
      end
    end
    if clock_ms() >= deadline then
      return nil, "timeout"
    end
    zl.sleep(0.02)
  end
end

-- suite.ticket(suite_id?, {timeout=}): the newest valid suite_ticket the fake provider holds
-- for the suite (the world's first without one), waiting for one; nil, "timeout" when none.
function suite.ticket(suite_id, opts)
  local q = suite_query(suite_id, 2)
  local deadline = clock_ms() + (opts and opts.timeout or zl.step_timeout()) * 1000
  while true do
    local status, r = http("GET", "/_zonelab/provider/ticket?" .. q)
    check(status == 200, 2, "suite.ticket: %s", type(r) == "table" and tostring(r.error) or "")
    if r.suite_ticket ~= "" then
      return r.suite_ticket, r
    end
    if clock_ms() >= deadline then
      return nil, "timeout"
    end
    zl.sleep(0.02)
  end
end

-- ---- the program ----

program = {}

-- The program id in opts.program (nil: the main program); the C side refuses one the
-- scenario did not start.
local function program_of(opts, verb)
  check(opts == nil or (type(opts) == "table"
    and (opts.program == nil or type(opts.program) == "string")), 3,
    "%s(replica, opts): opts is a table, opts.program a program id", verb)
  return opts and opts.program
end

-- program.kill / pause / resume(replica, {program=}): a replica of the main program, or of
-- opts.program (a program the scenario started).
function program.kill(replica, opts)
  zl.program("kill", replica or 0, nil, program_of(opts, "program.kill"))
end
function program.pause(replica, opts)
  zl.program("pause", replica or 0, nil, program_of(opts, "program.pause"))
end
function program.resume(replica, opts)
  zl.program("resume", replica or 0, nil, program_of(opts, "program.resume"))
end
-- program.restart(replica, timeout or {timeout=, program=}): starts it again and waits until
-- it listens.
function program.restart(replica, timeout, opts)
  if type(timeout) == "table" then
    opts, timeout = timeout, timeout.timeout
  end
  check(timeout == nil or type(timeout) == "number", 2, "program.restart(replica, timeout or opts)")
  zl.program("restart", replica or 0, timeout, program_of(opts, "program.restart"))
end
-- program.replicas(program_id?): the main program's replicas, or program_id's.
function program.replicas(program_id)
  check(program_id == nil or type(program_id) == "string", 2, "program.replicas(program_id?)")
  return zl.replicas(program_id)
end

-- program.request(replica, {recase=true, data=, program=}): a sealed callback sent straight
-- to a replica; returns the HTTP status and the ww-exception code its SDK answered with (nil
-- when none).
function program.request(replica, opts)
  opts = opts or {}
  return zl.program_request(replica or 0, opts.data, opts.recase, program_of(opts, "program.request"))
end

-- Debug mode, the console's side (doc 54809 §1). spec.program (default: the main program) is
-- a program of spec.corpid (default: the world's first corp).
local function debug_post(verb, spec, body)
  check(spec == nil or type(spec) == "table", 3, "program.%s{...}: a table", verb)
  spec = spec or {}
  body.program_id = spec.program or zl.info().program_id
  body.corpid = spec.corpid
  local status, r = http("POST", "/_zonelab/" .. verb, body)
  check(status == 200, 3, "program.%s refused: %s", verb,
    type(r) == "table" and tostring(r.error) or tostring(r))
  return r
end
-- program.debug_token{program=, corpid=}: 调试凭证-获取: {debug_token=, expires_at=, renewed=},
-- the same token while it is valid, a new one once it expired.
function program.debug_token(spec)
  return debug_post("debug_token", spec, {})
end
-- program.debug_url{url=, program=, corpid=}: 接收事件服务器-设置 ("" clears it).
function program.debug_url(spec)
  check(type(spec) == "table" and type(spec.url) == "string", 2, "program.debug_url{url=...}")
  return debug_post("debug_url", spec, { url = spec.url }).debug_url
end
-- program.debug_start{program=, command=, timeout=}: starts the developer's machine, the
-- program (or command) outside the zone with its environment on a port of its own, and
-- returns its URL once it listens.
function program.debug_start(spec)
  check(spec == nil or type(spec) == "table", 2, "program.debug_start{program=, command=, timeout=}")
  spec = spec or {}
  return zl.debug_start(spec.program, spec.command, spec.timeout)
end

-- ---- assertions ----

local function show(v)
  if type(v) == "table" then
    return json.encode(v)
  elseif type(v) == "string" then
    return string.format("%q", v)
  end
  return tostring(v)
end

local function diff(a, b, path, out)
  if #out >= 20 then
    return
  end
  if type(a) ~= type(b) then
    out[#out + 1] = string.format("%s: expected %s, got %s", path, show(b), show(a))
  elseif type(a) == "table" then
    for k, v in pairs(b) do
      if a[k] == nil then
        out[#out + 1] = string.format("%s.%s: missing (expected %s)", path, tostring(k), show(v))
      else
        diff(a[k], v, path .. "." .. tostring(k), out)
      end
    end
    for k, v in pairs(a) do
      if b[k] == nil then
        out[#out + 1] = string.format("%s.%s: not expected (got %s)", path, tostring(k), show(v))
      end
    end
  elseif a ~= b then
    out[#out + 1] = string.format("%s: expected %s, got %s", path, show(b), show(a))
  end
end

-- assert_eq(actual, expected, msg): deep equality; the error lists each difference by path.
function assert_eq(actual, expected, msg)
  local out = {}
  diff(actual, expected, "$", out)
  if #out > 0 then
    raise((msg and msg .. ": " or "") .. "not equal\n  " .. table.concat(out, "\n  "))
  end
end

-- assert_sub(actual, expected, msg): every field of expected is in actual with that value.
function assert_sub(actual, expected, msg)
  local out = {}
  local function sub(a, b, path)
    if type(b) ~= "table" then
      if a ~= b then
        out[#out + 1] = string.format("%s: expected %s, got %s", path, show(b), show(a))
      end
      return
    end
    if type(a) ~= "table" then
      out[#out + 1] = string.format("%s: expected %s, got %s", path, show(b), show(a))
      return
    end
    for k, v in pairs(b) do
      sub(a[k], v, path .. "." .. tostring(k))
    end
  end
  sub(actual, expected, "$")
  if #out > 0 then
    local got = show(actual)
    if #got > 400 then
      got = got:sub(1, 400) .. "..."
    end
    raise((msg and msg .. ": " or "") .. "fields differ\n  " .. table.concat(out, "\n  ")
      .. "\n  actual: " .. got)
  end
end

function assert_true(v, msg)
  if not v then
    raise(msg or "expected a true value")
  end
end

function assert_match(s, pattern, msg)
  if type(s) ~= "string" or not string.find(s, pattern) then
    raise((msg and msg .. ": " or "") .. string.format("%s does not match %q", show(s), pattern))
  end
end

-- assert_count(api, n, msg): the program invoked api exactly n times so far.
function assert_count(api, n, msg)
  local got = #sdk.calls(api)
  if got ~= n then
    raise((msg and msg .. ": " or "") .. string.format("expected %d call(s) to %s, got %d", n, api, got))
  end
end

-- assert_order(filter1, filter2, ...): journal entries matching each filter appear in order.
function assert_order(...)
  local all, at = zl.journal(nil), 0
  for i, f in ipairs({ ... }) do
    local found
    for k = at + 1, #all do
      local ok = true
      for key, v in pairs(f) do
        if all[k][key] ~= v then
          ok = false
          break
        end
      end
      if ok then
        found = k
        break
      end
    end
    if not found then
      raise(string.format("journal order: entry %d (%s) does not follow entry %d", i, show(f), i - 1))
    end
    at = found
  end
end

function fail(msg)
  raise(msg or "failed")
end

-- ---- old names, kept until the next release (docs/scenarios.md, "Old names") ----

backend = sdk.reply
backend_clear = sdk.clear
sdk_calls = sdk.calls
wait_sdk_call = sdk.wait_call
model_reply = models.reply
model_reply_clear = models.clear
model_config = models.config
model_tags = models.tags
model_knowledge = models.knowledge
model_tasks = models.tasks
export_code = export.code
export_result = export.result
export_result_clear = export.clear
export_config = export.config
export_jobs = export.jobs
program_request = program.request

-- ---- the lock ----

local pairs, rawset, setmetatable, tostring, format = pairs, rawset, setmetatable, tostring,
  string.format

-- Every name of t defined so far moves to a table t reads through; assigning to one of them
-- raises at the scenario's line, naming it. New names stay allowed. Tracebacks keep naming
-- the functions (error, assert_eq, sdk.reply).
local function lock(t, name)
  local fixed, prefix = {}, name == "_G" and "" or name .. "."
  for k, v in pairs(t) do
    fixed[k] = v
  end
  for k in pairs(fixed) do
    rawset(t, k, nil)
  end
  zl.traceback_names(name, fixed)
  setmetatable(t, {
    __index = fixed,
    __newindex = function(self, k, v)
      if fixed[k] ~= nil then
        raise(format("cannot assign to %s%s: the name is zonelab's (a verb, a verb table, json "
          .. "or a Lua library); use a local or another name", prefix, tostring(k)))
      end
      rawset(self, k, v)
    end,
    __metatable = "locked by zonelab",
  })
end

for _, name in ipairs { "sdk", "models", "export", "auth", "suite", "program", "clock", "json" } do
  lock(_G[name], name)
end
lock(_G, "_G")
