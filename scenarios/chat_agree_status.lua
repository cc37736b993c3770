-- get_agree_status_single / _room: the decisions of the default world's consents list, by
-- userid or open_userid; undecided contacts are left out; more than 100 pairs is 301060,
-- unknown ids 301061, an unknown group 710624.
scenario { world = "default" }

local function single(items)
  local r = call("invoke_get_agree_status_single", { item = items })
  assert_eq(r.errcode, 0, "sync_call_program")
  return r.data
end

local function room(chatid)
  local r = call("invoke_get_agree_status_room", { chatid = chatid })
  assert_eq(r.errcode, 0, "sync_call_program")
  return r.data
end

test("1:1 decisions in request order; the undecided pair is left out", function()
  local d = single {
    { userid = "lisi", external_userid = "wm_cust_02" },
    { userid = "zhangsan", external_userid = "wm_cust_02" }, -- no decision yet
    { userid = "zhangsan", external_userid = "wm_cust_01" },
  }
  assert_eq(d.errcode, 0)
  assert_eq(d.agreeinfo, {
    { status_change_time = 1793671200, userid = "lisi", external_userid = "wm_cust_02",
      agree_status = "Disagree" },
    { status_change_time = 1793667600, userid = "zhangsan", external_userid = "wm_cust_01",
      agree_status = "Agree" },
  })
end)

test("open_userid is accepted in place of userid", function()
  local d = single { { open_userid = "zhangsan", external_userid = "wm_cust_01" } }
  assert_eq(d.errcode, 0)
  assert_eq(#d.agreeinfo, 1)
  assert_eq(d.agreeinfo[1].agree_status, "Agree")
end)

test("100 pairs are fine, 101 are 301060", function()
  local items = {}
  for i = 1, 100 do
    items[i] = { userid = "zhangsan", external_userid = "wm_cust_01" }
  end
  local d = single(items)
  assert_eq(d.errcode, 0)
  assert_eq(#d.agreeinfo, 100)
  items[101] = { userid = "zhangsan", external_userid = "wm_cust_01" }
  d = single(items)
  assert_eq(d.errcode, 301060)
  assert_true(d.agreeinfo == nil, "no agreeinfo with an error")
end)

test("an unknown userid or external_userid is 301061", function()
  assert_eq(single({ { userid = "nobody", external_userid = "wm_cust_01" } }).errcode, 301061)
  local d = single {
    { userid = "zhangsan", external_userid = "wm_cust_01" },
    { userid = "zhangsan", external_userid = "wm_nobody" },
  }
  assert_eq(d.errcode, 301061)
  assert_match(d.errmsg, "item%[1%]%.external_userid")
end)

test("missing fields are 40058", function()
  assert_eq(single(array()).errcode, 40058)
  assert_eq(single({ { external_userid = "wm_cust_01" } }).errcode, 40058)
  assert_eq(single({ { userid = "zhangsan" } }).errcode, 40058)
  local r = call("invoke_get_agree_status_single", {})
  assert_eq(r.data.errcode, 40058)
end)

test("a group lists the decisions of its external members", function()
  local d = room("wr_customer_01")
  assert_eq(d, { errcode = 0, errmsg = "ok", agreeinfo = {
    { status_change_time = 1793753700, external_userid = "wm_cust_01", agree_status = "Agree" },
  } })
  d = room("wr_internal_01")
  assert_eq(d.errcode, 0)
  assert_eq(#d.agreeinfo, 0, "an internal group has no external members")
  assert_eq(json.encode(d.agreeinfo), "[]")
end)

test("an unknown group is 710624, none 40058", function()
  assert_eq(room("wr_nope").errcode, 710624)
  assert_eq(room("").errcode, 40058)
end)
