-- suite_ticket on the virtual clock: "企业微信服务器会定时（每十分钟）向指令回调url推送ticket，
-- suite_ticket实际有效期为30分钟" (doc 14947), the XML of its example, encrypted for the suite
-- (receiveid the suite_id, doc 14946) and kept by the built-in fake provider.
scenario { world = "default" }

local SUITE, SECRET = "wwzonelabsuite0001", "zonelab-suite-secret-0001"

local function get_suite_token(ticket)
  local _, r = http("POST", "/cgi-bin/service/get_suite_token", { suite_id = SUITE,
    suite_secret = SECRET, suite_ticket = ticket })
  return r.errcode
end

local first

test("the first push comes at start, in the vendor's XML", function()
  first = assert(suite.wait_callback { info_type = "suite_ticket", timeout = 5 })
  assert_eq(first.suite_id, SUITE)
  local f = first.fields
  assert_match(f.SuiteTicket, "^stk_%x+$")
  assert_match(f.TimeStamp, "^%d+$")
  assert_eq(first.xml, "<xml><SuiteId><![CDATA[" .. SUITE .. "]]></SuiteId><InfoType><![CDATA["
    .. "suite_ticket]]></InfoType><TimeStamp>" .. f.TimeStamp .. "</TimeStamp><SuiteTicket><![CDATA["
    .. f.SuiteTicket .. "]]></SuiteTicket></xml>")
  assert_eq(suite.ticket(), f.SuiteTicket)
  local j = journal({ face = "callback", kind = "suite", info_type = "suite_ticket" })
  assert_sub(j[#j], { suite_id = SUITE, target = "fake_provider", outcome = "received" })
  -- nothing more within the first 10 minutes
  assert(settle())
  assert_eq(#suite.callbacks(), 1)
end)

test("one push every 10 minutes, each TimeStamp 600 s after the last", function()
  local t0 = tonumber(first.fields.TimeStamp)
  local before = #suite.callbacks()
  clock.advance(590)
  assert(settle())
  assert_eq(#suite.callbacks(), before, "not before 10 minutes")
  clock.advance(20)
  local second = assert(suite.wait_callback { info_type = "suite_ticket", timeout = 5 })
  assert_eq(tonumber(second.fields.TimeStamp), t0 + 600)
  assert_true(second.fields.SuiteTicket ~= first.fields.SuiteTicket, "a new ticket")
  assert_eq(suite.ticket(), second.fields.SuiteTicket, "the newest is the one to use")
  clock.advance(600)
  local third = assert(suite.wait_callback { info_type = "suite_ticket", timeout = 5 })
  assert_eq(tonumber(third.fields.TimeStamp), t0 + 1200)
end)

test("an older ticket works until 30 minutes after its own push", function()
  -- now: a little after t0 + 1210 s; the first ticket was pushed at t0
  assert_eq(get_suite_token(first.fields.SuiteTicket), 0)
  clock.advance(580) -- t0 + 1790 and a little
  assert_eq(get_suite_token(first.fields.SuiteTicket), 0)
  clock.advance(20)
  assert(suite.wait_callback { info_type = "suite_ticket", timeout = 5 }) -- t0 + 1800's push
  assert_eq(get_suite_token(first.fields.SuiteTicket), 40085)
  assert_eq(get_suite_token(suite.ticket()), 0)
end)

test("a clock jump sends only the pushes whose ticket is still alive", function()
  local before = #suite.callbacks()
  clock.advance(3600)
  local got = {}
  for i = 1, 3 do
    got[i] = assert(suite.wait_callback { info_type = "suite_ticket", timeout = 5 })
  end
  assert(settle())
  assert_eq(suite.wait_callback { timeout = 0 }, nil, "three, not six")
  assert_eq(#suite.callbacks(), before + 3)
  assert_eq(tonumber(got[2].fields.TimeStamp), tonumber(got[1].fields.TimeStamp) + 600)
  assert_eq(tonumber(got[3].fields.TimeStamp), tonumber(got[2].fields.TimeStamp) + 600)
  local skipped = journal({ face = "callback", kind = "suite", outcome = "skipped" })
  assert_eq(#skipped, 1)
  assert_eq(skipped[1].skipped, 3)
end)
