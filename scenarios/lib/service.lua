-- service.lua: the provider's side of the app face (/cgi-bin/service/...), called as a
-- provider's backend calls it.
--
--   local service = require("service")
--   local st = service.suite_token("wwzonelabsuite0001", "zonelab-suite-secret-0001")
--   local r = service.post("get_corp_token", { auth_corpid = ..., permanent_code = ... }, st)
local service = {}

-- service.post(name, body, suite_access_token?): POST /cgi-bin/service/<name> with a JSON
-- body (a table, or a string sent as is); the decoded reply.
function service.post(name, body, suite_access_token)
  local path = "/cgi-bin/service/" .. name
  if suite_access_token then
    path = path .. "?suite_access_token=" .. suite_access_token
  end
  local status, r = http("POST", path, body)
  assert_eq(status, 200, name .. " answers HTTP 200")
  assert_true(type(r) == "table", name .. " answers JSON")
  return r
end

-- service.suite_token(suite_id, suite_secret): get_suite_token with the newest suite_ticket the
-- built-in fake provider holds; the suite_access_token (the whole reply second).
function service.suite_token(suite_id, suite_secret)
  local ticket = assert(suite.ticket(suite_id))
  local r = service.post("get_suite_token", { suite_id = suite_id, suite_secret = suite_secret,
    suite_ticket = ticket })
  assert_eq(r.errcode, 0, "get_suite_token " .. suite_id .. ": " .. tostring(r.errmsg))
  return r.suite_access_token, r
end

-- service.app_state(agentid): the app's entry of /_zonelab/state (suite_id, auth_corpid,
-- permanent_code, ...).
function service.app_state(agentid)
  for _, a in ipairs(state().apps) do
    if a.agentid == agentid then
      return a
    end
  end
  error("no app " .. tostring(agentid) .. " in /_zonelab/state")
end

return service
