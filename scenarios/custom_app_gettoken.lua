-- A 代开发 app of a custom template: "获取代开发应用的secret之后，接口调用凭证access_token的获取
-- 方式与自建应用完全一致，即调用的是获取access_token接口" and "注意，这与第三方应用的access_token
-- 获取方式不一样" (doc 42543); its secret is its permanent_code ("收到回调后，开发者通过本接口获取
-- 到的permanent_code，即为代开发应用的secret", doc 42542).
scenario { world = "worlds/suites.json" }

local service = require("service")

local CORP, TMPL, TMPL_SECRET = "wwzonelab0000001", "dksuitestmpl0001", "suites-tmpl-secret-0001"

test("gettoken with the permanent_code as corpsecret, then sync_call_program", function()
  local code = service.app_state(1000003).permanent_code
  assert_eq(code, "pc-custom-1000003")
  local r = gettoken(CORP, code)
  assert_eq(r.errcode, 0)
  assert_eq(r.expires_in, 7200)
  local c = call("invoke_sync_msg", { limit = 1 }, { token = r.access_token })
  assert_eq(c.errcode, 0, tostring(c.errmsg))
  local j = journal({ face = "app", kind = "call", endpoint = "sync_call_program" })
  assert_eq(j[#j].agentid, 1000003)
  -- "有效期内重复获取返回相同结果" (doc 42543)
  assert_eq(gettoken(CORP, code).access_token, r.access_token)
  assert_eq(gettoken(CORP, code .. "x").errcode, 40001)
end)

test("the template: tickets and a suite token, get_auth_info, but no get_corp_token", function()
  -- "企业微信后台也会定期向应用代开发模版回调url推送suite_ticket" (doc 42542)
  local st = service.suite_token(TMPL, TMPL_SECRET)
  local info = service.post("v2/get_auth_info", { auth_corpid = CORP,
    permanent_code = "pc-custom-1000003" }, st)
  assert_eq(info.errcode, 0)
  assert_eq(info.auth_corp_info.corpid, CORP)
  assert_eq(#info.auth_info.agent, 1)
  assert_sub(info.auth_info.agent[1], { agentid = 1000003, is_customized_app = true })
  assert_eq(service.post("get_corp_token", { auth_corpid = CORP,
    permanent_code = "pc-custom-1000003" }, st).errcode, 48002)
end)

test("a third-party app's get_auth_info has no is_customized_app", function()
  local st = service.suite_token("wwsuitesthird0001", "suites-third-secret-0001")
  local info = service.post("v2/get_auth_info", { auth_corpid = CORP,
    permanent_code = "pc-third-1000002" }, st)
  assert_eq(info.errcode, 0)
  assert_eq(info.auth_info.agent[1].agentid, 1000002)
  assert_eq(info.auth_info.agent[1].is_customized_app, nil)
end)
