-- runner check: a file that replaces a verb does not load.
scenario {}

function call() end

test("never runs", function() end)
