-- Who may open debug mode (doc 54810 开启专区调试模式): "对于第三方应用，仅通过测试安装的企业可
-- 开启调试模式"; "对于代开发应用，企业必须为服务商的测试企业"; otherwise ERR 710672
-- "服务商非测试企业或应用非测试授权安装，不允许使用调试模式". The vendor states no such rule for
-- self-built apps, and zonelab sets none. Both halves refuse: open_debug_mode on the app API and
-- SpecOpenDebugMode in the program's SDK.
local KEY = "zonelabDemoAesKey0123456789abcdefghijKLMNOP"
local function app_of(agentid, kind, secret, auth)
  return { agentid = agentid, name = "app " .. agentid, kind = kind, secret = secret,
    token = "zonelabtoken", encoding_aes_key = KEY, auth = auth }
end
local ABILITY = { ability_id = "open_debug_mode",
  input_protocol = '{"debug_token":"","access_token":""}',
  output_protocol = '{"errcode":0,"errmsg":""}' }

scenario {
  world = {
    clock_start = 1793808000,
    providers = { {
      corpid = "wwdebugprovider1", name = "debug provider", provider_secret = "dbg-provider",
      suites = {
        { suite_id = "wwdebugsuite0001", suite_secret = "dbg-suite", token = "suitetoken",
          encoding_aes_key = KEY },
        { suite_id = "dkdebugtmpl00001", suite_secret = "dbg-tmpl", kind = "custom",
          token = "tmpltoken", encoding_aes_key = KEY },
      } } },
    corps = {
      { corpid = "wwdebugcorp00001", name = "a customer (not a test corp)",
        apps = {
          app_of(1000002, "third_party", "dbg-third-normal"),
          app_of(1000003, "third_party", "dbg-third-test", { test = true }),
          app_of(1000004, "custom", "dbg-custom-normal"),
          app_of(1000005, "self_built", "dbg-self"),
        },
        programs = { { program_id = "zone-demo", role = "program",
          agentids = { 1000002, 1000003, 1000004, 1000005 }, abilities = { ABILITY } } },
        members = { { userid = "zhangsan", name = "Zhang San" } } },
      { corpid = "wwdebugcorp00002", name = "the provider's test corp", test_corp = true,
        apps = { app_of(1000004, "custom", "dbg-custom-test") },
        programs = { { program_id = "zone-demo", role = "program", agentids = { 1000004 } } },
        members = { { userid = "lisi", name = "Li Si" } } },
    },
  },
}

local CORP, TEST_CORP = "wwdebugcorp00001", "wwdebugcorp00002"

local function token_of(corpid, secret)
  local r = gettoken(corpid, secret)
  assert_eq(r.errcode, 0, "gettoken " .. secret)
  return r.access_token
end

-- open_debug_mode as the app with secret in corpid, with the program's current debug token
local function open_as(corpid, secret)
  local dt = program.debug_token({ corpid = corpid }).debug_token
  return app("open_debug_mode", { program_id = "zone-demo", debug_token = dt },
    { token = token_of(corpid, secret) }).errcode, dt
end

test("a third-party app: only a test installation (auth.test) may open debug mode", function()
  local code, dt = open_as(CORP, "dbg-third-normal")
  assert_eq(code, 710672)
  assert_eq(app("open_debug_mode", { program_id = "zone-demo", debug_token = "dbg_wrong" },
    { token = token_of(CORP, "dbg-third-normal") }).errcode, 710672, "checked before the token")
  -- the SDK half refuses it too: SpecOpenDebugMode(debug_token, access_token of that app)
  local r = call("open_debug_mode", { debug_token = dt, access_token = token_of(CORP, "dbg-third-normal") },
    { token = token_of(CORP, "dbg-third-test") })
  assert_eq(r.data.errcode, 710660, "zone-demo answers 710660 with the SDK's reason")
  local s = sdk.calls("zonelab.open_debug_mode")
  assert_eq(s[#s].errcode, 710672)
  assert_eq((open_as(CORP, "dbg-third-test")), 0, "the test installation")
end)

test("a 代开发 app: only in the provider's test corp (test_corp)", function()
  assert_eq((open_as(CORP, "dbg-custom-normal")), 710672)
  assert_eq((open_as(TEST_CORP, "dbg-custom-test")), 0)
end)

test("a self-built app: no test-corp rule (the vendor states none)", function()
  assert_eq((open_as(CORP, "dbg-self")), 0)
end)
