-- zonelab explore's verbs and built-in properties, appended to every run it generates
-- (emulator/src/cli/explore.c, docs/explore.md). A run's test "actions" calls X.<verb>;
-- each verb records what happened in X.trace, and each property is a test over that trace
-- and the journal. Errors inside an action are recorded, never raised, so one bad answer
-- does not hide the next.

X = { trace = { actions = {} }, notify_ttl = 600, builtin = {} }

local function record(kind, args, fn)
  local a = { kind = kind, args = args, n = #X.trace.actions + 1, down = next(X.down) ~= nil }
  local ok, err = pcall(fn, a)
  a.ok = ok
  if not ok then -- without the generated file's name and line, which differ run to run
    a.err = (tostring(err):gsub("^[^\n]-%.lua:%d+: ", ""))
  end
  X.trace.actions[a.n] = a
  return a
end

local function describe(a)
  local parts = {}
  for i = 1, #a.args do
    parts[i] = type(a.args[i]) == "string" and string.format("%q", a.args[i])
      or tostring(a.args[i])
  end
  return string.format("action %d, X.%s(%s)", a.n, a.kind, table.concat(parts, ", "))
end
X.describe = describe

-- The app gets the main program's events from now on (set_receive_callback).
function X.setup()
  record("setup", {}, function(a)
    a.reply = app("set_receive_callback", { program_id = state().programs[1].program_id })
  end)
end

-- A message archived into the world's first corp; waits for the notification it leads to.
function X.archive(msgid, sender, receiver, msgtype, text)
  record("archive", { msgid, sender, receiver, msgtype, text }, function(a)
    local before = #notifications()
    local r = archive { msgid = msgid, sender = { type = 1, id = sender },
      receivers = { { type = 1, id = receiver } }, msgtype = msgtype,
      content = { content = text } }
    a.events = #r.events
    if #r.events > 0 and #notifications() == before then
      wait_notification { timeout = 2 }
    end
  end)
end

-- An event pushed to the program the app chose (the vendor's example object of its type).
function X.event(event)
  record("event", { json.encode(event) }, function(a)
    local before = #notifications()
    a.reply = push_event(event)
    if #notifications() == before then
      wait_notification { timeout = 2 }
    end
  end)
end

-- sync_call_program of ability with request_data text.
function X.call(ability, request)
  record("call", { ability, request }, function(a)
    a.ability = ability
    a.reply = call(ability, request)
  end)
end

-- async_program_task, then its result (async_program_result) within 5 s.
function X.async(ability, request)
  record("async", { ability, request }, function(a)
    a.ability = ability
    local job = async_call(ability, request)
    if job.errcode ~= 0 or not job.jobid then
      a.reply = job
      return
    end
    local r, why = async_result(job.jobid, { timeout = 5 })
    a.reply = r
    a.no_result = r == nil and why or nil
  end)
end

-- The app's public key replaced (set_public_key) by the next version: the test key pair 2
-- (fixtures/keys/test_v2_public.pem), versions 2, 3, ...
X.KEY = "-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAuYcsadExJaUO3hNq6Rpe\nEHs8fm6sLFKFJe4b4HNrHe93JIURIOtDKMCcy1/NRxbyeRqX8Jjt2rrLgTX/PdtR\noooUepCy/EDHtZ+tyqnV+Gb7evCQ31tBRsACoaf8MqHhDHTsCYr7tvY3IuQKHGkP\nK5eNfSDBXZ0corHDZoqXd8L+BIQFqi6dNCJY7VzlSQc1saKVb4Cr5A0H/+Ruq1Qm\nfPavCYDIysjGaq9M5HD/hg6Jfzy1foOLaDbPzxNKIORu4/JVYjU3dwo7pBAwfYw/\n6RQmAzkNWVOYVWCl2s+rsP1iS5lCptfFt+6sETXJyqdbbzJqcORBVHFkpMNIMQ92\niQIDAQAB\n-----END PUBLIC KEY-----\n"
function X.rotate_key()
  record("rotate_key", {}, function(a)
    X.key_ver = (X.key_ver or 1) + 1
    a.reply = app("set_public_key", { public_key = X.KEY, public_key_ver = X.key_ver })
  end)
end

-- get_callback_data with the k-th notify id the app received (counted from 1, wrapping).
function X.callback(k)
  record("callback", { k }, function(a)
    local got = notifications()
    if #got == 0 then
      a.skipped = "no notification yet"
      return
    end
    local n = got[(k - 1) % #got + 1]
    a.notify_id = n.notify_id
    a.age = clock.now() - n.create_time
    a.ability = "get_callback_data"
    a.reply = call("get_callback_data", nil, { notify_id = n.notify_id })
  end)
end

-- The virtual clock moves on (across token, notify id, page and window expiries).
function X.advance(seconds)
  record("advance", { seconds }, function()
    clock.advance(seconds)
  end)
end

X.down = {} -- replicas killed and not restarted: calls they miss are not the program's fault

-- A replica killed with SIGKILL and started again; returns once it listens.
function X.restart(replica)
  record("restart", { replica }, function()
    local r = replica % program.replicas()
    program.restart(r)
    X.down[r] = nil
  end)
end

-- A replica killed with SIGKILL and left down (until an X.restart of it).
function X.kill(replica)
  record("kill", { replica }, function()
    local r = replica % program.replicas()
    if not X.down[r] then
      program.kill(r)
      X.down[r] = true
    end
  end)
end

-- The app's events go to the world's k-th program (from 0, wrapping) from now on.
function X.receive(k)
  record("receive", { k }, function(a)
    local programs = state().programs
    a.reply = app("set_receive_callback",
      { program_id = programs[k % #programs + 1].program_id })
  end)
end

-- A replica stopped (SIGSTOP) and continued at once.
function X.pause(replica)
  record("pause", { replica }, function(a)
    local r = replica % program.replicas()
    if X.down[r] then
      a.skipped = "the replica is down"
      return
    end
    program.pause(r)
    program.resume(r)
  end)
end

-- The next SDK invoke of api gets errcode (a number) or a fault ("reset", "garbage",
-- "delay").
function X.sdk_fault(api, what)
  record("sdk_fault", { api, what }, function()
    if type(what) == "number" then
      sdk.reply { api = api, errcode = what }
    elseif what == "delay" then
      sdk.reply { api = api, fault = "delay", delay_ms = 50 }
    else
      sdk.reply { api = api, fault = what }
    end
  end)
end

-- Once, after the actions: a replica that died after the last action is seen here.
function X.finish()
  if not X.trace.journal then
    local ok, err = pcall(sleep, 0.05)
    if not ok then
      X.trace.crash = (tostring(err):gsub("^[^\n]-%.lua:%d+: ", ""))
    end
    X.trace.journal = journal()
    X.trace.notifications = notifications()
  end
  return X.trace
end

-- A property: a test that runs fn over the trace once the actions are done; it fails when
-- fn raises or returns false.
function property(name, fn)
  test("property: " .. name, function()
    local r = fn(X.finish())
    if r == false then
      error("property " .. name .. " does not hold", 0)
    end
  end)
end

local function crashed(s)
  return s and s:find("crashed") ~= nil
end

-- "Program health: no restart API yet; probe with sync_call_program" (vendor doc 55301): a
-- replica that dies is down until someone notices. No replica dies, whatever it is sent.
function X.builtin.no_replica_dies(trace)
  for _, a in ipairs(trace.actions) do
    if crashed(a.err) then
      error(describe(a) .. ": " .. a.err, 0)
    end
  end
  if crashed(trace.crash) then
    error("after the last action: " .. trace.crash, 0)
  end
end

-- "An uploaded model answers its HTTP request within 5 s" (vendor doc 53352); sync_call_program
-- answers 710674..710677 when the program cannot be reached, times out or answers what the
-- SDK cannot verify (errors.md). Every call gets a verifiable answer in time.
local UNANSWERED = { [710674] = true, [710675] = true, [710676] = true, [710677] = true }
function X.builtin.calls_answered(trace)
  for _, a in ipairs(trace.actions) do
    if not a.ok and not crashed(a.err) then
      error(describe(a) .. " got no answer: " .. a.err, 0)
    end
    if a.no_result then
      error(string.format("%s: no async result within 5 s (%s)", describe(a), a.no_result), 0)
    end
    if a.reply and UNANSWERED[a.reply.errcode] and not (a.down and a.reply.errcode == 710674) then
      error(string.format("%s: errcode %d (%s)", describe(a), a.reply.errcode,
        tostring(a.reply.errmsg)), 0)
    end
  end
end

-- "reply does not match the output protocol: 790014" (vendor doc 53337), and a reply that
-- is not JSON 790013 (doc 10649): every answer of the program fits its ability's output
-- protocol.
function X.builtin.answers_fit_protocol(trace)
  for _, a in ipairs(trace.actions) do
    if a.reply and (a.reply.errcode == 790013 or a.reply.errcode == 790014) then
      error(string.format("%s: errcode %d (%s)", describe(a), a.reply.errcode,
        tostring(a.reply.errmsg)), 0)
    end
  end
end

-- "NotifyId: the notify id; valid 10 min" (vendor doc 53360) and "After receiving it the app
-- calls sync_call_program with the notify_id" (doc 53408): a notify id the app received is
-- answered with the event, not an error, while it is valid, on whichever replica the call
-- reaches.
function X.builtin.notify_id_answered(trace)
  for _, a in ipairs(trace.actions) do
    if a.kind == "callback" and a.ok and a.reply and a.age < X.notify_ttl and not a.down then
      local r = a.reply
      local d = type(r.data) == "table" and r.data or nil
      if r.errcode ~= 0 or not d or (d.errcode ~= nil and d.errcode ~= 0) then
        error(string.format("%s: notify id %s, %d s old, answered errcode %s: %s",
          describe(a), a.notify_id, a.age, tostring(d and d.errcode or r.errcode),
          tostring(d and d.errmsg or r.errmsg or r.response_data)), 0)
      end
    end
  end
end

-- "After receiving it the app calls sync_call_program with the notify_id" (doc 53408): the
-- program's own spec_notify_app calls are ones WeCom accepts (a notify id of at most 64
-- bytes, a valid scene), unless the run scripted the refusal.
function X.builtin.notify_accepted(trace)
  for _, e in ipairs(trace.journal) do
    if e.face == "sdk" and e.kind == "invoke" and e.api == "spec_notify_app"
      and e.outcome == "answered" and e.errcode ~= 0 then
      error(string.format("spec_notify_app refused with %s: %s", tostring(e.errcode),
        tostring(e.response)), 0)
    end
  end
end

-- The answers WeCom gives a misused SDK call (errors.md): 40058 an invalid parameter (an empty
-- cursor or token, a limit out of range, a value over its length: doc 10649, doc 53341),
-- 710611 a cursor WeCom did not issue (doc 10649), 45009 the no-token budget of sync_msg and
-- get_hit_msg_list ("without it the call is under a strict frequency limit", doc 53341; a
-- token that expired or is unknown counts as none).
X.MISUSE = { [40058] = "invalid parameter", [710611] = "cursor incorrect",
  [45009] = "call limit exceeded" }
local BUDGETED = { sync_msg = true, get_hit_msg_list = true }

-- Whether SDK invoke e was made for the app, not by the program: under an invoke_<api>
-- ability that names its own API (zone-demo's proxy of request_data, verbatim).
local function proxied(e)
  return e.ability_id == "invoke_" .. e.api
end

-- The program never uses the SDK in a way WeCom refuses in production: none of its own SDK
-- calls is answered a misuse errcode (X.MISUSE). Not counted: calls made for the app
-- (proxied), spec_notify_app (notify_accepted), an answer the run scripted, a call right
-- after a scripted fault of the same API, and a 45009 in a minute (virtual) in which the
-- app's proxied calls of that API of the same corp spent the budget too.
function X.builtin.sdk_used_as_allowed(trace)
  local faulted, spent = {}, {}
  for _, e in ipairs(trace.journal) do
    if e.face == "sdk" and e.kind == "invoke" and e.api and e.api ~= "spec_notify_app" then
      local minute = string.format("%s/%s/%d", e.api, e.corpid, e.t // 60000)
      if proxied(e) then
        spent[minute] = true
      elseif e.outcome ~= "answered" then
        faulted[e.api] = true
      elseif faulted[e.api] then
        faulted[e.api] = nil
      elseif X.MISUSE[e.errcode] and not (e.errcode == 45009
        and (not BUDGETED[e.api] or spent[minute])) then
        error(string.format("the program's own %s (ability %q) refused %d, %s: request %s: %s",
          e.api, e.ability_id or "", e.errcode, X.MISUSE[e.errcode], tostring(e.request),
          tostring(type(e.response) == "table" and e.response.errmsg or e.response)), 0)
      end
    end
  end
end
