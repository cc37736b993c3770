-- Two replicas, sticky routing: a call carrying a notify_id goes back to the replica that
-- issued it. zone-demo's replicas share one data folder, so any replica could answer; the
-- journal shows where each call went.
scenario { world = "default", replicas = 2, routing = "sticky" }

-- The instance that issued notify id nid (its spec_notify_app invoke).
local function issuer(nid)
  for _, c in ipairs(sdk.calls("spec_notify_app")) do
    if c.req and c.req.notify_id == nid and c.outcome == "answered" then
      return c.instance
    end
  end
end

-- The instance that served the sync_call_program carrying nid.
local function server(nid)
  local a = journal({ face = "app", kind = "call", endpoint = "sync_call_program",
    request = { notify_id = nid } })
  assert_eq(#a, 1, "one app call with notify_id " .. nid)
  local p = journal({ face = "program", kind = "call", req_id = a[1].req_id })
  assert_eq(#p, 1, "one program call for req_id " .. a[1].req_id)
  return p[1].instance
end

test("each notify_id's get_callback_data returns its event from the issuing replica", function()
  assert_eq(app("set_receive_callback", { program_id = "zone-demo" }).errcode, 0)
  local issuers = {}
  for i = 1, 8 do
    local r = archive { msgid = "st_" .. i, sender = { type = 1, id = "zhangsan" },
      receivers = { { type = 1, id = "lisi" } }, msgtype = 1, content = { content = "m" .. i } }
    local n = assert(wait_notification { timeout = 5 })
    local reply = call("get_callback_data", {}, { notify_id = n.notify_id })
    assert_eq(reply.errcode, 0)
    local ev = journal({ face = "program", kind = "event",
      event = { conversation_new_message = { token = r.events[1].token } } })
    assert_eq(#ev, 1, "one event for st_" .. i)
    assert_eq(reply.data, ev[1].event, "event of st_" .. i)
    local who = assert(issuer(n.notify_id), "no spec_notify_app for " .. n.notify_id)
    assert_eq(server(n.notify_id), who, "call with notify_id " .. n.notify_id)
    issuers[who] = true
  end
  -- events go round robin, so both replicas issued notify ids
  assert_true(issuers["zone-demo/0"] and issuers["zone-demo/1"], "both replicas issued ids")
end)
