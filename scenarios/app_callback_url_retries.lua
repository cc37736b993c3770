-- App callback URLs and WeCom's 3 tries. A URL that refuses connections: the emulator
-- verifies it (echostr) 3 times, then gives up and sends nothing. A URL whose app times out
-- twice (the scenario's test app): the third try delivers program_notify.
scenario { world = "worlds/app_unreachable.json", app_callback_timeout_ms = 500 }

test("a refusing callback URL is verified 3 times and nothing is delivered", function()
  assert_eq(app("set_receive_callback", { program_id = "zone-demo" }).errcode, 0)
  archive { msgid = "cb_1", sender = { type = 1, id = "zhangsan" },
    receivers = { { type = 1, id = "lisi" } }, msgtype = 1 }
  -- WeCom accepted the program's spec_notify_app; delivering it to the app is its own business
  local c = assert(sdk.wait_call("spec_notify_app", { timeout = 5 }))
  assert_eq(c.response.errcode, 0)
  local nid = c.response.notify_id
  local verdict = assert(wait_journal({ face = "callback", kind = "program_notify",
    notify_id = nid }, { timeout = 5 }))
  assert_eq(verdict.outcome, "not_sent")
  assert_eq(verdict.target, "http://127.0.0.1:9/cb")
  assert_match(verdict.error, "URL verification failed")
  local tries = journal({ face = "callback", kind = "url_verify" })
  assert_eq(#tries, 3, "url_verify tries")
  for i, t in ipairs(tries) do
    assert_eq(t.try, i)
    assert_eq(t.target, "http://127.0.0.1:9/cb")
    assert_eq(t.curl_code, 7, "try " .. i .. " is a connect failure")
    assert_eq(t.outcome, i < 3 and "retry" or "failed")
  end
  assert_order({ kind = "url_verify", try = 3 }, { kind = "program_notify", notify_id = nid })
  -- no POST of the notification was made, and the built-in inbox has nothing
  assert_eq(#journal({ face = "callback", kind = "program_notify" }), 1, "only the not_sent verdict")
  assert_eq(#notifications(), 0)
end)

test("a callback URL that times out twice gets the notification on the third try", function()
  local url = test_app { fail = 2 }
  assert_eq(app("set_receive_callback", { program_id = "zone-demo" }).errcode, 0)
  archive { msgid = "cb_2", sender = { type = 1, id = "zhangsan" },
    receivers = { { type = 1, id = "lisi" } }, msgtype = 1 }
  local c = assert(sdk.wait_call("spec_notify_app", { timeout = 5 }))
  local nid = c.response.notify_id
  local done = assert(wait_journal({ face = "callback", kind = "program_notify",
    notify_id = nid, outcome = "delivered" }, { timeout = 10 }))
  assert_eq(done.try, 3)
  assert_eq(done.target, url)
  local retries = journal({ face = "callback", kind = "program_notify", notify_id = nid,
    outcome = "retry" })
  assert_eq(#retries, 2, "two tries timed out")
  local got = test_app_received()
  assert_eq(#got, 1)
  assert_eq(got[1].notify_id, nid)
  assert_match(got[1].xml, "<Event><!%[CDATA%[program_notify%]%]></Event>")
end)
