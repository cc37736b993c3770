-- set_hide_sensitiveinfo_config / get_hide_sensitiveinfo_config as SDK APIs: per member,
-- every flag false until set; a set replaces the whole config (absent flags are false).
scenario { world = "default" }

local function get(req)
  local r = call("invoke_get_hide_sensitiveinfo_config", req)
  assert_eq(r.errcode, 0, "sync_call_program")
  return r.data
end

local function set(req)
  local r = call("invoke_set_hide_sensitiveinfo_config", req)
  assert_eq(r.errcode, 0, "sync_call_program")
  return r.data
end

local NONE = { hide_mobile = false, hide_idcard = false, hide_bankno = false }

test("every flag is false before a set", function()
  assert_eq(get { userid = "lisi" }, { errcode = 0, errmsg = "ok", config = NONE })
end)

test("a set is read back, per member, by userid or open_userid", function()
  assert_eq(set({ userid = "lisi", config = { hide_mobile = true, hide_bankno = true } }),
    { errcode = 0, errmsg = "ok" })
  assert_eq(get({ open_userid = "lisi" }).config,
    { hide_mobile = true, hide_idcard = false, hide_bankno = true })
  assert_eq(get({ userid = "zhangsan" }).config, NONE, "another member is untouched")
  assert_eq(set({ open_userid = "lisi", config = { hide_idcard = true } }).errcode, 0)
  assert_eq(get({ userid = "lisi" }).config,
    { hide_mobile = false, hide_idcard = true, hide_bankno = false })
end)

test("a missing or unknown userid, or no config, is 40058", function()
  assert_eq(get({}).errcode, 40058)
  assert_eq(get({ userid = "nobody" }).errcode, 40058)
  assert_eq(set({ userid = "lisi" }).errcode, 40058)
  assert_eq(set({ config = { hide_mobile = true } }).errcode, 40058)
  assert_eq(set({ userid = "nobody", config = {} }).errcode, 40058)
end)
