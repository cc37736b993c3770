-- spec_notify_app's notify_id as the vendor's page has it (doc 53408, 专区通知应用): a
-- caller's id of at most 64 bytes is taken as given and pushed to the app; a longer one, or one
-- the app's XML callback cannot carry, is refused 40058 and nothing is sent. zone-demo calls
-- the SDK API through invoke_spec_notify_app, an ability added to the default world here.
local world = json.decode(file_text("../fixtures/worlds/default.json"))
table.insert(world.corps[1].programs[1].abilities, {
  ability_id = "invoke_spec_notify_app",
  input_protocol = { notify_id = "", notify_scene = 0 },
  output_protocol = { errcode = 0, errmsg = "", notify_id = "" },
})
scenario { world = world }

local function notify(req)
  local r = call("invoke_spec_notify_app", req)
  assert_eq(r.errcode, 0, "sync_call_program: " .. tostring(r.errmsg))
  return r.data
end

-- Notifications reach the fake app in order: the next one is a good id sent after the refusal.
local function nothing_sent_before(good)
  assert_eq(notify { notify_id = good }.errcode, 0)
  assert_eq(assert(wait_notification { timeout = 5 }).notify_id, good, "nothing sent before")
end

test("a caller's notify_id of 64 bytes is taken and reaches the app", function()
  -- "可指定notify_id ... 如果不指定，则由接口自动生成。不超过64字节。" (doc 53408)
  local id = string.rep("n", 64)
  local r = notify { notify_id = id, notify_scene = 3 }
  assert_eq(r, { errcode = 0, errmsg = "ok", notify_id = id })
  local n = assert(wait_notification { timeout = 5 }, "program_notify for the 64-byte id")
  assert_eq({ n.notify_id, n.notify_scene }, { id, 3 })
  assert_eq(call("get_callback_data", {}, { notify_id = id }).errcode, 0, "the id is live")
end)

test("65 bytes is over the page's 64: 40058, nothing sent, no id", function()
  -- "不超过64字节" (doc 53408); the global errcode page: "参数值的长度超出了限制 ...
  -- 报错40058" (doc 10649). The app side's NotifyId is "不超过128字节" (doc 53360): the
  -- switch notify_strict_64 (docs/emulator.md) set to false takes up to 128.
  local id = string.rep("n", 65)
  local r = notify { notify_id = id }
  assert_eq(r.errcode, 40058)
  assert_match(r.errmsg, "65 bytes, longer than 64")
  assert_eq(call("get_callback_data", {}, { notify_id = id }).errcode, 710646, "no live id")
  nothing_sent_before("after_65")
end)

test("a control byte in the id is refused, not answered ok and dropped", function()
  -- program_notify carries the id in the app's XML (<NotifyId>, doc 53360), which cannot hold
  -- control bytes: WeCom could not deliver it, so zonelab does not claim it did.
  local id = "abc\1def"
  local r = notify { notify_id = id }
  assert_eq(r.errcode, 40058)
  assert_match(r.errmsg, "control byte 0x01 at byte 3")
  assert_eq(#journal { face = "callback", kind = "program_notify", notify_id = id }, 0)
  nothing_sent_before("after_control")
end)

test("without notify_id the API makes one", function()
  -- "如果不指定，则由接口自动生成" (doc 53408)
  local r = notify { notify_scene = 1 }
  assert_eq(r.errcode, 0)
  assert_match(r.notify_id, "^%x+$")
  assert_eq(assert(wait_notification { timeout = 5 }).notify_id, r.notify_id)
end)
