-- The third-party token path as a provider's backend walks it, with the default world's
-- provider: the suite_ticket the command URL received (doc 14947), get_suite_token (doc
-- 14939), get_corp_token (doc 14944), then the corp's access_token on the chatdata endpoints:
-- "此处获得的企业access_token与企业获取access_token拿到的token，本质上是一样的，只不过获取方式
-- 不同。获取之后，就跟普通企业一样使用token调用API接口" (doc 14944).
scenario { world = "default" }

local service = require("service")

local SUITE, SECRET, CORP = "wwzonelabsuite0001", "zonelab-suite-secret-0001", "wwzonelab0000001"

local function corp_token(st)
  return service.post("get_corp_token", { auth_corpid = CORP,
    permanent_code = service.app_state(1000002).permanent_code }, st)
end

test("ticket, suite token, corp token, then sync_call_program with that token", function()
  local ticket = assert(suite.ticket())
  local st = service.post("get_suite_token", { suite_id = SUITE, suite_secret = SECRET,
    suite_ticket = ticket })
  assert_eq(st.errcode, 0)
  assert_eq(st.errmsg, "ok")
  assert_eq(st.expires_in, 7200)
  assert_match(st.suite_access_token, "^st_%x+$")
  local ct = corp_token(st.suite_access_token)
  assert_eq(ct.errcode, 0)
  assert_eq(ct.expires_in, 7200)
  local r = call("invoke_sync_msg", { limit = 1 }, { token = ct.access_token })
  assert_eq(r.errcode, 0, tostring(r.errmsg))
  assert_eq(r.data.errcode, 0)
  local calls = journal({ face = "app", kind = "call", endpoint = "service/get_corp_token" })
  assert_sub(calls[#calls], { suite_id = SUITE, corpid = CORP, agentid = 1000002, errcode = 0 })
end)

test("one kind of token per app, the same while valid whichever way it was fetched", function()
  local st = service.suite_token(SUITE, SECRET)
  local ct = corp_token(st)
  assert_eq(gettoken().access_token, ct.access_token)
  clock.advance(100)
  local again = corp_token(st)
  assert_eq(again.access_token, ct.access_token)
  assert_true(again.expires_in < ct.expires_in, "the seconds it has left")
end)

test("token kinds do not mix: 40014 and 40082", function()
  -- "token类型用错，token分为access_token suite_access_token 和provider_access_token三种" (40014)
  local st = service.suite_token(SUITE, SECRET)
  assert_eq(app("get_log_level", { program_id = "zone-demo" }, { token = st }).errcode, 40014)
  local at = gettoken().access_token
  assert_eq(service.post("get_corp_token", { auth_corpid = CORP, permanent_code = "x" }, at).errcode,
    40082)
  local pt = service.post("get_provider_token", { corpid = "wwzonelabprovider1",
    provider_secret = "zonelab-provider-secret" }).provider_access_token
  assert_eq(service.post("v2/get_auth_info", { auth_corpid = CORP, permanent_code = "x" }, pt).errcode,
    40082)
end)

test("the suite token is the same while valid and 42009 once it expired", function()
  -- "suite_access_token有效期为2小时" (doc 14939); 42009 "suite_access_token已过期"
  local st, first = service.suite_token(SUITE, SECRET)
  clock.advance(1000)
  local st2, again = service.suite_token(SUITE, SECRET)
  assert_eq(st2, st)
  assert_true(again.expires_in <= first.expires_in - 1000, tostring(again.expires_in))
  clock.advance(again.expires_in)
  assert_eq(corp_token(st).errcode, 42009)
  local fresh = service.suite_token(SUITE, SECRET)
  assert_true(fresh ~= st, "a new suite token after expiry")
  assert_eq(corp_token(fresh).errcode, 0)
end)
