-- A scope by department and by tag. get_corp_auth_info's auth_scope holds "department_id_list
-- 企业授权存档的部门列表" and "tag_id_list 企业授权存档的标签列表" (doc 55567); the page does not
-- say whether a department brings its sub-departments: zonelab includes them, as the address
-- book does ("获取指定部门及其下的子部门", department/list). App 1000005 authorised department 2
-- (hal, and dan in its sub-department 3); app 1000006 tag 9 (eve, and department 4 with fay and,
-- in its sub-department 5, gus). A keyword rule's departments must lie inside the app's scope:
-- ERR's "710607 部门不在授权范围内" (the mapping is zonelab's, docs/emulator.md).
scenario { world = "worlds/auth.json", sync_budget = 1000 }

local invoke = require("invoke")
local CORPID = "wwauthcorp000001"
local BY_DEPT, BY_TAG, BY_MEMBERS, CORP_SCOPE = 1000005, 1000006, 1000002, 1000007

local function token(agentid)
  local r = gettoken(CORPID, "auth-world-secret-" .. agentid)
  assert_eq(r.errcode, 0, r.errmsg)
  return r.access_token
end

local function users(agentid)
  local r = app("get_auth_user_list", {}, { token = token(agentid) })
  assert_eq(r.errcode, 0, r.errmsg)
  local ids = {}
  for i, u in ipairs(r.auth_user_list) do ids[i] = u.userid end
  return ids
end

local function to_customer(msgid, from, words)
  return { msgid = msgid, sender = { type = 1, id = from },
    receivers = { { type = 2, id = "wm_ext_01" } }, msgtype = 1, content = { content = words } }
end

-- A rule of departments for the app, as create_rule answers it.
local function dept_rule(agentid, ids)
  return invoke("create_rule", { name = "by department", keyword = { word_list = { "order" } },
    applicable_range = { department = { id_list = ids } } }, { token = token(agentid) })
end

test("a department brings its sub-departments; a tag its members and departments", function()
  assert_eq(users(BY_DEPT), { "dan", "hal" }, "eve, in department 1 above 2, is outside")
  assert_eq(users(BY_TAG), { "eve", "fay", "gus" })
end)

test("each app's sync_msg holds the messages of its own scope", function()
  archive({ to_customer("sc_dan", "dan", "hello"), to_customer("sc_gus", "gus", "hello"),
    to_customer("sc_eve", "eve", "hello") })
  local function ids(agentid)
    local d = invoke("sync_msg", { limit = 100 }, { token = token(agentid) })
    assert_eq(d.errcode, 0, d.errmsg)
    local list = {}
    for _, m in ipairs(d.msg_list) do list[#list + 1] = m.msgid end
    return list
  end
  assert_eq(ids(BY_DEPT), { "sc_dan" })
  assert_eq(ids(BY_TAG), { "sc_gus", "sc_eve" })
end)

test("710607: a rule's department outside the app's scope", function()
  assert_eq(dept_rule(BY_DEPT, { 3 }).errcode, 0, "3 is under the authorised 2")
  assert_eq(dept_rule(BY_DEPT, { 2, 1 }).errcode, 710607, "1 is above it")
  assert_eq(dept_rule(BY_DEPT, { 4 }).errcode, 710607)
  assert_eq(dept_rule(BY_TAG, { 5 }).errcode, 0, "5 is under tag 9's department 4")
  assert_eq(dept_rule(BY_TAG, { 2 }).errcode, 710607)
  assert_eq(dept_rule(BY_MEMBERS, { 1 }).errcode, 710607, "a scope of members holds no department")
  assert_eq(dept_rule(CORP_SCOPE, { 1, 2, 3, 4, 5 }).errcode, 0,
    "the corp's own scope holds every department of the corp")
  assert_eq(dept_rule(CORP_SCOPE, { 99 }).errcode, 710607, "99 is no department")
end)

test("a rule's department covers its sub-departments: dan hits, hal does not", function()
  -- "对指定部门下的所有员工…都会生效" (doc 53346); the rule of department 3 was created above
  local r = archive({ to_customer("kw_dan", "dan", "an order"), to_customer("kw_hal", "hal", "an order") })
  assert_eq(#r.hit_events, 1)
  assert_sub(r.hit_events[1], { msgid = "kw_dan", agentid = BY_DEPT })
end)
