-- zone-demo's new_messages_digest with {"sentiment":true}: it decrypts each new message's key
-- with the app's private key, asks WeCom's sentiment model (create_sentiment_task /
-- get_sentiment_result) and reports the counts. The emulator's lexicon decides the answers;
-- models.reply scripts a failure; a task slower than zone-demo's wait counts as unfinished.
-- That wait is zone-demo's own real time (a program has no other clock): 200 ms, two polls, so
-- the file does not spend seconds on it. A task the model answers at once is read by the
-- first poll, which the wait never cuts short.
scenario {
  world = "default",
  env = { ZONE_DEMO_PRIVATE_KEY = "{dir}/../fixtures/keys/test_v1_private.pem",
    ZONE_DEMO_MODEL_WAIT_MS = 200 },
}

local n = 0
local function say(text, msgtype)
  n = n + 1
  archive { msgid = "ds_" .. n, msgtype = msgtype or 1, content = { content = text },
    sender = { type = 1, id = "zhangsan" }, receivers = { { type = 1, id = "lisi" } } }
  return "ds_" .. n
end

local function digest(req)
  local r = call("new_messages_digest", req)
  assert_eq(r.errcode, 0, r.errmsg)
  return r.data
end

test("without the option the digest has no sentiment counts", function()
  local d = digest({})
  assert_eq(d.errcode, 0)
  assert_true(d.total > 0, "the world's messages")
  assert_eq(d.sentiment, nil)
end)

test("the new messages' sentiment, as WeCom's model answers it", function()
  models.config { latency_ms = 0 }
  say("great work, thanks")
  say("this is terrible")
  say("see you at noon")
  say("", 2) -- an image: not a kind the model takes
  local d = digest({ sentiment = true })
  assert_eq(d.errcode, 0, d.errmsg)
  assert_eq(d.total, 4)
  assert_eq(d.sentiment, { analysed = 3, positive = 1, negative = 1, none = 1, failed = 0,
    unfinished = 0 })
  local c = assert(sdk.wait_call("create_sentiment_task"))
  assert_eq(#json.decode(c.request).msg_list, 3, "the image was not sent")
end)

test("a message the model fails on counts as failed", function()
  local bad = say("good morning")
  say("nice")
  models.reply { model = "sentiment", msgid = bad, errcode = 710605 }
  local d = digest({ sentiment = true })
  assert_eq(d.sentiment, { analysed = 1, positive = 1, negative = 0, none = 0, failed = 1,
    unfinished = 0 })
end)

test("a task slower than zone-demo's wait counts as unfinished", function()
  models.config { latency_ms = 60000 }
  say("happy")
  local d = digest({ sentiment = true })
  assert_eq(d.sentiment, { analysed = 0, positive = 0, negative = 0, none = 0, failed = 0,
    unfinished = 1 })
  models.config { defaults = true }
end)
