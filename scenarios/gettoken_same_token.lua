-- gettoken answers the same access_token while it is valid, and a new one once it expired:
-- "有效期内重复获取返回相同结果，过期后获取会返回新的access_token" (代开发 access_token page,
-- doc 42543, the same /cgi-bin/gettoken endpoint the self-built page documents).
scenario { world = "default" }

test("a second gettoken within 7200 s is the same token, with the seconds it has left", function()
  local first = gettoken()
  assert_eq(first.errcode, 0)
  assert_eq(first.expires_in, 7200)
  clock.advance(1000)
  local again = gettoken()
  assert_eq(again.access_token, first.access_token)
  assert_true(again.expires_in <= 6200 and again.expires_in > 6100, tostring(again.expires_in))
end)

test("after it expired gettoken mints a new one, and the old one is 42001", function()
  local old = gettoken().access_token
  clock.advance(7200)
  local new = gettoken()
  assert_true(new.access_token ~= old, "a new token after expiry")
  assert_eq(new.expires_in, 7200)
  assert_eq(app("get_log_level", { program_id = "zone-demo" }, { token = old }).errcode, 42001)
  assert_eq(app("get_log_level", { program_id = "zone-demo" }, { token = new.access_token }).errcode, 0)
end)
