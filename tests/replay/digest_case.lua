-- The digest, then a deliberate failure, for tests/replay: its journal holds a sync_msg
-- whose msg_list the journal abridges unless its invoke entries keep the "reply" text.
scenario { world = "default" }

test("the digest, then a failure so that the journal is written", function()
  local r = call("new_messages_digest")
  assert_eq(r.errcode, 0)
  assert_eq(r.data.total, -1, "fails on purpose: the report's journal is what the check wants")
end)
