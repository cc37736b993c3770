-- The corp's authorisation of an app over its life (auth.*): periods that end on the virtual
-- clock, a purchase, a scope or retention change announced with change_auth, and cancel and
-- re-grant: "企业取消授权后再重新授权，需要设置公钥吗？答：需要，重新授权后需要处理的步骤和新授权
-- 是一样的，也要设置公钥和设置专区接收回调事件" (FAQ, doc 55301).
scenario { world = "default" }

local invoke = require("invoke")
local service = require("service")
local CORP, SUITE, SUITE_SECRET = "wwzonelab0000001", "wwzonelabsuite0001", "zonelab-suite-secret-0001"

local function msg(id)
  return { msgid = id, sender = { type = 1, id = "zhangsan" },
    receivers = { { type = 1, id = "lisi" } }, msgtype = 1, content = { content = id } }
end

local function suite_events(info_type)
  local n = 0
  for _, cb in ipairs(suite.callbacks()) do
    n = n + (cb.info_type == info_type and 1 or 0)
  end
  return n
end

test("the default world's app is paid with no end: its archive is in effect", function()
  local a = auth.info()
  assert_eq(a.agentid, 1000002)
  assert_sub(a.editions, { { edition = 3, status = 3 } })
  assert_eq(a.archive_check, 0)
  assert_eq(a.cancelled, false)
  assert_eq(a.msg_duration_days, 90)
end)

test("a period that ends is 301052 at once, and 710654 once it ended 30 days ago", function()
  auth.buy { days = 10 }
  local a = auth.info()
  assert_sub(a.editions, { { edition = 3, status = 3 } })
  assert_eq(a.editions[1].end_time - a.editions[1].begin_time, 10 * 86400)
  clock.advance(10 * 86400)
  a = auth.info()
  assert_eq(a.editions[1].status, 4, "付费使用已到期")
  assert_eq(a.archive_check, 301052, "会话存档已过期")
  assert_eq(invoke("sync_msg", { limit = 10 }).errcode, 301052, "sync_msg answers it")
  clock.advance(30 * 86400 + 1)
  assert_eq(auth.info().archive_check, 710654, "付费到期超过30天，付费期间的会话内容存档已失效")
  assert_eq(invoke("sync_msg", { limit = 10 }).errcode, 710654)
  local b = auth.buy {}
  assert_eq(b.archive_check, 0, "bought again")
  assert_eq(b.editions[1].status, 3)
end)

test("a trial that is expired by hand is 301052, then 710653 after 30 days", function()
  auth.expire {}
  assert_eq(auth.info().archive_check, 301052)
  auth.buy { days = 1 }
  clock.advance(86400)
  assert_eq(auth.info().archive_check, 301052)
end)

test("scope and retention changes are announced with change_auth", function()
  local before = suite_events("change_auth")
  local a = auth.scope { userids = { "zhangsan" } }
  assert_eq(a.effective_userids, { "zhangsan" })
  assert_eq(a.auth_user_count, 1)
  a = auth.retention { msg_duration_days = 180 }
  assert_eq(a.msg_duration_days, 180)
  assert_eq(suite_events("change_auth"), before + 2)
  a = auth.scope { corp = true }
  assert_true(a.auth_user_count > 1, "the corp's own scope again")
end)

test("cancel: the key, the receiving program and the tokens go; grant: set them again", function()
  auth.buy {}
  assert_eq(app("set_receive_callback", { program_id = "zone-demo" }).errcode, 0)
  local old = gettoken().access_token
  local st = service.suite_token(SUITE, SUITE_SECRET)
  local old_pc = auth.info().permanent_code
  assert_eq(#archive(msg("lc_0")).events, 1, "archived and announced before the cancel")

  local c = auth.cancel {}
  assert_eq(c.cancelled, true)
  assert_sub(assert(suite.wait_callback { info_type = "cancel_auth" }),
    { fields = { AuthCorpId = CORP, SuiteId = SUITE } })
  assert_eq(app("get_log_level", { program_id = "zone-demo" }, { token = old }).errcode, 40014,
    "the cancelled app's token no longer works")
  assert_eq(gettoken().errcode, 48004, "授权关系无效")
  assert_eq(service.post("get_corp_token", { auth_corpid = CORP, permanent_code = old_pc }, st)
    .errcode, 40084, "企业是否已取消授权该套件 (doc 10649, 40084)")
  assert_eq(http("POST", "/_zonelab/messages", { messages = { msg("lc_1") } }), 409,
    "its key is gone: no app of the corp has one, WeCom archives nothing")

  local g = auth.grant {}
  assert_eq(g.cancelled, false)
  local created = assert(suite.wait_callback { info_type = "create_auth" })
  assert_eq(created.fields.AuthCode, g.auth_code, "create_auth carries the temporary auth_code")
  local pc = service.post("v2/get_permanent_code", { auth_code = g.auth_code }, st)
  assert_eq(pc.errcode, 0, tostring(pc.errmsg))
  assert_eq(pc.auth_corp_info.corpid, CORP)
  assert_true(pc.permanent_code ~= old_pc, "a new permanent_code")
  assert_eq(service.post("v2/get_permanent_code", { auth_code = g.auth_code }, st).errcode, 40078,
    "临时授权码一次有效")
  local ct = service.post("get_corp_token", { auth_corpid = CORP, permanent_code = pc.permanent_code }, st)
  assert_eq(ct.errcode, 0)
  local token = ct.access_token

  assert_eq(http("POST", "/_zonelab/messages", { messages = { msg("lc_2") } }), 409,
    "no key after the re-grant either")
  assert_eq(app("set_public_key", { public_key = file_text("../fixtures/keys/test_v2_public.pem"),
    public_key_ver = 1 }, { token = token }).errcode, 0, "version 1 again: the re-grant cleared the key")
  assert_eq(app("set_receive_callback", { program_id = "zone-demo" }, { token = token }).errcode, 0)
  local r = archive(msg("lc_3"))
  assert_eq(#r.events, 1, "archived and announced again")
  local d = invoke("sync_msg", { limit = 100 }, { token = token })
  assert_eq(d.errcode, 0)
  for _, it in ipairs(d.msg_list) do
    assert_true(it.msgid ~= "lc_0",
      "重新授权前的消息无法展示: lc_0 was archived before the re-grant")
  end
  assert_eq(d.msg_list[#d.msg_list].msgid, "lc_3")
end)

test("a temporary auth_code is valid 10 minutes", function()
  local st = service.suite_token(SUITE, SUITE_SECRET)
  auth.cancel {}
  local g = auth.grant {}
  clock.advance(601)
  st = service.suite_token(SUITE, SUITE_SECRET)
  assert_eq(service.post("v2/get_permanent_code", { auth_code = g.auth_code }, st).errcode, 40078,
    "临时授权码,最长为512字节。用于获取企业永久授权码。10分钟内有效 (doc 14951)")
end)
