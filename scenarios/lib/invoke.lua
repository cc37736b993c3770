-- invoke.lua: an SDK API called through zone-demo's invoke_<api> abilities (docs/zone-demo.md).
--
--   local invoke = require("invoke")
--   local d = invoke("create_rule", { name = "r", keyword = { word_list = { "x" } } })
--
-- invoke(api, request, opts) calls the ability "invoke_<api>" with request (call()), checks
-- that the call itself went through (errcode 0: the program answered) and returns .data, the
-- SDK's reply the program passed on; its errcode is the scenario's to check. opts go to
-- call(): token (to act as another app), program, notify_id, timeout.
return function(api, request, opts)
  local r = call("invoke_" .. api, request, opts)
  assert_eq(r.errcode, 0, "sync_call_program " .. api .. ": " .. tostring(r.errmsg))
  return r.data
end
