-- A JSON body is one JSON value: bytes after it, or a string holding \u0000 (which would cut
-- "zone-demo\u0000x" down to "zone-demo"), are refused as a body that is not JSON, never read
-- as the part before them (issue 19, item 7).
scenario { world = "default" }

local function post(endpoint, text)
  local token = gettoken().access_token
  local status, r = http("POST", "/cgi-bin/chatdata/" .. endpoint .. "?access_token=" .. token,
    text)
  assert_eq(status, 200)
  return r
end

local good = '{"program_id":"zone-demo","ability_id":"echo_input","request_data":'
  .. '"{\\"ability_id\\":\\"1\\",\\"task_type\\":\\"t\\",\\"msg\\":\\"m\\"}"}'

test("the well-formed body is answered", function()
  assert_eq(post("sync_call_program", good).errcode, 0)
  assert_eq(post("sync_call_program", good .. " \r\n").errcode, 0)
end)

test("bytes after the JSON value are 40058", function()
  local r = post("sync_call_program", good .. "garbage")
  assert_eq(r.errcode, 40058)
  assert_eq(post("sync_call_program", good .. "{}").errcode, 40058)
end)

test("a string with \\u0000 is 40058, not the id before it", function()
  local r = post("sync_call_program",
    '{"program_id":"zone-demo\\u0000x","ability_id":"echo_input","request_data":"{}"}')
  assert_eq(r.errcode, 40058)
end)

test("the control face reads its bodies the same way", function()
  local status = http("POST", "/_zonelab/clock", '{"advance":1} x')
  assert_eq(status, 400)
end)

