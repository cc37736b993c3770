-- Two apps of one corp share zone-demo: each sees, changes and hears about its own keyword
-- rules only (the default of events.md §3.2); a hit of an app without a receiving program is
-- still listed by get_hit_msg_list.
local E = '"errcode":0,"errmsg":""'
local ability = function(id, input, output)
  return { ability_id = id, input_protocol = input, output_protocol = "{" .. E .. output .. "}" }
end
local function app_of(agentid, secret)
  return { agentid = agentid, name = "app " .. agentid, secret = secret, callback_url = "",
    token = "zonelabtoken", encoding_aes_key = "zonelabDemoAesKey0123456789abcdefghijKLMNOP" }
end

scenario {
  world = {
    clock_start = 1793808000,
    corps = { {
      corpid = "wwzonelab0000001",
      name = "two apps",
      apps = { app_of(1000002, "rules-secret-a"), app_of(1000003, "rules-secret-b") },
      programs = { {
        program_id = "zone-demo",
        role = "program",
        agentids = { 1000002, 1000003 },
        abilities = {
          ability("invoke_create_rule", '{"name":"","keyword":{"word_list":[""]}}', ',"rule_id":""'),
          ability("invoke_get_rule_list", '{"cursor":"","limit":0}',
            ',"rule_list":[{"rule_id":"","name":"","create_time":0}],"has_more":false,"next_cursor":""'),
          ability("invoke_get_rule_detail", '{"rule_id":""}',
            ',"name":"","keyword":{"word_list":[""],"is_case_sensitive":0,"match_rule":0,'
            .. '"is_trim_msg":0},"semantics":{"semantics_list":[0]},"applicable_range":{}'),
          ability("invoke_delete_rule", '{"rule_id":""}', ""),
          ability("invoke_get_hit_msg_list", '{"cursor":"","token":"","limit":0}',
            ',"has_more":0,"next_cursor":"","msg_list":[{"msgid":"","hit_rule_list":'
            .. '[{"rule_id":"","has_hit_keyword":false,"semantics_list":[0]}]}]'),
        },
      } },
      members = { { userid = "zhangsan", name = "Zhang San" }, { userid = "lisi", name = "Li Si" } },
      public_keys = { { version = 1, pem_file = "../fixtures/keys/test_v1_public.pem" } },
    } },
  },
}

local tokens = {}

local function sdk(agent, api, req)
  local r = call("invoke_" .. api, req, { token = tokens[agent] })
  assert_eq(r.errcode, 0, "sync_call_program " .. api .. ": " .. tostring(r.errmsg))
  return r.data
end

local a, b

test("each app lists and reads only its own rules", function()
  tokens.a = gettoken("wwzonelab0000001", "rules-secret-a").access_token
  tokens.b = gettoken("wwzonelab0000001", "rules-secret-b").access_token
  a = sdk("a", "create_rule", { name = "alpha", keyword = { word_list = { "alpha" } } }).rule_id
  b = sdk("b", "create_rule", { name = "beta", keyword = { word_list = { "beta" } } }).rule_id
  assert_true(a and b and a ~= b, "two rules")
  local la, lb = sdk("a", "get_rule_list", {}), sdk("b", "get_rule_list", {})
  assert_eq(#la.rule_list, 1)
  assert_eq(la.rule_list[1].rule_id, a)
  assert_eq(#lb.rule_list, 1)
  assert_eq(lb.rule_list[1].rule_id, b)
  assert_eq(sdk("a", "get_rule_detail", { rule_id = b }).errcode, 710612, "another app's rule")
  assert_eq(sdk("a", "delete_rule", { rule_id = b }).errcode, 710612)
  assert_eq(sdk("b", "get_rule_detail", { rule_id = b }).name, "beta")
  assert_eq(sdk("b", "get_rule_list", { cursor = la.next_cursor }).errcode, 710611,
    "another app's cursor")
end)

test("a hit goes to the owner's program; an app without one still gets the record", function()
  assert_eq(app("set_receive_callback", { program_id = "zone-demo" }, { token = tokens.a }).errcode, 0)
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

  local da = sdk("a", "get_hit_msg_list", { token = ha.token })
  assert_eq(da.msg_list, { { msgid = "ab_1", hit_rule_list = {
    { rule_id = a, has_hit_keyword = true, semantics_list = array() } } } })
  local db = sdk("b", "get_hit_msg_list", {})
  assert_eq(db.msg_list, { { msgid = "ab_1", hit_rule_list = {
    { rule_id = b, has_hit_keyword = true, semantics_list = array() } } } })
end)
