-- consent{}: a customer's decision through POST /_zonelab/consent. It is recorded (the
-- get_agree_status APIs see it at the virtual now) and an "Agree" fires
-- chat_archive_audit_approved_single / _room to the receiving program, which zone-demo
-- stores and notifies like any event.
scenario { world = "default" }

local function approved_event()
  local n = assert(wait_notification { timeout = 5 })
  local r = call("get_callback_data", {}, { notify_id = n.notify_id })
  assert_eq(r.errcode, 0)
  return r.data
end

test("a 1:1 Agree fires chat_archive_audit_approved_single and is recorded", function()
  assert_eq(app("set_receive_callback", { program_id = "zone-demo" }).errcode, 0)
  local now = clock.now()
  local r = consent { userid = "zhangsan", external_userid = "wm_cust_02", status = "Agree" }
  assert_eq(r.events, { { agentid = 1000002, program_id = "zone-demo",
    event_type = "chat_archive_audit_approved_single" } })
  local res = assert(wait_journal({ face = "program", kind = "event_result" }, { timeout = 5 }))
  assert_eq(res.status, 200)
  local ev = approved_event()
  assert_eq(ev.event_type, "chat_archive_audit_approved_single")
  assert_eq(ev.chat_archive_audit_approved, { userid = "zhangsan", external_userid = "wm_cust_02" })
  assert_true(ev.timestamp >= now, "timestamp is the virtual now")

  local d = call("invoke_get_agree_status_single",
    { item = { { userid = "zhangsan", external_userid = "wm_cust_02" } } }).data
  assert_eq(d.agreeinfo[1].agree_status, "Agree")
  assert_eq(d.agreeinfo[1].status_change_time, r.change_time)
end)

test("a group Agree fires chat_archive_audit_approved_room with the chatid", function()
  local r = consent { chatid = "wr_customer_01", external_userid = "wm_cust_02" }
  assert_eq(#r.events, 1)
  assert_eq(r.events[1].event_type, "chat_archive_audit_approved_room")
  local ev = approved_event()
  assert_eq(ev.event_type, "chat_archive_audit_approved_room")
  assert_eq(ev.chat_archive_audit_approved,
    { external_userid = "wm_cust_02", chatid = "wr_customer_01" })
  local d = call("invoke_get_agree_status_room", { chatid = "wr_customer_01" }).data
  assert_eq(#d.agreeinfo, 2, "both external members have decided now")
end)

test("a Disagree is recorded but fires nothing", function()
  assert(settle())
  local before = #journal { face = "program", kind = "event" }
  clock.advance(60)
  local r = consent { userid = "zhangsan", external_userid = "wm_cust_01", status = "Disagree" }
  assert_eq(#r.events, 0)
  local d = call("invoke_get_agree_status_single",
    { item = { { userid = "zhangsan", external_userid = "wm_cust_01" } } }).data
  assert_eq(d.agreeinfo[1].agree_status, "Disagree")
  assert_eq(d.agreeinfo[1].status_change_time, r.change_time)
  assert_true(r.change_time > 1793667600, "the world's older decision was replaced")
  assert(settle())
  assert_eq(#journal { face = "program", kind = "event" }, before, "no event")
end)

test("bad decisions are refused with the reason", function()
  local status, r = http("POST", "/_zonelab/consent",
    { userid = "zhangsan", external_userid = "wm_nobody", status = "Agree" })
  assert_eq(status, 400)
  assert_match(r.error, "external_userid \"wm_nobody\" is not an external_userid")
  status, r = http("POST", "/_zonelab/consent",
    { chatid = "wr_internal_01", external_userid = "wm_cust_01", status = "Agree" })
  assert_eq(status, 400)
  assert_match(r.error, "not an external member")
  status, r = http("POST", "/_zonelab/consent",
    { userid = "zhangsan", chatid = "wr_customer_01", external_userid = "wm_cust_01",
      status = "Agree" })
  assert_eq(status, 400)
  status, r = http("POST", "/_zonelab/consent",
    { userid = "zhangsan", external_userid = "wm_cust_01", status = "agree" })
  assert_eq(status, 400)
  assert_true(not pcall(consent, { userid = "nobody", external_userid = "wm_cust_01" }),
    "consent{} raises when refused")
end)
