-- The display component's code of create_chatdata_export_job: single use, valid 5 min of
-- virtual time; a reused, expired, unknown or missing code is 40058 (the emulator's default,
-- a setting), and a refused request does not spend it.
scenario { world = "default" }

local function create(req)
  local r = call("invoke_create_chatdata_export_job", req)
  assert_eq(r.errcode, 0, "sync_call_program: " .. tostring(r.errmsg))
  return r.data
end

local media

test("a code makes one job; used again it is 40058", function()
  media = upload_media("template.txt", "$msgContent=msg_0010/zonelabFixedSecretKey00000000010$")
  .media_id
  local code, r = export.code()
  assert_match(code, "^ec_%x+$")
  assert_eq({ r.corpid, r.agentid }, { "wwzonelab0000001", 1000002 })
  assert_eq(r.expires_at, clock.now() + 300, "valid 5 min")
  local c = create { code = code, media_id = media }
  assert_eq(c.errcode, 0, c.errmsg)
  local again = create { code = code, media_id = media }
  assert_eq(again.errcode, 40058)
  assert_match(again.errmsg, "used already %(job " .. c.jobid .. "%)")
  assert_eq(again.jobid, nil)
end)

test("a code older than 5 minutes is 40058", function()
  local code = export.code()
  clock.advance(299)
  local fresh = export.code()
  clock.advance(1)
  local r = create { code = code, media_id = media }
  assert_eq(r.errcode, 40058)
  assert_match(r.errmsg, "older than 5 minutes")
  assert_eq(create({ code = fresh, media_id = media }).errcode, 0, "the other has 1 s left")
end)

test("an unknown, missing or empty code is 40058", function()
  local r = create { code = "ec_not_issued", media_id = media }
  assert_eq(r.errcode, 40058)
  assert_match(r.errmsg, "not a display component code")
  assert_eq(create({ media_id = media }).errcode, 40058)
  assert_eq(create({ code = "", media_id = media }).errcode, 40058)
  assert_eq(create({ code = string.rep("c", 200), media_id = media }).errcode, 40058)
  assert_eq(create({ code = export.code() }).errcode, 40058, "media_id is required too")
end)

test("a request refused for another reason leaves the code unspent", function()
  local code = export.code()
  assert_eq(create({ code = code, media_id = "md_unknown" }).errcode, 40007)
  assert_eq(create({ code = code, media_id = media }).errcode, 0)
end)

test("the bad-code errcode is a setting", function()
  export.config { bad_code_errcode = 301053 }
  assert_eq(create({ code = "ec_not_issued", media_id = media }).errcode, 301053)
  assert_eq(create({ media_id = media }).errcode, 40058, "a missing code stays 40058")
  export.config { defaults = true }
  assert_eq(create({ code = "ec_not_issued", media_id = media }).errcode, 40058)
end)

test("export_code refuses what is not an app of a corp", function()
  local ok, why = pcall(export.code, { agentid = 4242 })
  assert_true(not ok)
  assert_match(why, "export%.code refused: agentid is not an app of the corp")
  ok, why = pcall(export.code, { corpid = "wwnosuchcorp" })
  assert_true(not ok)
  assert_match(why, "corpid is not a corp")
end)
