-- runner check: a library that fails on its line 3.
local x = 1
error("broken on purpose " .. x)
