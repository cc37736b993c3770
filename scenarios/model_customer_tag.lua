-- Customer tags (create_customer_tag_task / get_customer_tag_result) through zone-demo: the
-- corp's tag library comes from the scenario (models.tags); a tag matches when its name occurs
-- in the conversation; unknown group ids are listed in fail_tag_group_id_list.
local invoke = require("invoke")
scenario { world = "default" }

local function say(msgid, text)
  archive { msgid = msgid, msgtype = 1, content = { content = text }, secret_key = "key_" .. msgid,
    sender = { type = 2, id = "wm_cust_01" }, receivers = { { type = 1, id = "zhangsan" } } }
  return { msgid = msgid, encrypt_info = { secret_key = "key_" .. msgid } }
end

local chat

test("tags whose names occur in the conversation, for the groups asked", function()
  models.tags {
    { group_id = "grp_intent", group_name = "Intent", tag_list = {
      { tag_id = "tag_catalogue", tag_name = "Catalogue" },
      { tag_id = "tag_refund", tag_name = "退款" },
      { tag_id = "tag_sale", tag_name = "sale" } } },
    { group_id = "grp_region", group_name = "Region", tag_list = {
      { tag_id = "tag_sz", tag_name = "Shenzhen" } } },
  }
  chat = { say("tag_1", "Is the spring catalogue ready?"), say("tag_2", "我想退款") }
  local c = invoke("create_customer_tag_task", { msg_list = chat,
    tag_group_list = { { group_id = "grp_intent" }, { group_id = "grp_region" } } })
  assert_eq(c.errcode, 0)
  assert_eq(c.fail_tag_group_id_list, nil, "every group is known")
  assert_eq(invoke("get_customer_tag_result", { jobid = c.jobid }).status, 0)
  clock.advance(2)
  local r = invoke("get_customer_tag_result", { jobid = c.jobid })
  assert_eq(r, { errcode = 0, errmsg = "ok", status = 1, fail_list = array(), tag_result_list = {
    { group_id = "grp_intent", tag_id = "tag_catalogue" },
    { group_id = "grp_intent", tag_id = "tag_refund" } } }, "grp_region matched nothing")
end)

test("unknown group ids, a missing tag_group_list", function()
  local c = invoke("create_customer_tag_task", { msg_list = chat,
    tag_group_list = { { group_id = "grp_nope" }, { group_id = "grp_region" } } })
  assert_eq(c.errcode, 0)
  assert_eq(c.fail_tag_group_id_list, { "grp_nope" })
  clock.advance(2)
  assert_eq(#invoke("get_customer_tag_result", { jobid = c.jobid }).tag_result_list, 0)
  assert_eq(invoke("create_customer_tag_task", { msg_list = chat }).errcode, 40058)
end)

test("a scripted tag_result_list", function()
  models.reply { model = "customer_tag", result = { { group_id = "grp_region", tag_id = "tag_sz" } } }
  local c = invoke("create_customer_tag_task", { msg_list = chat,
    tag_group_list = { { group_id = "grp_region" } }, model_id = "llm" })
  clock.advance(2)
  assert_eq(invoke("get_customer_tag_result", { jobid = c.jobid }).tag_result_list,
    { { group_id = "grp_region", tag_id = "tag_sz" } })
  models.clear()
end)
