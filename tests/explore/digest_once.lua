-- A property of zone-demo's own (zonelab explore --properties): new_messages_digest counts
-- each message once. It keeps its sync_msg cursor durably, page by page, shared by the
-- replicas (docs/zone-demo.md), so the totals of all its digests never exceed the messages
-- there are: the default world's 22 and those the run archived.
property("digest_counts_each_message_once", function(trace)
  local archived, counted = 0, 0
  for _, a in ipairs(trace.actions) do
    if a.kind == "archive" and a.ok then
      archived = archived + 1
    end
    local d = a.kind == "call" and a.ability == "new_messages_digest" and a.reply
      and type(a.reply.data) == "table" and a.reply.data or nil
    if d and d.errcode == 0 and type(d.total) == "number" then
      counted = counted + d.total
      if counted > 22 + archived then
        error(string.format("%s: the digests counted %d messages, there are %d",
          X.describe(a), counted, 22 + archived), 0)
      end
    end
  end
end)
