-- A message that hits a keyword rule fires hit_keyword{token} to the rule owner's receiving
-- program, and get_hit_msg_list returns it with hit_rule_list; paging, need_detail, key
-- behaviours, exclusion lists and the applicable range.
local invoke = require("invoke")
scenario { world = "default" }

local n = 0
-- a text message archived now (zhangsan to lisi unless told otherwise)
local function text(content, opts)
  opts = opts or {}
  n = n + 1
  local m = { msgid = "hit_" .. n, msgtype = 1, content = { content = content },
    sender = opts.sender or { type = 1, id = "zhangsan" },
    receivers = opts.receivers or { { type = 1, id = "lisi" } }, chatid = opts.chatid }
  return m
end

local refund, phone, token

test("a hit fires hit_keyword with a token to the receiving program", function()
  assert_eq(app("set_receive_callback", { program_id = "zone-demo" }).errcode, 0)
  refund = invoke("create_rule", { name = "refund", keyword = { word_list = { "refund" },
    is_case_sensitive = 0 } }).rule_id
  assert_true(refund, "rule created")

  local r = archive(text("I want a REFUND today"))
  assert_eq(#r.events, 1, "conversation_new_message as always")
  assert_eq(#r.hit_events, 1, "and one hit")
  local h = r.hit_events[1]
  assert_eq(h.msgid, "hit_1")
  assert_eq(h.agentid, 1000002)
  assert_eq(h.rule_ids, { refund })
  assert_eq(h.program_id, "zone-demo")
  assert_match(h.token, "^hk_%x+$")
  assert_true(#h.token <= 128, "token at most 128 bytes")
  assert_true(h.token ~= r.events[1].token, "not the conversation_new_message token")
  token = h.token

  local ev = assert(wait_journal({ face = "program", kind = "event",
    event = { event_type = "hit_keyword" } }, { timeout = 5 }))
  assert_eq(ev.event.hit_keyword, { token = token })
  assert_true(type(ev.event.timestamp) == "number", "timestamp")
  assert(wait_journal({ face = "program", kind = "event_result", event_seq = ev.seq },
    { timeout = 5 }))

  -- zone-demo stored both events and notified the app of each; read the hit back
  local got
  for _ = 1, 2 do
    local note = assert(wait_notification { timeout = 5 })
    local d = call("get_callback_data", {}, { notify_id = note.notify_id }).data
    if d.event_type == "hit_keyword" then
      got = d
    end
  end
  assert_true(got, "the program received hit_keyword")
  assert_eq(got.hit_keyword.token, token)
  assert_eq(#journal({ face = "control", kind = "keyword_hit" }), 1)
end)

test("get_hit_msg_list with the token returns the hit, with msg_detail on request", function()
  assert_true(token, "the first test got a token")
  local d = invoke("get_hit_msg_list", { token = token })
  assert_eq(d.errcode, 0, d.errmsg)
  assert_eq(d.has_more, 0)
  assert_eq(#d.msg_list, 1)
  assert_eq(d.msg_list[1], { msgid = "hit_1", hit_rule_list = {
    { rule_id = refund, has_hit_keyword = true, semantics_list = array() } } })

  d = invoke("get_hit_msg_list", { token = token, need_detail = 1 })
  local det = d.msg_list[1].msg_detail
  assert_eq(det.sender, { type = 1, id = "zhangsan" })
  assert_eq(det.receiver_list, { { type = 1, id = "lisi" } })
  assert_eq(det.msgtype, 1)
  assert_true(type(det.send_time) == "number", "send_time")
  assert_eq(det.service_encrypt_info.public_key_ver, 1)
  assert_true(#det.service_encrypt_info.encrypted_secret_key > 0, "encrypted secret")
  assert_true(det.msgid == nil and det.chatid == nil, "no msgid inside, no chatid for 1:1")

  -- the cursor resumes after the hit: nothing new
  local again = invoke("get_hit_msg_list", { token = token, cursor = d.next_cursor })
  assert_eq(#again.msg_list, 0)
  assert_eq(again.has_more, 0)
  local c = assert(sdk.wait_call("get_hit_msg_list", { timeout = 1 }))
  assert_eq(c.req.token, token)
end)

test("messages that do not hit fire nothing", function()
  local r = archive(text("a refun is not a refund? no: 'refun' only"))
  assert_eq(#r.hit_events, 1, "contains 'refund'")
  r = archive(text("nothing to see"))
  assert_eq(r.hit_events, nil)
  -- robots' and out-of-range messages: msg_scope 1 (sent) by default, lisi receives here
  r = archive(text("a refund", { sender = { type = 3, id = "wb_robot_01" },
    receivers = { { type = 1, id = "zhangsan" } }, chatid = "wr_internal_01" }))
  assert_eq(r.hit_events, nil, "a robot is nobody's target")
end)

test("key behaviours, exclusion lists and two rules on one message", function()
  phone = invoke("create_rule", { name = "contact details", semantics = { semantics_list = { 2, 3 } },
    applicable_range = { exclude_mobile = { mobile_list = { "13900000000" } },
      exclude_email = { email_list = { "sales@example.com" } } } }).rule_id
  assert_true(phone, "rule created")
  local r = archive(text("call 13812345678"))
  assert_eq(r.hit_events[1].rule_ids, { phone })
  r = archive(text("call 13900000000 or mail sales@example.com"))
  assert_eq(r.hit_events, nil, "only excluded numbers and addresses")
  r = archive(text("refund to me@example.org please"))
  assert_eq(r.hit_events[1].rule_ids, { refund, phone }, "one event for both rules")
  local tk = r.hit_events[1].token

  local d = invoke("get_hit_msg_list", { token = tk, cursor = nil, begin_time = clock.now() - 1 })
  local last = d.msg_list[#d.msg_list]
  assert_eq(last.msgid, r.hit_events[1].msgid)
  assert_eq(last.hit_rule_list, {
    { rule_id = refund, has_hit_keyword = true, semantics_list = array() },
    { rule_id = phone, has_hit_keyword = false, semantics_list = { 3 } },
  })
end)

test("exact matching with trim, and a group-only range", function()
  local exact = invoke("create_rule", { name = "exact", keyword = { word_list = { "STOP" },
    match_rule = 1, is_trim_msg = 1 },
    applicable_range = { chat_type = { type_list = { 2 } }, chat = { id_list = { "wr_internal_01" } },
      msg_scope = 3 } }).rule_id
  local group = { chatid = "wr_internal_01",
    receivers = { { type = 1, id = "lisi" }, { type = 1, id = "wangwu" } } }
  assert_eq(archive(text("  STOP\n", group)).hit_events[1].rule_ids, { exact })
  assert_eq(archive(text("STOP now", group)).hit_events, nil, "exact: the whole message")
  assert_eq(archive(text("stop", group)).hit_events, nil, "case-sensitive by default")
  assert_eq(archive(text("STOP")).hit_events, nil, "a 1:1 chat is outside the range")
end)

test("get_hit_msg_list pages with limit and has_more", function()
  local all, cursor, more, pages = {}, nil, 1, 0
  while more == 1 do
    local d = invoke("get_hit_msg_list", { token = token, limit = 2, cursor = cursor })
    assert_eq(d.errcode, 0, d.errmsg)
    assert_true(#d.msg_list <= 2, "at most limit")
    for _, m in ipairs(d.msg_list) do
      all[#all + 1] = m.msgid
    end
    cursor, more, pages = d.next_cursor, d.has_more, pages + 1
  end
  assert_eq(all, { "hit_1", "hit_2", "hit_5", "hit_7", "hit_8" })
  assert_eq(pages, 3)
  assert_eq(invoke("get_hit_msg_list", { token = token, cursor = "forged" }).errcode, 710611)
  assert_eq(invoke("get_hit_msg_list", { token = token, cursor = string.rep("c", 65) }).errcode,
    40058, "cursor over 64 bytes")
  assert_eq(invoke("get_hit_msg_list", { token = token, cursor = "" }).errcode, 40058)
  assert_eq(invoke("get_hit_msg_list", { token = token, limit = 1001 }).errcode, 40058)
  assert_eq(invoke("get_hit_msg_list", { token = token, need_detail = 2 }).errcode, 40058)
  local s = invoke("sync_msg", { limit = 1 })
  assert_eq(invoke("get_hit_msg_list", { token = token, cursor = s.next_cursor }).errcode, 710611,
    "a sync_msg cursor is not a get_hit_msg_list cursor")
end)

test("a deleted rule stops hitting; its past hits stay listed", function()
  assert_eq(invoke("delete_rule", { rule_id = phone }).errcode, 0)
  assert_eq(archive(text("call 13812345678")).hit_events, nil)
  local d = invoke("get_hit_msg_list", { token = token, limit = 1000 })
  assert_eq(#d.msg_list, 5)
end)

test("hits older than 5 days are not returned", function()
  clock.advance(5 * 86400 + 60)
  local d = invoke("get_hit_msg_list", {})
  assert_eq(d.errcode, 0, d.errmsg)
  assert_eq(#d.msg_list, 0)
end)
