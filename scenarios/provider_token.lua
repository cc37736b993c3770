-- get_provider_token (doc 15143): POST with {corpid, provider_secret}, "provider_access_token
-- 的有效期通过返回的expires_in来传达，正常情况下为7200秒（2小时），有效期内重复获取返回相同结果，
-- 过期后获取会返回新的provider_access_token". The errcode table names no code of its own for a
-- provider: a missing corpid or secret is 41002 / 41024, a wrong one 40013 / 40001.
scenario { world = "worlds/suites.json" }

local service = require("service")

local P1 = { corpid = "wwsuitesprovider1", provider_secret = "suites-provider-secret-1" }
local P2 = { corpid = "wwsuitesprovider2", provider_secret = "suites-provider-secret-2" }

test("the same token while valid, a new one once it expired", function()
  local first = service.post("get_provider_token", P1)
  assert_eq(first.errcode, 0)
  assert_eq(first.expires_in, 7200)
  assert_match(first.provider_access_token, "^pt_%x+$")
  clock.advance(3000)
  local again = service.post("get_provider_token", P1)
  assert_eq(again.provider_access_token, first.provider_access_token)
  assert_true(again.expires_in <= 4200 and again.expires_in > 4100, tostring(again.expires_in))
  local other = service.post("get_provider_token", P2)
  assert_true(other.provider_access_token ~= first.provider_access_token, "each provider its own")
  clock.advance(again.expires_in)
  local new = service.post("get_provider_token", P1)
  assert_true(new.provider_access_token ~= first.provider_access_token, "a new one after expiry")
  assert_eq(new.expires_in, 7200)
end)

test("missing and wrong credentials", function()
  assert_eq(service.post("get_provider_token", { provider_secret = P1.provider_secret }).errcode,
    41002)
  assert_eq(service.post("get_provider_token", { corpid = P1.corpid }).errcode, 41024)
  assert_eq(service.post("get_provider_token", { corpid = "wwnosuchprovider",
    provider_secret = P1.provider_secret }).errcode, 40013)
  assert_eq(service.post("get_provider_token", { corpid = P1.corpid,
    provider_secret = P2.provider_secret }).errcode, 40001)
  -- POST, not GET: "请求方式：POST（HTTPS）"
  local _, r = http("GET", "/cgi-bin/service/get_provider_token?corpid=" .. P1.corpid
    .. "&provider_secret=" .. P1.provider_secret)
  assert_eq(r.errcode, 40058)
end)

test("a provider token is neither a suite token nor an access_token", function()
  local pt = service.post("get_provider_token", P1).provider_access_token
  assert_eq(service.post("get_corp_token", { auth_corpid = "wwzonelab0000001",
    permanent_code = "pc-third-1000002" }, pt).errcode, 40082)
  assert_eq(app("get_log_level", { program_id = "zone-demo" }, { token = pt }).errcode, 40014)
end)
