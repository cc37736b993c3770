-- The archive scope in the conversation-data APIs, on a small world with a member outside the
-- scope (bob): groups with no member in scope are 710614, bob's consent pairs 710608, search
-- hides what only bob can see (a customer without follow_users counts as followed by every
-- member of edition 2 or 3), and consent events fire only for contacts in scope. Also
-- search_chat paging over several matches and an unnamed group.
local invoke = require("invoke")
local E = '"errcode":0,"errmsg":""'
local ability = function(id, input, output)
  return { ability_id = id, input_protocol = input, output_protocol = "{" .. E .. output .. "}" }
end
local AGREE = ',"agreeinfo":[{"status_change_time":0,"userid":"","external_userid":"","agree_status":""}]'
local function group(chatid, name, kind, creator, members)
  local list = {}
  for i, m in ipairs(members) do
    list[i] = { id = m[1], type = m[2], jointime = 1793000000 }
  end
  return { chatid = chatid, name = name, kind = kind, creator = creator,
    create_time = 1793000000, members = list }
end

scenario {
  world = {
    clock_start = 1793808000,
    corps = { {
      corpid = "wwscope000000001",
      name = "scope corp",
      apps = { { agentid = 1000002, name = "app", secret = "scope-secret", callback_url = "",
        token = "zonelabtoken", encoding_aes_key = "zonelabDemoAesKey0123456789abcdefghijKLMNOP" } },
      programs = { {
        program_id = "zone-demo",
        role = "program",
        agentids = { 1000002 },
        abilities = {
          ability("invoke_search_chat", '{"query_word":"","limit":0,"cursor":""}',
            ',"has_more":0,"next_cursor":"","chat_list":[{"chatid":""}]'),
          ability("invoke_get_group_chat", '{"chatid":""}',
            ',"creator":"","room_create_time":0,"members":[{"memberid":"","jointime":0,"type":0}]'),
          ability("invoke_get_agree_status_single",
            '{"item":[{"userid":"","external_userid":""}]}', AGREE),
          ability("invoke_get_agree_status_room", '{"chatid":""}', AGREE),
          ability("invoke_search_contact_or_customer", '{"query_word":"","limit":0}',
            ',"has_more":0,"next_cursor":"","user_list":[{"type":0,"id":""}]'),
          ability("get_callback_data", "{}", ',"event_type":"","timestamp":0,'
            .. '"chat_archive_audit_approved":{"userid":"","external_userid":"","chatid":""}'),
        },
      } },
      members = {
        { userid = "amy", name = "Amy" },
        { userid = "bob", name = "Bob", in_scope = false },
      },
      externals = {
        { external_userid = "wm_carol", name = "Carol", follow_users = { "bob" } },
        { external_userid = "wm_carla", name = "Carla", follow_users = { "amy", "bob" } },
        { external_userid = "wm_cara", name = "Cara" },
      },
      groups = {
        group("wr_north", "Sales North", "internal", "amy", { { "amy", 1 }, { "bob", 1 } }),
        group("wr_west", "Sales West", "internal", "bob", { { "bob", 1 } }),
        group("wr_south", "Sales South", "internal", "amy", { { "amy", 1 } }),
        group("wr_unnamed", "", "internal", "amy", { { "amy", 1 } }),
        group("wr_east", "sales east", "internal", "amy", { { "amy", 1 } }),
        group("wr_out", "Bob's customers", "customer", "bob", { { "bob", 1 }, { "wm_carol", 2 } }),
        group("wr_in", "Amy's customers", "customer", "amy", { { "amy", 1 }, { "wm_carla", 2 } }),
      },
      consents = {
        { userid = "amy", external_userid = "wm_carla", status = "Agree", change_time = 1793700000 },
        { userid = "bob", external_userid = "wm_carol", status = "Agree", change_time = 1793700000 },
      },
    } },
  },
}

test("search_chat pages over groups in scope; unnamed and out-of-scope ones never match", function()
  local d = invoke("search_chat", { query_word = "SALES", limit = 2 })
  assert_eq(d.chat_list, { { chatid = "wr_north" }, { chatid = "wr_south" } })
  assert_eq(d.has_more, 1)
  local rest = invoke("search_chat", { query_word = "SALES", limit = 2, cursor = d.next_cursor })
  assert_eq(rest.chat_list, { { chatid = "wr_east" } })
  assert_eq(rest.has_more, 0)
  assert_eq(#invoke("search_chat", { query_word = "west" }).chat_list, 0)
  assert_eq(invoke("search_chat", { query_word = "customers" }).chat_list,
    { { chatid = "wr_in" } }, "customer groups are searched too")
end)

test("a group with no member in scope is 710614", function()
  assert_eq(invoke("get_group_chat", { chatid = "wr_west" }).errcode, 710614)
  assert_eq(#invoke("get_group_chat", { chatid = "wr_north" }).members, 2)
  assert_eq(invoke("get_group_chat", { chatid = "wr_unnamed" }).errcode, 0)
  assert_eq(invoke("get_agree_status_room", { chatid = "wr_out" }).errcode, 710614)
  assert_eq(invoke("get_agree_status_room", { chatid = "wr_in" }).errcode, 0)
end)

test("a consent pair of a member outside the scope is 710608", function()
  local d = invoke("get_agree_status_single",
    { item = { { userid = "amy", external_userid = "wm_carla" },
      { userid = "bob", external_userid = "wm_carol" } } })
  assert_eq(d.errcode, 710608)
  assert_match(d.errmsg, "item%[1%]%.userid \"bob\"")
  d = invoke("get_agree_status_single", { item = { { userid = "amy", external_userid = "wm_carol" } } })
  assert_eq(d.errcode, 0)
  assert_eq(#d.agreeinfo, 0, "amy and carol never decided")
end)

test("search_contact_or_customer hides members and customers outside the scope", function()
  assert_eq(invoke("search_contact_or_customer", { query_word = "car" }).user_list,
    { { type = 2, id = "wm_carla" }, { type = 2, id = "wm_cara" } },
    "carol is followed by bob only; cara, with no follow_users, by every member of edition 2+")
  assert_eq(#invoke("search_contact_or_customer", { query_word = "bob" }).user_list, 0)
end)

test("consent events fire only for contacts in scope", function()
  assert_eq(app("set_receive_callback", { program_id = "zone-demo" }).errcode, 0)
  assert_eq(#consent({ corpid = "wwscope000000001", userid = "bob",
    external_userid = "wm_carol" }).events, 0)
  assert_eq(#consent({ chatid = "wr_out", external_userid = "wm_carol" }).events, 0)
  local r = consent { userid = "amy", external_userid = "wm_carol" }
  assert_eq(#r.events, 1)
  local n = assert(wait_notification { timeout = 5 })
  local ev = call("get_callback_data", {}, { notify_id = n.notify_id }).data
  assert_eq(ev.chat_archive_audit_approved, { userid = "amy", external_userid = "wm_carol" })
  local d = invoke("get_agree_status_single", { item = { { userid = "amy", external_userid = "wm_carol" } } })
  assert_eq(d.agreeinfo[1].agree_status, "Agree")
end)
