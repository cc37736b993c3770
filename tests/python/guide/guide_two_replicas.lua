-- Two replicas of a program that listens where WeCom's guide says, "自行监听8080端口（IP使用
-- 0.0.0.0）" (doc 54006), and reads no zonelab variable: each replica's bind lands on its own
-- ZONELAB_PORT (docs/emulator.md, "Ports"), so both start and both answer app calls.
-- vars.lang "python": tests/python/guide/guide_program.py, the Python sample's convention;
-- "c" (the default) or "java": zone-demo or the Java program started with --port 8080, the
-- bare convention (tests/python/CMakeLists.txt, tests/java/CMakeLists.txt give the commands).
local lang = (vars and vars.lang) or "c"
local PYTHON = lang == "python"

scenario { world = "../../../scenarios/worlds/languages.json", replicas = 2 }

local function sync_msg_one()
  local r
  if PYTHON then
    r = call("python_sample", { input = { func = "sync_msg", func_req = { limit = 1 } } })
  else
    r = call("invoke_sync_msg", { limit = 1 })
  end
  assert_eq(r.errcode, 0, r.errmsg)
  local d = PYTHON and r.data.output or r.data
  assert_eq(d.errcode, 0)
  assert_eq(#d.msg_list, 1)
end

test("both replicas of a program on port 8080 answer app calls (" .. lang .. ")", function()
  assert_eq(program.replicas(), 2)
  for _ = 1, 4 do
    sync_msg_one()
  end
  -- calls without a notify_id go round robin: each replica served two, and each invoked
  -- sync_msg through the SDK as itself
  local served, invoked = {}, {}
  for _, e in ipairs(journal({ face = "program", kind = "call" })) do
    assert_eq(e.errcode, 0, "the program call to " .. e.instance)
    served[e.instance] = (served[e.instance] or 0) + 1
  end
  for _, c in ipairs(sdk.calls("sync_msg")) do
    invoked[c.instance] = true
  end
  assert_eq(served, { ["zone-demo/0"] = 2, ["zone-demo/1"] = 2 })
  assert_eq(invoked, { ["zone-demo/0"] = true, ["zone-demo/1"] = true })
end)
