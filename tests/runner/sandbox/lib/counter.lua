-- runner check: a library; loads counts how often its file ran (require caches it).
local name = ...
local M = { name = name, loads = (loaded_counter or 0) + 1 }
loaded_counter = M.loads -- a library's new global is allowed too

-- M.positive(n): n, or a failed assertion when it is not positive
function M.positive(n)
  assert_true(n > 0, "not positive")
  return n
end

return M
