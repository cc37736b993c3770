-- A body over the 64 MiB zonelab reads: "Every reply is HTTP 200 with errcode" (docs/emulator.md,
-- the app face), where the engine alone would answer 413 (issue 19, item 7). upload_media
-- answers its own code for a size it refuses, 40006.
scenario { world = "default" }

local function post(endpoint, text)
  local token = gettoken().access_token
  local status, r = http("POST", "/cgi-bin/chatdata/" .. endpoint .. "?access_token=" .. token,
    text, 120) -- 64 MiB: a slow machine (valgrind) needs more than the default 10 s
  assert_eq(status, 200)
  return r
end

test("a body over 64 MiB is HTTP 200 with an errcode", function()
  local big = '{"pad":"' .. string.rep("a", 64 * 1024 * 1024) .. '"}'
  local r = post("sync_call_program", big)
  assert_eq(r.errcode, 40058)
  assert(r.errmsg:find("over the 67108864 bytes"), r.errmsg)
  local token = gettoken().access_token
  local status, u = http("POST", "/cgi-bin/chatdata/upload_media?type=file&access_token="
    .. token, big, 120)
  assert_eq(status, 200)
  assert_eq(u.errcode, 40006)
end)
