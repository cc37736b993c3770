-- runner check: a file in a subfolder finds the lib/ of the folder above (the scenario root).
scenario {}

test("the root's lib/ from a subfolder", function()
  assert_eq(require("counter").name, "counter")
end)
