-- two_apps.lua: acting as either app of worlds/two_apps.json, two apps of one corp sharing
-- zone-demo: "a" (agentid 1000002, the world's first, which app() and call() use by default)
-- and "b" (1000003).
--
--   scenario { world = "worlds/two_apps.json" }
--   local apps = require("two_apps")
--   apps.b("create_rule", { ... })   -- invoke() as app b
--   app("set_receive_callback", { program_id = "zone-demo" }, { token = apps.token("b") })
local invoke = require("invoke")

local CORPID = "wwzonelab0000001"
local SECRET = { a = "two-apps-secret-a", b = "two-apps-secret-b" }
local tokens = {}

local apps = { agentid = { a = 1000002, b = 1000003 } }

-- apps.token(app): the app's access_token, fetched with gettoken() the first time.
function apps.token(app)
  assert(SECRET[app], "two_apps: the apps are \"a\" and \"b\"")
  if not tokens[app] then
    local r = gettoken(CORPID, SECRET[app])
    assert_eq(r.errcode, 0, "gettoken of app " .. app)
    tokens[app] = r.access_token
  end
  return tokens[app]
end

-- apps.a(api, request), apps.b(api, request): invoke(api, request) with that app's token.
for app in pairs(SECRET) do
  apps[app] = function(api, request)
    return invoke(api, request, { token = apps.token(app) })
  end
end

return apps
