-- sync_msg without a cursor starts at the earliest message inside the last 5 days. The
-- default world's messages run from 2026-11-02 09:00 (msg_0001..0007 on 11-02, the last at
-- 1793588460) to 11-04 18:00 (msg_0022, 1793786400); the clock starts at 11-05 00:00
-- (1793808000).
scenario { world = "default" }

local WINDOW = 5 * 86400

local function ids_of(r)
  local out = {}
  for _, m in ipairs(r.data.msg_list) do
    out[#out + 1] = m.msgid
  end
  return out
end

-- The prelude keeps its first access token (7200 s); after a jump of days it is gone (40014),
-- so each call after clock.advance uses a fresh gettoken.
local function sync(req)
  local t = gettoken()
  assert_eq(t.errcode, 0, "gettoken")
  local r = call("invoke_sync_msg", req, { token = t.access_token })
  assert_eq(r.errcode, 0, "sync_call_program")
  assert_eq(r.data.errcode, 0, "sync_msg: " .. tostring(r.data.errmsg))
  return r
end

local old_cursor -- taken while msg_0001.. were inside the window

test("at the start every world message is inside the window", function()
  local r = sync { limit = 3 }
  assert_eq(ids_of(r), { "msg_0001", "msg_0002", "msg_0003" })
  old_cursor = r.data.next_cursor
end)

test("once 11-02 falls out of the window a fresh sync starts at msg_0008", function()
  -- window start 1793600000: after msg_0007 (1793588460), before msg_0008 (1793667600)
  local now = clock.advance(1793600000 + WINDOW - clock.now())
  assert_true(now - WINDOW > 1793588460 and now - WINDOW < 1793667600, "window start " .. (now - WINDOW))
  local r = sync { limit = 1000 }
  local ids = ids_of(r)
  assert_eq(ids[1], "msg_0008", "the earliest message inside the window")
  assert_eq(#ids, 15, "msg_0008..msg_0022")
  assert_eq(r.data.has_more, 0)
  for _, m in ipairs(r.data.msg_list) do
    assert_true(m.send_time >= now - WINDOW, m.msgid .. " is older than 5 days")
  end
  -- a cursor from before the window continues at the window start, not at msg_0004
  assert_eq(ids_of(sync { limit = 2, cursor = old_cursor }), { "msg_0008", "msg_0009" },
    "an old cursor skips ahead to the window")
  -- a begin_time before the window starts at the window too
  assert_eq(ids_of(sync { limit = 1, begin_time = 1793581200 }), { "msg_0008" },
    "begin_time before the window")
end)

test("once every world message is older than 5 days a fresh sync returns none", function()
  clock.advance(1793786400 + WINDOW + 60 - clock.now()) -- msg_0022 a minute outside
  local r = sync { limit = 1000 }
  assert_eq(#r.data.msg_list, 0)
  assert_eq(r.data.has_more, 0)
end)
