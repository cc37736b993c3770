-- Keyword rules as the vendor's page shows them (doc 53346, 关键词规则管理): exclude_mobile
-- takes the page's own example "+8612345679876", and is_trim_msg without match_rule 1 is
-- taken and changes nothing.
local invoke = require("invoke")
scenario { world = "default" }

local n = 0
-- a text message from zhangsan to lisi, archived now; its hit events (nil when none)
local function say(content)
  n = n + 1
  return archive({ msgid = "vx_" .. n, msgtype = 1, content = { content = content },
    sender = { type = 1, id = "zhangsan" }, receivers = { { type = 1, id = "lisi" } } }).hit_events
end

test("the page's create_rule example: its keyword and exclusion lists are accepted", function()
  assert_eq(app("set_receive_callback", { program_id = "zone-demo" }).errcode, 0)
  -- the page's request body, but for the ids of its range (department 1, 2, 4, "woaaaaaaaaa",
  -- "wrAAAAA" ...), which are no corp's here and would be refused 710606-710609:
  --   "exclude_mobile": { "mobile_list": ["+8612345679876"] },
  --   "exclude_email": { "email_list": ["zhangsan@qq.com"] },
  --   "exclude_bank_card": { "bank_card_list": ["6234567891222"] }
  local r = invoke("create_rule", {
    name = "已回复",
    keyword = { word_list = { "收到", "好的" }, is_case_sensitive = 1, match_rule = 1, is_trim_msg = 1 },
    semantics = { semantics_list = { 1, 2 } },
    applicable_range = {
      target_type = { type_list = { 1, 2 } }, chat_type = { type_list = { 1, 2 } }, msg_scope = 3,
      exclude_mobile = { mobile_list = { "+8612345679876" } },
      exclude_email = { email_list = { "zhangsan@qq.com" } },
      exclude_bank_card = { bank_card_list = { "6234567891222" } },
      exclude_keyword = { word_list = { "没收到", "不好的" } },
      session_type = { session_type_list = { 1, 2 } },
      voice_match_msgtype = { type_list = { 6, 21 } },
    },
  })
  assert_eq(r.errcode, 0, r.errmsg)
  local d = invoke("get_rule_detail", { rule_id = r.rule_id })
  assert_eq(d.applicable_range.exclude_mobile, { mobile_list = { "+8612345679876" } })
  invoke("delete_rule", { rule_id = r.rule_id })
end)

test("a +86 whitelist entry covers the number with and without +86", function()
  -- "会话消息中若命中白名单中手机号不产生回调" (doc 53346); "中国大陆手机号码可省略“+86”"
  -- (doc 10018)
  local id = invoke("create_rule", { name = "phones", semantics = { semantics_list = { 2 } },
    applicable_range = { exclude_mobile = { mobile_list = { "+8613900000000" } } } }).rule_id
  assert_eq(say("call 13900000000"), nil, "the whitelisted number")
  assert_eq(say("call +8613900000000"), nil, "the same number with +86")
  assert_eq(say("call 13900000001")[1].rule_ids, { id }, "another number")
  assert_eq(say("call +8613900000001")[1].rule_ids, { id }, "another number with +86")
  invoke("delete_rule", { rule_id = id })
end)

test("is_trim_msg without match_rule 1 is taken and does nothing", function()
  -- "是否将消息前后的空格、制表符和换行符去掉后进行匹配，0-否；1-是，默认为否
  -- `仅match_rule=1时生效`" (doc 53346)
  local r = invoke("create_rule", { name = "trim", keyword = { word_list = { " stop" },
    is_trim_msg = 1 } })
  assert_eq(r.errcode, 0, r.errmsg)
  local kw = invoke("get_rule_detail", { rule_id = r.rule_id }).keyword
  assert_eq({ kw.match_rule, kw.is_trim_msg }, { 0, 1 }, "kept as given")
  -- " stop" contains the word " stop"; trimmed it would be "stop", which does not
  assert_eq(say(" stop")[1].rule_ids, { r.rule_id }, "the message was not trimmed")
  assert_eq(say("please stop")[1].rule_ids, { r.rule_id })
  invoke("delete_rule", { rule_id = r.rule_id })
end)
