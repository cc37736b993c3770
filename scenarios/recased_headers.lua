-- Some HTTP frameworks re-case header names (Ww-Signature); the vendor SDK then fails to
-- find them, and a zone program must answer HTTP 200 with the SDK's exception (-10004).
scenario { world = "default" }

test("re-cased ww-* headers are answered 200 with ww-exception -10004", function()
  local status, exc = program.request(0, { recase = true })
  assert_eq(status, 200)
  assert_eq(exc, "-10004")
end)

test("the same request with lower-case headers has no exception", function()
  local status, exc = program.request(0, {})
  assert_eq(status, 200)
  assert_eq(exc, nil)
end)
