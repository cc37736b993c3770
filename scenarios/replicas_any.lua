-- Two replicas, routing "any": a call carrying a notify_id goes to a replica drawn from the
-- seeded source, as a load balancer that knows nothing of notify ids would. zone-demo's
-- replicas share their data folder, so the event is served wherever the call lands.
-- seed fixed: the draw is deterministic (1 in 256 that 8 draws all match by chance).
scenario { world = "default", replicas = 2, routing = "any", seed = 1 }

local function issuer(nid)
  for _, c in ipairs(sdk.calls("spec_notify_app")) do
    if c.req and c.req.notify_id == nid and c.outcome == "answered" then
      return c.instance
    end
  end
end

local function server(nid)
  local a = journal({ face = "app", kind = "call", endpoint = "sync_call_program",
    request = { notify_id = nid } })
  assert_eq(#a, 1, "one app call with notify_id " .. nid)
  local p = journal({ face = "program", kind = "call", req_id = a[1].req_id })
  assert_eq(#p, 1, "one program call for req_id " .. a[1].req_id)
  return p[1].instance
end

test("over 8 notify ids some call lands on another replica than the issuer", function()
  assert_eq(app("set_receive_callback", { program_id = "zone-demo" }).errcode, 0)
  local moved = 0
  for i = 1, 8 do
    local r = archive { msgid = "any_" .. i, sender = { type = 1, id = "lisi" },
      receivers = { { type = 1, id = "zhangsan" } }, msgtype = 1 }
    local n = assert(wait_notification { timeout = 5 })
    local reply = call("get_callback_data", {}, { notify_id = n.notify_id })
    assert_eq(reply.errcode, 0)
    assert_sub(reply.data, { conversation_new_message = { token = r.events[1].token } })
    local who = assert(issuer(n.notify_id), "no spec_notify_app for " .. n.notify_id)
    if server(n.notify_id) ~= who then
      moved = moved + 1
    end
  end
  assert_true(moved >= 1, "no call left its issuing replica in 8 tries")
end)
