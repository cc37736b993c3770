-- Two apps of one corp share zone-demo: each sees, changes and hears about its own keyword
-- rules only (the default of events.md §3.2); a hit of an app without a receiving program is
-- still listed by get_hit_msg_list.
local apps = require("two_apps")
scenario { world = "worlds/two_apps.json" }

local a, b

test("each app lists and reads only its own rules", function()
  a = apps.a("create_rule", { name = "alpha", keyword = { word_list = { "alpha" } } }).rule_id
  b = apps.b("create_rule", { name = "beta", keyword = { word_list = { "beta" } } }).rule_id
  assert_true(a and b and a ~= b, "two rules")
  local la, lb = apps.a("get_rule_list", {}), apps.b("get_rule_list", {})
  assert_eq(#la.rule_list, 1)
  assert_eq(la.rule_list[1].rule_id, a)
  assert_eq(#lb.rule_list, 1)
  assert_eq(lb.rule_list[1].rule_id, b)
  assert_eq(apps.a("get_rule_detail", { rule_id = b }).errcode, 710612, "another app's rule")
  assert_eq(apps.a("delete_rule", { rule_id = b }).errcode, 710612)
  assert_eq(apps.b("get_rule_detail", { rule_id = b }).name, "beta")
  assert_eq(apps.b("get_rule_list", { cursor = la.next_cursor }).errcode, 710611,
    "another app's cursor")
end)

test("a hit goes to the owner's program; an app without one still gets the record", function()
  assert_eq(app("set_receive_callback", { program_id = "zone-demo" },
    { token = apps.token("a") }).errcode, 0)
  local r = archive { msgid = "ab_1", msgtype = 1, content = { content = "alpha and beta" },
    sender = { type = 1, id = "zhangsan" }, receivers = { { type = 1, id = "lisi" } } }
  assert_eq(#r.hit_events, 2)
  local ha, hb = r.hit_events[1], r.hit_events[2]
  assert_eq(ha.agentid, 1000002)
  assert_eq(ha.rule_ids, { a })
  assert_match(ha.token, "^hk_")
  assert_eq(hb.agentid, 1000003)
  assert_eq(hb.rule_ids, { b })
  assert_eq(hb.token, nil, "app b chose no receiving program: no event")
  local ev = assert(wait_journal({ face = "program", kind = "event",
    event = { event_type = "hit_keyword" } }, { timeout = 5 }))
  assert_eq(ev.agentid, 1000002)
  assert_eq(#journal({ face = "program", kind = "event", event = { event_type = "hit_keyword" } }), 1)

  local da = apps.a("get_hit_msg_list", { token = ha.token })
  assert_eq(da.msg_list, { { msgid = "ab_1", hit_rule_list = {
    { rule_id = a, has_hit_keyword = true, semantics_list = array() } } } })
  local db = apps.b("get_hit_msg_list", {})
  assert_eq(db.msg_list, { { msgid = "ab_1", hit_rule_list = {
    { rule_id = b, has_hit_keyword = true, semantics_list = array() } } } })
end)
