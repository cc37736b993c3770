-- Sentiment analysis (create_sentiment_task / get_sentiment_result) through zone-demo: the
-- task on the virtual clock (status 0, then 1 two seconds later), the lexicon, the msg_list
-- checks (fail_list codes 710613, 710601, 710602, 710603; 710623, 40058), jobids of another
-- type (710616), the per-message daily budget (45009) and per-message scripted answers.
local invoke = require("invoke")
scenario { world = "default" }

-- SHA-256 (Lua 5.4 integers): a world message without secret_key has the first 32 hex
-- characters of SHA-256(corpid || msgid) as its key (docs/world.md).
local K = {
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
}
local M = 0xffffffff
local function ror(x, n) return ((x >> n) | (x << (32 - n))) & M end
local function sha256_hex(s)
  local h = { 0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab,
    0x5be0cd19 }
  s = s .. "\128" .. string.rep("\0", (55 - #s) % 64) .. string.pack(">I8", #s * 8)
  for at = 1, #s, 64 do
    local w = {}
    for j = 0, 15 do w[j] = string.unpack(">I4", s, at + 4 * j) end
    for j = 16, 63 do
      local s0 = ror(w[j - 15], 7) ~ ror(w[j - 15], 18) ~ (w[j - 15] >> 3)
      local s1 = ror(w[j - 2], 17) ~ ror(w[j - 2], 19) ~ (w[j - 2] >> 10)
      w[j] = (w[j - 16] + s0 + w[j - 7] + s1) & M
    end
    local a, b, c, d, e, f, g, hh = table.unpack(h)
    for j = 0, 63 do
      local t1 = (hh + (ror(e, 6) ~ ror(e, 11) ~ ror(e, 25)) + ((e & f) ~ (~e & g)) + K[j + 1] + w[j]) & M
      local t2 = ((ror(a, 2) ~ ror(a, 13) ~ ror(a, 22)) + ((a & b) ~ (a & c) ~ (b & c))) & M
      hh, g, f, e, d, c, b, a = g, f, e, (d + t1) & M, c, b, a, (t1 + t2) & M
    end
    local v = { a, b, c, d, e, f, g, hh }
    for j = 1, 8 do h[j] = (h[j] + v[j]) & M end
  end
  return string.format(string.rep("%08x", 8), table.unpack(h))
end

local function key(msgid)
  if msgid == "msg_0010" then
    return "zonelabFixedSecretKey00000000010"
  end
  return sha256_hex("wwzonelab0000001" .. msgid):sub(1, 32)
end

local function item(msgid, secret)
  return { msgid = msgid, encrypt_info = { secret_key = secret or key(msgid) } }
end

test("the derived key of a world message is SHA-256(corpid || msgid)", function()
  assert_eq(key("msg_0002"), "f35c104d93d3634f7403c92017ee7fda")
end)

test("a task is not finished at first, then analysed two virtual seconds later", function()
  local c = invoke("create_sentiment_task", { msg_list = {
    item("msg_0002"), item("msg_0003"), item("msg_0001"), item("msg_0017") } })
  assert_eq(c.errcode, 0)
  assert_match(c.jobid, "^mt_%x+$")
  assert_eq(#c.fail_list, 0)

  local r = invoke("get_sentiment_result", { jobid = c.jobid })
  assert_eq(r.status, 0, "not finished")
  assert_eq(#r.analyze_result_list, 4, "every submitted message is listed")
  assert_eq(r.analyze_result_list[1], { errcode = 0, errmsg = "ok", msgid = "msg_0002" },
    "no result before the analysis")

  clock.advance(2)
  r = invoke("get_sentiment_result", { jobid = c.jobid })
  assert_eq(r.errcode, 0)
  assert_eq(r.status, 1)
  assert_eq(#r.fail_list, 0)
  local got = {}
  for _, a in ipairs(r.analyze_result_list) do got[a.msgid] = a.sentiment_result end
  -- "thanks, reading it now" / "standup in 5 minutes" / "早上好, ..." / "Thanks! When is ..."
  assert_eq(got, { msg_0002 = 1, msg_0003 = 0, msg_0001 = 1, msg_0017 = 1 })
  assert_true(wait_journal({ face = "sdk", kind = "model_task", jobid = c.jobid, phase = "done" },
    { timeout = 5 }), "the journal shows the task finishing")
end)

test("the lexicon: negative words, negation and Chinese", function()
  archive {
    { msgid = "sent_1", msgtype = 1, content = { content = "The parcel arrived broken, I want a refund" },
      sender = { type = 2, id = "wm_cust_01" }, receivers = { { type = 1, id = "zhangsan" } },
      secret_key = "k_sent_1" },
    { msgid = "sent_2", msgtype = 1, content = { content = "this is not good" },
      sender = { type = 2, id = "wm_cust_01" }, receivers = { { type = 1, id = "zhangsan" } },
      secret_key = "k_sent_2" },
    { msgid = "sent_3", msgtype = 1, content = { content = "服务很不满意，我要投诉" },
      sender = { type = 2, id = "wm_cust_01" }, receivers = { { type = 1, id = "zhangsan" } },
      secret_key = "k_sent_3" },
    { msgid = "sent_4", msgtype = 1, content = { content = "非常感谢，很满意" },
      sender = { type = 2, id = "wm_cust_01" }, receivers = { { type = 1, id = "zhangsan" } },
      secret_key = "k_sent_4" },
  }
  local c = invoke("create_sentiment_task", { msg_list = {
    item("sent_1", "k_sent_1"), item("sent_2", "k_sent_2"), item("sent_3", "k_sent_3"),
    item("sent_4", "k_sent_4") } })
  clock.advance(2)
  local r = invoke("get_sentiment_result", { jobid = c.jobid })
  local got = {}
  for _, a in ipairs(r.analyze_result_list) do got[a.msgid] = a.sentiment_result end
  assert_eq(got, { sent_1 = 2, sent_2 = 2, sent_3 = 2, sent_4 = 1 })
end)

test("msg_list checks: duplicates at create, unknown, wrong key and unsupported kinds at the result",
  function()
    local c = invoke("create_sentiment_task", { msg_list = {
      item("msg_0010"), item("msg_0010", "another key"), item("no_such_msg"),
      item("msg_0009", "wrong"), item("msg_0004") } })
    assert_eq(c.errcode, 0)
    assert_eq(c.fail_list, { { errcode = 710613, errmsg = "msgid repeated", msgid = "msg_0010",
      encrypt_info = { secret_key = "another key" } } }, "only the duplicate, with its key")

    clock.advance(2)
    local r = invoke("get_sentiment_result", { jobid = c.jobid })
    assert_eq(r.status, 1)
    assert_eq(r.fail_list, {
      { errcode = 710601, errmsg = "msgid incorrect", msgid = "no_such_msg" },
      { errcode = 710603, errmsg = "key incorrect", msgid = "msg_0009" },
      { errcode = 710602, errmsg = "msgtype incorrect", msgid = "msg_0004" },
    })
    assert_eq(#r.analyze_result_list, 4, "the first occurrence of each msgid")
    assert_eq(r.analyze_result_list[1].sentiment_result, 0, "\"Yes, here is the link\"")
    assert_eq(r.analyze_result_list[2].errcode, 710601)
    assert_eq(r.analyze_result_list[2].sentiment_result, nil)
  end)

test("every message failing fails the task: 710637 with status 2", function()
  local c = invoke("create_sentiment_task", { msg_list = { item("msg_0002", "bad key") } })
  clock.advance(2)
  local r = invoke("get_sentiment_result", { jobid = c.jobid })
  assert_eq(r.errcode, 710637)
  assert_eq(r.status, 2)
  assert_eq(r.fail_list[1].errcode, 710603)
end)

test("msg_list size and shape; jobids", function()
  local many = {}
  for i = 1, 1001 do many[i] = item(string.format("m%04d", i), "k") end
  assert_eq(invoke("create_sentiment_task", { msg_list = many }).errcode, 710623, "over 1000 items")
  assert_eq(invoke("create_sentiment_task", { msg_list = array() }).errcode, 40058, "empty")
  assert_eq(invoke("create_sentiment_task", {}).errcode, 40058, "missing")

  assert_eq(invoke("get_sentiment_result", { jobid = "mt_unknown" }).errcode, 40058, "unknown jobid")
  assert_eq(invoke("get_sentiment_result", {}).errcode, 40058, "no jobid")
  local spam = invoke("create_spam_task", { msg_list = { item("msg_0002") } })
  local r = invoke("get_sentiment_result", { jobid = spam.jobid })
  assert_eq(r.errcode, 710616, "a spam task's jobid")
  assert_match(r.errmsg, "task type differs")
end)

test("a scripted answer per message", function()
  models.reply { model = "sentiment", msgid = "msg_0003", result = 2 }
  models.reply { model = "sentiment", msgid = "msg_0002", errcode = 710605 }
  local c = invoke("create_sentiment_task", { msg_list = {
    item("msg_0001"), item("msg_0002"), item("msg_0003") } })
  clock.advance(2)
  local r = invoke("get_sentiment_result", { jobid = c.jobid })
  assert_eq(r.status, 1)
  assert_eq(r.analyze_result_list[1].sentiment_result, 1, "msg_0001: the lexicon")
  assert_eq(r.analyze_result_list[2], { errcode = 710605, errmsg = "message decryption failed",
    msgid = "msg_0002" })
  assert_eq(r.analyze_result_list[3].sentiment_result, 2, "msg_0003: scripted")
  assert_eq(r.fail_list, { { errcode = 710605, errmsg = "message decryption failed",
    msgid = "msg_0002" } })
  models.clear()
end)

test("the daily budget counts messages per corp (45009), and a new day resets it", function()
  clock.advance(86400) -- a fresh day: the tests above used today's budget
  models.config { daily_budget = { sentiment = 3 } }
  assert_eq(invoke("create_sentiment_task", { msg_list = { item("msg_0001"), item("msg_0002") } }).errcode, 0)
  local r = invoke("create_sentiment_task", { msg_list = { item("msg_0003"), item("msg_0009") } })
  assert_eq(r.errcode, 45009, "2 + 2 messages over a budget of 3")
  assert_eq(invoke("create_sentiment_task", { msg_list = { item("msg_0003") } }).errcode, 0, "3 fit")
  clock.advance(86400)
  assert_eq(invoke("create_sentiment_task", { msg_list = { item("msg_0003"), item("msg_0009") } }).errcode,
    0, "the next day")
  models.config { defaults = true }
end)
