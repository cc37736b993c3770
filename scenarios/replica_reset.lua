-- Supervision and an event whose connection is reset while its replica's port still takes
-- connections: what a SIGKILL looks like for an instant, as the kernel closes the replica's
-- files (tools/soak lost events so). The event waits, and arrives once the replica is back.
-- The first process is scenarios/programs/reset_all.py (it resets every request and goes on
-- listening); the restarted one is the runner's program when $ZONELAB_PROGRAM names it (as
-- tools/valgrind/run does: under valgrind the parent's /proc exe is valgrind's), else
-- zone-demo, found beside the zonelab that started it.
-- replica_restart_delay_ms is also how long a replica that reset an event and still listens
-- is given to die before the event is sent to it again: 2 s here, time for program.kill. Both
-- run on the virtual clock: once the replica is killed, clock.advance brings its restart.
scenario {
  options = { replica_restart = true, replica_restart_delay_ms = 2000 },
  replicas = 1,
  env = { RESET_ALL = "{dir}/programs/reset_all.py" },
  program = [[if [ -e "$ZONELAB_WORK_DIR/reset_once" ]; then
  [ -z "$ZONELAB_PROGRAM" ] || eval "$ZONELAB_PROGRAM"
  exec "$(dirname "$(readlink /proc/$PPID/exe)")/../program-under-test/zone-demo" \
    --data-dir "$ZONELAB_WORK_DIR/data"
fi
touch "$ZONELAB_WORK_DIR/reset_once"
exec python3 "$RESET_ALL"]],
}

test("an event reset by a replica that then dies arrives after the restart", function()
  assert_eq(app("set_receive_callback", { program_id = "zone-demo" }).errcode, 0)
  local token = archive({ msgid = "reset_1", sender = { type = 1, id = "zhangsan" },
    receivers = { { type = 1, id = "lisi" } }, msgtype = 1,
    content = { content = "reset" } }).events[1].token
  local ev = assert(wait_journal({ face = "program", kind = "event",
    event = { conversation_new_message = { token = token } } }, { timeout = 5 }))
  assert(wait_journal({ face = "program", kind = "log", text = "reset a request" },
    { timeout = 5 }), "the first process reset the event's connection")
  program.kill(0)
  clock.advance(2)
  assert(wait_journal({ face = "program", kind = "replica_restart", instance = "zone-demo/0" },
    { timeout = 1 }), "the clock brought the restart, 2 s after the kill")
  local res = assert(wait_journal({ face = "program", kind = "event_result",
    event_seq = ev.seq }, { timeout = 20 }), "the event was answered")
  assert_eq({ res.instance, res.status, res.errcode }, { "zone-demo/0", 200, 0 })
  assert(res.resends >= 1, "it was sent again")
  local n = assert(wait_notification { timeout = 5 }, "the app was notified of it")
  local reply = call("get_callback_data", {}, { notify_id = n.notify_id })
  assert_eq(reply.data.conversation_new_message, { token = token })
end)
