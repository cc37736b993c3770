-- Shared flow (issue 9): a request the SDK does not verify (re-cased ww-* header names, as
-- some HTTP frameworks send them) is answered HTTP 200 with the SDK's exception code -10004;
-- the same request with its headers as sent has none. The vendor's Java demo lower-cases
-- every Ww- header before the SDK sees it (its JDK server re-cases them), so for Java the
-- re-cased request verifies.
local lang = (vars and vars.lang) or "c"
local PYTHON = lang == "python"
local JAVA = lang == "java"

scenario { world = "../worlds/languages.json" }

-- program.request's callback, in the program's convention (ability get_callback_data).
local DATA = PYTHON and '{"input":{"func":"do_async_job","func_req":{}}}' or "{}"

test("re-cased ww-* headers: HTTP 200, with ww-exception -10004 unless the program repairs "
  .. "them (" .. lang .. ")", function()
  local status, exc = program.request(0, { recase = true, data = DATA })
  assert_eq(status, 200)
  if JAVA then
    assert_eq(exc, nil, "the Java demo lower-cases Ww- header names before the SDK")
  else
    assert_eq(exc, "-10004")
  end
end)

test("the same request with its headers as sent has no exception (" .. lang .. ")", function()
  local status, exc = program.request(0, { data = DATA })
  assert_eq(status, 200)
  assert_eq(exc, nil)
end)
