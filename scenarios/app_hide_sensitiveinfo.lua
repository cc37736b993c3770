-- set_hide_sensitiveinfo_config / get_hide_sensitiveinfo_config on the app face
-- (POST /cgi-bin/chatdata/...): the same per-member settings as the SDK face's, so what the
-- app sets the program reads, and the other way round.
local invoke = require("invoke")
scenario { world = "default" }

local NONE = { hide_mobile = false, hide_idcard = false, hide_bankno = false }

local function sdk_get(userid)
  return invoke("get_hide_sensitiveinfo_config", { userid = userid })
end

test("the app sets, the app and the SDK read it", function()
  assert_eq(app("get_hide_sensitiveinfo_config", { userid = "lisi" }),
    { errcode = 0, errmsg = "ok", config = NONE }, "every flag false before a set")
  assert_eq(app("set_hide_sensitiveinfo_config",
    { userid = "lisi", config = { hide_mobile = true, hide_bankno = true } }),
    { errcode = 0, errmsg = "ok" })
  local want = { hide_mobile = true, hide_idcard = false, hide_bankno = true }
  assert_eq(app("get_hide_sensitiveinfo_config", { userid = "lisi" }).config, want)
  assert_eq(sdk_get("lisi"), { errcode = 0, errmsg = "ok", config = want }, "the SDK face")
  assert_eq(sdk_get("zhangsan").config, NONE, "another member is untouched")
end)

test("the SDK sets, the app reads it", function()
  local r = call("invoke_set_hide_sensitiveinfo_config",
    { userid = "zhangsan", config = { hide_idcard = true } })
  assert_eq(r.data, { errcode = 0, errmsg = "ok" })
  assert_eq(app("get_hide_sensitiveinfo_config", { userid = "zhangsan" }).config,
    { hide_mobile = false, hide_idcard = true, hide_bankno = false })
  -- a set replaces the whole config: absent flags are false
  assert_eq(app("set_hide_sensitiveinfo_config", { userid = "lisi", config = {} }).errcode, 0)
  assert_eq(sdk_get("lisi").config, NONE)
end)

test("the app face's errors: 40058 with its request id; a bad token 40014", function()
  local r = app("get_hide_sensitiveinfo_config", {})
  assert_eq(r.errcode, 40058)
  assert_match(r.errmsg, "userid %(or open_userid%) is required, hint: %[%x+%]")
  assert_eq(app("get_hide_sensitiveinfo_config", { userid = "nobody" }).errcode, 40058)
  assert_eq(app("set_hide_sensitiveinfo_config", { userid = "lisi" }).errcode, 40058)
  assert_eq(app("set_hide_sensitiveinfo_config",
    { userid = "lisi", config = { hide_mobile = "yes" } }).errcode, 40058)
  assert_eq(app("get_hide_sensitiveinfo_config", { userid = "lisi" }, { token = "bad" }).errcode,
    40014)
  local status, body = http("POST", "/cgi-bin/chatdata/get_hide_sensitiveinfo_config?access_token="
    .. gettoken().access_token, "not json")
  assert_eq({ status, body.errcode }, { 200, 40058 })
  assert_eq(#journal({ face = "app", kind = "call", endpoint = "set_hide_sensitiveinfo_config" }), 4,
    "every set is journaled on the app face")
end)
