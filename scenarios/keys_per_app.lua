-- Public keys are per app: "加密需要用到应用设置的公钥" (FAQ, doc 55301), and one corp may
-- authorise several providers' apps ("同一个企业的数据专区权限是否可以授权给多个服务商的多个应用？
-- 答：可以的"). Two apps of two providers each set a version-1 key of their own, and each
-- decrypts only its own encrypted_secret_keys. An app's archive starts with its key
-- ("设置公钥之后，消息才开始存档", doc 51799): what was archived before is not its.
scenario { world = "worlds/two_providers.json" }

local invoke = require("invoke")
local service = require("service")
local CORPID = "wwzonelab0000001"
local AGENT = { a = 1000002, b = 1000003 }
local SUITE = { a = { "wwsuiteA", "suite-a-secret" }, b = { "wwsuiteB", "suite-b-secret" } }
local KEY = { a = "../fixtures/keys/test_v1", b = "../fixtures/keys/test_v2" }

-- each provider's backend gets its corp token its own way: suite_ticket, get_suite_token,
-- get_corp_token (docs 14947, 14939, 14944)
local function token(who)
  local st = service.suite_token(SUITE[who][1], SUITE[who][2])
  local r = service.post("get_corp_token", { auth_corpid = CORPID,
    permanent_code = service.app_state(AGENT[who]).permanent_code }, st)
  assert_eq(r.errcode, 0, tostring(r.errmsg))
  return r.access_token
end

local function as(who, endpoint, body)
  return app(endpoint, body, { token = token(who) })
end

local function set_key(who, ver)
  return as(who, "set_public_key",
    { public_key = file_text(KEY[who] .. "_public.pem"), public_key_ver = ver })
end

local function archive_ids(...)
  local list = {}
  for _, id in ipairs({ ... }) do
    list[#list + 1] = { msgid = id, sender = { type = 1, id = "zhangsan" },
      receivers = { { type = 1, id = "lisi" } }, msgtype = 1, content = { content = id } }
  end
  return http("POST", "/_zonelab/messages", { messages = list })
end

local function items(who)
  local d = invoke("sync_msg", { limit = 100 }, { token = token(who) })
  assert_eq(d.errcode, 0, d.errmsg)
  return d.msg_list
end

test("without a key an app's sync_msg is 710659, and the corp archives nothing", function()
  local d = invoke("sync_msg", { limit = 10 }, { token = token("a") })
  assert_eq(d.errcode, 710659)
  assert_eq(archive_ids("k0"), 409, "no app has a key: WeCom archives nothing")
end)

test("each app's archive starts with its own first key", function()
  assert_eq(set_key("a", 1).errcode, 0)
  assert_eq(archive_ids("k1"), 200, "app a has a key: the corp archives")
  assert_eq(invoke("sync_msg", { limit = 10 }, { token = token("b") }).errcode, 710659,
    "app b has none yet")
  assert_eq(set_key("b", 1).errcode, 0, "app b's version 1 is its own, not app a's")
  assert_eq(archive_ids("k2"), 200)
  local a, b = items("a"), items("b")
  assert_eq(#a, 2)
  assert_sub(a, { { msgid = "k1" }, { msgid = "k2" } })
  assert_eq(#b, 1, "k1 was archived before app b set its key")
  assert_eq(b[1].msgid, "k2")
end)

test("each app decrypts only its own encrypted_secret_keys", function()
  for _, who in ipairs({ "a", "b" }) do
    local other = who == "a" and "b" or "a"
    for _, it in ipairs(items(who)) do
      local info = it.service_encrypt_info
      assert_eq(info.public_key_ver, 1)
      local secret, why = decrypt_secret_key(info.encrypted_secret_key, KEY[who] .. "_private.pem")
      assert_true(secret and #secret == 32,
        "app " .. who .. " decrypts " .. it.msgid .. ": " .. tostring(why))
      assert_true(decrypt_secret_key(info.encrypted_secret_key, KEY[other] .. "_private.pem") == nil,
        "app " .. other .. "'s private key does not open app " .. who .. "'s " .. it.msgid)
    end
  end
end)

test("a version not greater is 40212, a key that is not RSA 40211", function()
  assert_eq(set_key("a", 1).errcode, 40212, "公钥版本号不能低于旧公钥的版本号")
  assert_eq(as("a", "set_public_key", { public_key = "not a key", public_key_ver = 2 }).errcode,
    40211, "不合法的RSA公钥")
end)
