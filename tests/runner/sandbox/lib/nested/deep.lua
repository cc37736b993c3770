-- runner check: lib/nested/deep.lua is require("nested.deep"); it returns nothing.
deep_ran = true
