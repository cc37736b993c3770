-- new_messages_digest counts the messages after zone-demo's saved cursor: all 22 world
-- messages the first time, none the second, then exactly the ones archived since.
scenario { world = "default" }

-- by_msgtype / by_sender lists as maps, so their order does not matter
local function by_type(list)
  local out = {}
  for _, e in ipairs(list) do
    assert_true(out[e.msgtype] == nil, "msgtype " .. e.msgtype .. " listed twice")
    out[e.msgtype] = e.count
  end
  return out
end

local function by_sender(list)
  local out = {}
  for _, e in ipairs(list) do
    local k = e.type .. ":" .. e.id
    assert_true(out[k] == nil, "sender " .. k .. " listed twice")
    out[k] = e.count
  end
  return out
end

-- the digest's answer, and the sync_msg invokes it made (sdk.calls lists the whole run's)
local function digest()
  local before = #sdk.calls("sync_msg")
  local r = call("new_messages_digest", {})
  assert_eq(r.errcode, 0, "sync_call_program")
  assert_eq(r.data.errcode, 0, "digest: " .. tostring(r.data.errmsg))
  local all, made = sdk.calls("sync_msg"), {}
  for i = before + 1, #all do
    made[#made + 1] = all[i]
  end
  return r.data, made
end

test("the first digest counts every world message by msgtype and by sender", function()
  local d, c = digest()
  assert_eq(d.total, 22)
  assert_eq(by_type(d.by_msgtype), {
    [0] = 1, [1] = 9, [2] = 1, [3] = 1, [4] = 1, [5] = 1, [6] = 1, [8] = 1, [14] = 1,
    [20] = 1, [21] = 1, [22] = 1, [24] = 1, [27] = 1,
  })
  assert_eq(by_sender(d.by_sender), {
    ["1:zhangsan"] = 7, ["1:lisi"] = 4, ["1:wangwu"] = 3, ["3:wb_robot_01"] = 1,
    ["2:wm_cust_01"] = 4, ["2:wm_cust_02"] = 3,
  })
  assert_eq(#c, 1, "22 messages fit one limit-1000 page")
  assert_eq(c[1].req.limit, 1000)
  assert_true(c[1].req.cursor == nil, "no saved cursor yet")
  assert_eq(c[1].ability_id, "new_messages_digest", "the journal names the call it was made for")
end)

test("a sync_msg the app asks for through invoke_sync_msg is journaled as made for it", function()
  local before = #sdk.calls("sync_msg")
  assert_eq(call("invoke_sync_msg", { limit = 1 }).errcode, 0)
  local all = sdk.calls("sync_msg")
  assert_eq(#all, before + 1)
  assert_eq(all[#all].ability_id, "invoke_sync_msg")
  assert_eq(all[#all].req.limit, 1)
end)

test("the second digest counts nothing", function()
  local d, c = digest()
  assert_eq(d.total, 0)
  assert_eq(#d.by_msgtype, 0)
  assert_eq(#d.by_sender, 0)
  assert_eq(#c, 1)
  assert_true(type(c[1].req.cursor) == "string", "it resumed from the saved cursor")
end)

test("then exactly the newly archived messages, with the event token", function()
  assert_eq(app("set_receive_callback", { program_id = "zone-demo" }).errcode, 0)
  local r = archive {
    { msgid = "dg_1", sender = { type = 1, id = "lisi" },
      receivers = { { type = 1, id = "zhangsan" } }, msgtype = 1, content = { content = "a" } },
    { msgid = "dg_2", sender = { type = 2, id = "wm_cust_01" },
      receivers = { { type = 1, id = "zhangsan" } }, msgtype = 2,
      content = { md5sum = "00112233445566778899aabbccddeeff", filesize = 10, sdkfileid = "f" } },
    { msgid = "dg_3", sender = { type = 1, id = "lisi" }, chatid = "wr_internal_01",
      receivers = { { type = 1, id = "zhangsan" }, { type = 1, id = "wangwu" } }, msgtype = 1,
      content = { content = "b" } },
  }
  assert_eq(#r.events, 3)
  for i = 1, 3 do -- the program has seen every event (and so holds the newest token)
    assert(wait_notification { timeout = 5 }, "notification " .. i)
  end
  local d, c = digest()
  assert_eq(d.total, 3)
  assert_eq(by_type(d.by_msgtype), { [1] = 2, [2] = 1 })
  assert_eq(by_sender(d.by_sender), { ["1:lisi"] = 2, ["2:wm_cust_01"] = 1 })
  assert_eq(#c, 1)
  -- zone-demo keeps the token of the event it handled last; the three are in flight together
  -- (option delivery_window), so which one that is is not fixed, and any of them lifts the limit
  local tokens = { [r.events[1].token] = true, [r.events[2].token] = true,
    [r.events[3].token] = true }
  assert_true(tokens[c[1].req.token], "an event token lifts the rate limit")
  assert_eq(digest().total, 0, "and nothing after that")
end)
