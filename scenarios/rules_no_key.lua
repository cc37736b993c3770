-- Without a public key nothing is archived and get_hit_msg_list answers 710659; the rule
-- APIs themselves work.
scenario { world = "worlds/no_public_key.json" }

test("get_hit_msg_list without a public key: 710659", function()
  local r = call("invoke_create_rule", { name = "r", keyword = { word_list = { "x" } } })
  assert_eq(r.data.errcode, 0, "rules need no key")
  assert_eq(call("invoke_get_hit_msg_list", {}).data.errcode, 710659)
  assert_eq(call("invoke_get_hit_msg_list", { token = "hk_0" }).data.errcode, 710659)
end)
