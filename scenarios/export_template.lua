-- The template of create_chatdata_export_job: an upload_media id of the app, less than 3
-- days old (else 40007), read as text; it may name at most 100 000 message ids
-- ($msgContent=MSGID/SECRET-KEY$, a repeated id counts once), else 710629. 1000 exports per
-- corp per day, else 45009.
scenario { world = "default" }

local function create(req)
  local r = call("invoke_create_chatdata_export_job", req)
  assert_eq(r.errcode, 0, "sync_call_program: " .. tostring(r.errmsg))
  return r.data
end

-- A template naming message ids first..last.
local function template(first, last)
  local parts = {}
  for i = first, last do
    parts[#parts + 1] = "$msgContent=m" .. i .. "/k$"
  end
  return table.concat(parts, "\n")
end

local function upload(bytes)
  local m = upload_media("template.txt", bytes)
  assert_eq(m.errcode, 0, m.errmsg)
  return m.media_id
end

test("an unknown or expired media_id is 40007", function()
  local r = create { code = export.code(), media_id = "md_0000000000000000" }
  assert_eq(r.errcode, 40007)
  assert_match(r.errmsg, "upload_media id")
  local m = upload("$userName=zhangsan$")
  clock.advance(3 * 86400 - 1)
  assert_eq(create({ code = export.code(), media_id = m }).errcode, 0, "a second before 3 days")
  clock.advance(1)
  assert_eq(create({ code = export.code(), media_id = m }).errcode, 40007, "3 days old")
end)

test("more than 100 000 message ids is 710629", function()
  local over = create { code = export.code(), media_id = upload(template(1, 100001)) }
  assert_eq(over.errcode, 710629)
  assert_match(over.errmsg, "more than 100000 message ids")

  local full = create { code = export.code(), media_id = upload(template(1, 100000)) }
  assert_eq(full.errcode, 0, "100 000 is allowed")
  local twice = create { code = export.code(),
    media_id = upload(template(1, 60000) .. "\n" .. template(40001, 100000)) }
  assert_eq(twice.errcode, 0, "120 000 tokens naming 100 000 ids")
  local jobs = export.jobs()
  assert_eq(jobs[#jobs].message_ids, 100000)
  assert_eq(jobs[#jobs].tokens.msgContent, 120000)
end)

test("a template with no token is fine: tokens that do not parse stay text", function()
  local c = create { code = export.code(), media_id = upload("$msgContent=$ $msgContent=x/$ hi") }
  assert_eq(c.errcode, 0, c.errmsg)
  local jobs = export.jobs()
  assert_eq(jobs[#jobs].message_ids, 0)
end)

test("accept_upload_media = false: only the general upload's ids would do", function()
  local m = upload("$userName=lisi$")
  export.config { accept_upload_media = false }
  assert_eq(create({ code = export.code(), media_id = m }).errcode, 40007)
  export.config { defaults = true }
  assert_eq(create({ code = export.code(), media_id = m }).errcode, 0)
end)

test("1000 exports per corp per day, then 45009", function()
  clock.advance(86400) -- a quota day (midnight to midnight UTC+8) with no export yet
  local m = upload("$userName=lisi$")
  export.config { daily_budget = 1 }
  assert_eq(create({ code = export.code(), media_id = m }).errcode, 0)
  local code = export.code()
  local r = create { code = code, media_id = m }
  assert_eq(r.errcode, 45009)
  clock.advance(86400)
  assert_eq(create({ code = export.code(), media_id = m }).errcode, 0, "a new day")
  assert_eq(create({ code = code, media_id = m }).errcode, 40058,
    "the refused request left the code unspent, but it is a day old now")
  assert_eq(export.config({ defaults = true }).daily_budget, 1000)
end)
