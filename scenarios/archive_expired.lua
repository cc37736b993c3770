-- Expired authorisations. "服务商应用获得企业授权数据与智能专区权限后，自授权日起，服务商应用可在该
-- 企业下免费使用接口 30 天，免费到期后需购买接口使用" (doc 53518); "试用到期后，超过 30 天未付费，则
-- 之前试用期间存储的会话内容将不再存储" and "接口付费到期后，超过 30 天未续期，则之前付费期间存储的
-- 会话内容将不再存储" (doc 54895). get_group_chat's page lists "301052 | 会话存档已过期" (doc
-- 53342); 710653 "试用到期超过30天…" and 710654 "付费到期超过30天…" are on the global errcode page
-- only, so which APIs answer them is zonelab's choice (docs/emulator.md). App 1000007's trial
-- ended 10 days before the clock starts, app 1000008's paid period 40 days, app 1000009's trial
-- 31 days; an app whose archive is not in effect gets no conversation_new_message and no
-- hit_keyword ("为什么收不到“产生会话回调通知”…试用期过期或者购买已过期", FAQ doc 55301).
scenario { world = "worlds/auth.json", sync_budget = 1000 }

local invoke = require("invoke")
local CORPID = "wwauthcorp000001"
local TRIAL_ENDED, PAID_ENDED_40, TRIAL_ENDED_31, LIVE = 1000007, 1000008, 1000009, 1000004

local function token(agentid)
  local r = gettoken(CORPID, "auth-world-secret-" .. agentid)
  assert_eq(r.errcode, 0, r.errmsg)
  return r.access_token
end

local function sync_code(agentid)
  return invoke("sync_msg", { limit = 10 }, { token = token(agentid) }).errcode
end

test("a trial that ended: 301052 from sync_msg, get_group_chat, the searches and models", function()
  local t = { token = token(TRIAL_ENDED) }
  assert_eq(sync_code(TRIAL_ENDED), 301052)
  assert_eq(invoke("get_group_chat", { chatid = "wr_team" }, t).errcode, 301052, "会话存档已过期")
  assert_eq(invoke("search_msg", { query_word = "order" }, t).errcode, 301052)
  assert_eq(invoke("create_summary_task", { msg_list = { { msgid = "new_0001",
    encrypt_info = { secret_key = "authWorldSecretKey00000000000002" } } } }, t).errcode, 301052)
  assert_eq(invoke("get_hit_msg_list", {}, t).errcode, 301052)
  local info = app("get_corp_auth_info", {}, t)
  assert_eq(info.errcode, 0, "the authorisation itself can still be read")
  assert_sub(info.auth_edition_list[1], { edition = 3, status = 2 }, "2: 试用已到期")
end)

test("more than 30 days after the end: 710654 (paid), 710653 (trial)", function()
  assert_eq(sync_code(PAID_ENDED_40), 710654)
  assert_eq(sync_code(TRIAL_ENDED_31), 710653)
  assert_eq(app("get_corp_auth_info", {}, { token = token(PAID_ENDED_40) })
    .auth_edition_list[1].status, 4, "4: 付费使用已到期")
end)

test("no conversation_new_message and no hit_keyword while the archive is not in effect", function()
  for _, agentid in ipairs({ TRIAL_ENDED, LIVE }) do
    local t = { token = token(agentid) }
    assert_eq(app("set_receive_callback", { program_id = "zone-demo" }, t).errcode, 0)
    assert_eq(invoke("create_rule", { name = "orders", keyword = { word_list = { "order" } } }, t)
      .errcode, 0, "rules are not the archive: they can be kept")
  end
  local r = archive({ msgid = "exp_1", sender = { type = 1, id = "amy" },
    receivers = { { type = 1, id = "bob" } }, msgtype = 1, content = { content = "one order" } })
  assert_eq(#r.events, 1)
  assert_eq(r.events[1].agentid, LIVE, "app 1000007 hears nothing")
  assert_eq(#r.hit_events, 1)
  assert_eq(r.hit_events[1].agentid, LIVE)
end)

test("an edition authorised after the trial and never bought: 710651", function()
  -- "如果是试用期已到期后授权且未购买的版本，则此字段不返回" (doc 55567): no period at all;
  -- 710651 "没有付费版本" (global errcode page, doc 10649)
  assert_eq(sync_code(1000010), 710651)
  local info = app("get_corp_auth_info", {}, { token = token(1000010) })
  assert_sub(info.auth_edition_list[1], { edition = 2, status = 2 })
  assert_true(info.auth_edition_list[1].begin_time == nil, "no begin_time")
end)

test("on the virtual clock the trial passes its 30 days: 710653", function()
  clock.advance(21 * 86400)
  assert_eq(sync_code(TRIAL_ENDED), 710653)
end)
