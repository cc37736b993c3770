-- Without a public key nothing is archived and get_hit_msg_list answers 710659; the rule
-- APIs themselves work.
scenario {
  world = {
    clock_start = 1793808000,
    corps = { {
      corpid = "wwzonelab0000001",
      name = "no key",
      apps = { { agentid = 1000002, name = "app", secret = "rules-no-key", callback_url = "",
        token = "zonelabtoken", encoding_aes_key = "zonelabDemoAesKey0123456789abcdefghijKLMNOP" } },
      programs = { {
        program_id = "zone-demo",
        role = "program",
        agentids = { 1000002 },
        abilities = {
          { ability_id = "invoke_create_rule",
            input_protocol = '{"name":"","keyword":{"word_list":[""]}}',
            output_protocol = '{"errcode":0,"errmsg":"","rule_id":""}' },
          { ability_id = "invoke_get_hit_msg_list",
            input_protocol = '{"cursor":"","token":"","limit":0}',
            output_protocol = '{"errcode":0,"errmsg":"","has_more":0,"next_cursor":"",'
              .. '"msg_list":[{"msgid":"","hit_rule_list":[{"rule_id":"","has_hit_keyword":false,'
              .. '"semantics_list":[0]}]}]}' },
        },
      } },
      members = { { userid = "zhangsan", name = "Zhang San" } },
    } },
  },
}

test("get_hit_msg_list without a public key: 710659", function()
  local r = call("invoke_create_rule", { name = "r", keyword = { word_list = { "x" } } })
  assert_eq(r.data.errcode, 0, "rules need no key")
  assert_eq(call("invoke_get_hit_msg_list", {}).data.errcode, 710659)
  assert_eq(call("invoke_get_hit_msg_list", { token = "hk_0" }).data.errcode, 710659)
end)
