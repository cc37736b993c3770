-- runner check: a library that requires itself.
return require("cycle")
