-- runner check: an extra program that exits before it listens fails (setup) with its last log
-- lines, which show the environment it got: {dir} is this file's folder, made absolute.
scenario {
  env = { ZL_CHECK_DIR = "{dir}", ZL_CHECK_N = 42 },
  programs = { ["zone-model"] = 'echo "dir=$ZL_CHECK_DIR n=$ZL_CHECK_N"; exit 3' },
}

test("never runs", function()
  fail("the file should have stopped at (setup)")
end)
