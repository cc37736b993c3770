-- Every errcode of the provider-side token path from a real cause. The codes and their
-- meanings are the global errcode page's (doc 10649, third-party copy path 90455): 41021
-- 缺少suite_id参数, 41023 缺少suite_ticket参数, 41024 缺少secret参数, 40083 不合法的suite_id,
-- 40080 不合法的suite_secret, 40085 不合法的的suite_ticket参数 ("suite_ticket不存在或者已失效"),
-- 41022 缺少suite_access_token参数, 40082 不合法的suite_token, 42009 suite_access_token已过期,
-- 41008 缺少auth code参数, 40078 不合法的auth_code参数, 41025 缺少permanent_code参数, 40084
-- 不合法的permanent_code参数 ("永久授权码不能跨服务商使用"), 48002 for a 代开发 template on
-- get_corp_token ("代开发应用获取access_token，应使用自建应用获取access_token的接口").
scenario { world = "worlds/suites.json" }

local service = require("service")

local S1, S1_SECRET = "wwsuitesthird0001", "suites-third-secret-0001"
local S2, S2_SECRET = "wwsuitesthird0002", "suites-third-secret-0002"
local TMPL, TMPL_SECRET = "dksuitestmpl0001", "suites-tmpl-secret-0001"
local CORP = "wwzonelab0000001"

local function suite_token(body)
  return service.post("get_suite_token", body).errcode
end

test("get_suite_token: missing, unknown and wrong fields", function()
  local t1 = assert(suite.ticket(S1))
  assert_eq(suite_token({ suite_secret = S1_SECRET, suite_ticket = t1 }), 41021)
  assert_eq(suite_token({ suite_id = "", suite_secret = S1_SECRET, suite_ticket = t1 }), 41021)
  assert_eq(suite_token({ suite_id = S1, suite_ticket = t1 }), 41024)
  assert_eq(suite_token({ suite_id = S1, suite_secret = S1_SECRET }), 41023)
  assert_eq(suite_token({ suite_id = "wwnosuchsuite", suite_secret = S1_SECRET, suite_ticket = t1 }),
    40083)
  assert_eq(suite_token({ suite_id = S1, suite_secret = S2_SECRET, suite_ticket = t1 }), 40080)
  assert_eq(suite_token({ suite_id = S1, suite_secret = S1_SECRET, suite_ticket = "stk_made_up" }),
    40085)
  -- a ticket is its suite's: suite two's ticket does not open suite one
  local t2 = assert(suite.ticket(S2))
  assert_eq(suite_token({ suite_id = S1, suite_secret = S1_SECRET, suite_ticket = t2 }), 40085)
  assert_eq(suite_token({ suite_id = S2, suite_secret = S2_SECRET, suite_ticket = t2 }), 0)
  assert_eq(suite_token({ suite_id = 7, suite_secret = S1_SECRET, suite_ticket = t1 }), 40058)
end)

test("the suite-token endpoints: 41022, 40082, 42009; POST with a JSON object", function()
  local body = { auth_corpid = CORP, permanent_code = "pc-third-1000002" }
  local status, r = http("POST", "/cgi-bin/service/get_corp_token", body)
  assert_eq(r.errcode, 41022)
  assert_eq(service.post("get_corp_token", body, "st_forged").errcode, 40082)
  local st = service.suite_token(S1, S1_SECRET)
  status, r = http("GET", "/cgi-bin/service/get_corp_token?suite_access_token=" .. st)
  assert_eq(status, 200)
  assert_eq(r.errcode, 40058)
  assert_eq(service.post("get_corp_token", "not json", st).errcode, 40058)
  assert_eq(service.post("get_corp_token", body, st).errcode, 0)
  clock.advance(7200)
  for _, name in ipairs { "get_corp_token", "v2/get_auth_info", "v2/get_permanent_code",
    "get_permanent_code" } do
    assert_eq(service.post(name, body, st).errcode, 42009, name)
  end
end)

test("get_permanent_code: 41008 without an auth_code, 40078 for one never issued", function()
  local st = service.suite_token(S1, S1_SECRET)
  for _, name in ipairs { "v2/get_permanent_code", "get_permanent_code" } do
    assert_eq(service.post(name, {}, st).errcode, 41008, name)
    assert_eq(service.post(name, { auth_code = "" }, st).errcode, 41008, name)
    assert_eq(service.post(name, { auth_code = "never-issued" }, st).errcode, 40078, name)
  end
end)

test("get_corp_token and get_auth_info: 41002, 41025, 40084 and 48002", function()
  local st = service.suite_token(S1, S1_SECRET)
  for _, name in ipairs { "get_corp_token", "v2/get_auth_info" } do
    assert_eq(service.post(name, { permanent_code = "pc-third-1000002" }, st).errcode, 41002, name)
    assert_eq(service.post(name, { auth_corpid = CORP }, st).errcode, 41025, name)
    assert_eq(service.post(name, { auth_corpid = CORP, permanent_code = "pc-wrong" }, st).errcode,
      40084, name)
    -- app 1000004's code is suite two's: "永久授权码不能跨服务商使用"
    assert_eq(service.post(name, { auth_corpid = CORP, permanent_code = "pc-third-1000004" },
      st).errcode, 40084, name)
    assert_eq(service.post(name, { auth_corpid = "wwanothercorp001",
      permanent_code = "pc-third-1000002" }, st).errcode, 40084, name)
  end
  -- a 代开发 template gets its tickets and token, but not get_corp_token
  local tmpl = service.suite_token(TMPL, TMPL_SECRET)
  assert_eq(service.post("get_corp_token", { auth_corpid = CORP,
    permanent_code = "pc-custom-1000003" }, tmpl).errcode, 48002)
end)

test("the suite ticket 30 minutes after its push: 40085", function()
  -- "suite_ticket实际有效期为30分钟" (doc 14939)
  local old = assert(suite.ticket(S1))
  clock.advance(1800)
  assert_eq(suite_token({ suite_id = S1, suite_secret = S1_SECRET, suite_ticket = old }), 40085)
  local new = assert(suite.ticket(S1))
  assert_true(new ~= old, "a newer ticket was pushed meanwhile")
  assert_eq(suite_token({ suite_id = S1, suite_secret = S1_SECRET, suite_ticket = new }), 0)
end)
