#!/bin/bash
# cli_offline.sh ZONELAB WORLD WORK: the zonelab commands without an emulator: every command's
# --help (stdout, status 0), usage errors (stderr, status 2), and check-protocol's verdicts
# and diagnoses, the Python sample's input wrapper included.
set -u
zonelab=$1
world=$2
work=$3
fail() { echo "cli_offline: FAIL: $*" >&2; exit 1; }
step() { echo "cli_offline: ok: $*"; }
rm -rf "$work" && mkdir -p "$work" && cd "$work" || fail "no work folder"

# run STATUS NAME CMD...: runs CMD with stdout in NAME.out and stderr in NAME.err and checks the
# exit status.
run() {
    local want=$1 name=$2 got
    shift 2
    "$@" >"$name.out" 2>"$name.err"
    got=$?
    [ "$got" -eq "$want" ] || {
        cat "$name.out" "$name.err" >&2
        fail "$name: exit status $got, expected $want"
    }
}
# out_is NAME: NAME.out must equal stdin byte for byte.
out_is() {
    cat >"$1.want"
    cmp -s "$1.want" "$1.out" || { diff "$1.want" "$1.out" >&2; fail "$1: unexpected output"; }
}
has() { grep -qF -- "$3" "$1.$2" || { cat "$1.$2" >&2; fail "$1: $2 lacks: $3"; }; }
empty() { [ ! -s "$1.$2" ] || { cat "$1.$2" >&2; fail "$1: $2 should be empty"; }; }

# --help and -h: usage on stdout, status 0, nothing on stderr
for c in call event messages journal app check-protocol crypto serve run report completion man init sdk-path explore; do
    for h in --help -h; do
        run 0 "help-$c$h" "$zonelab" "$c" "$h"
        head -1 "help-$c$h.out" | grep -q "^usage: zonelab $c" ||
            fail "zonelab $c $h does not start with its usage line"
        empty "help-$c$h" err
    done
done
# every client command documents --url and the exit statuses
for c in call event messages journal; do
    has "help-$c--help" out "--url URL"
    has "help-$c--help" out "exit status: 0"
done
# --help wins over mistakes, as in crypto
run 0 help-late "$zonelab" call --no-such-flag --help
has help-late out "usage: zonelab call"
step "--help and -h on every command"

# unknown flags: why and the usage on stderr, nothing on stdout, status 2
for c in call event messages journal check-protocol; do
    run 2 "bad-$c" "$zonelab" "$c" --no-such-flag
    empty "bad-$c" out
    has "bad-$c" err "zonelab $c: unknown option '--no-such-flag'"
    has "bad-$c" err "usage: zonelab $c"
done
run 2 bad-crypto "$zonelab" crypto decrypt --no-such-flag
has bad-crypto err "zonelab crypto: unknown option '--no-such-flag'"
run 2 bad-value "$zonelab" call --ability
has bad-value err "zonelab call: option needs a value: '--ability'"
run 2 bad-twice "$zonelab" journal --since 1 --since=2
has bad-twice err "zonelab journal: option given twice: '--since'"
run 2 bad-switch "$zonelab" call --async=yes
has bad-switch err "option takes no value: '--async=yes'"
run 2 bad-nodata "$zonelab" call --ability new_messages_digest
has bad-nodata err "give either --data TEXT or --data-file FILE (- for stdin)"
run 2 bad-twodata "$zonelab" call --ability a --data '{}' --data-file ./x
has bad-twodata err "give either --data TEXT or --data-file FILE"
run 2 bad-noability "$zonelab" call --data '{}'
has bad-noability err "missing --ability"
run 2 bad-notify "$zonelab" call --ability a --data '{}' --async --notify-id n1
has bad-notify err "async_program_task has no notify_id"
run 2 bad-wait "$zonelab" call --ability a --data '{}' --wait
has bad-wait err "--wait goes with --async"
run 2 bad-secret "$zonelab" call --ability a --data '{}' --secret s --agentid 1
run 2 bad-agentid "$zonelab" event --event '{}' --agentid x
run 2 bad-field "$zonelab" journal --field errcode
has bad-field err "--field takes KEY=VALUE, got 'errcode'"
run 2 bad-limit "$zonelab" journal --limit 0
run 2 bad-nofile "$zonelab" messages
has bad-nofile err "give the messages file (- for stdin)"
run 2 bad-twofiles "$zonelab" messages a.json b.json
has bad-twofiles err "unexpected argument 'b.json'"
run 2 bad-positional "$zonelab" journal extra
step "usage errors exit 2 with the reason and the usage on stderr"

# zonelab app: its commands' --help, and their usage errors
run 0 help-app "$zonelab" app --help
has help-app out "usage: zonelab app <command>"
for c in gettoken set-receive-callback set-public-key post inbox; do
    has help-app out "  $c"
    run 0 "help-app-$c" "$zonelab" app "$c" --help
    head -1 "help-app-$c.out" | grep -q "^usage: zonelab app $c" ||
        fail "zonelab app $c --help does not start with its usage line"
    has "help-app-$c" out "--url URL"
    has "help-app-$c" out "exit status: 0"
    empty "help-app-$c" err
    run 2 "bad-app-$c" "$zonelab" app "$c" --no-such-flag
    empty "bad-app-$c" out
    has "bad-app-$c" err "zonelab app $c: unknown option '--no-such-flag'"
    has "bad-app-$c" err "usage: zonelab app $c"
done
run 2 bad-app-none "$zonelab" app
has bad-app-none err "zonelab app: give a command"
run 2 bad-app-cmd "$zonelab" app set_receive_callback
has bad-app-cmd err "zonelab app: unknown command 'set_receive_callback'"
run 2 bad-app-key "$zonelab" app set-public-key
has bad-app-key err "give the key with --file PEM (- for stdin)"
run 2 bad-app-ver "$zonelab" app set-public-key --file k.pem --version 0
has bad-app-ver err "--version must be a key version from 1, got '0'"
run 2 bad-app-post "$zonelab" app post
has bad-app-post err "give the endpoint's NAME"
run 2 bad-app-post2 "$zonelab" app post 'get_log_level?x=1'
run 2 bad-app-data "$zonelab" app post get_log_level --data '{}' --data-file x.json
run 2 bad-app-both "$zonelab" app gettoken --secret s --agentid 1
has bad-app-both err "give --secret or --agentid, not both"
run 2 bad-app-timeout "$zonelab" app inbox --timeout 5
has bad-app-timeout err "--timeout goes with --follow"
run 2 bad-app-limit "$zonelab" app inbox --limit 0
step "zonelab app: --help of every command, usage errors"

# check-protocol: a match
p='{"cursor":"","limit":0,"token":""}'
run 0 cp-match "$zonelab" check-protocol --protocol "$p" --data '{"limit":50}'
printf 'ok\n' | out_is cp-match
# a wrong type
run 1 cp-type "$zonelab" check-protocol --protocol "$p" --data '{"limit":"50"}'
out_is cp-type <<'TXT'
790016 json request does not match the template
path: $.limit
expected: number
actual: string
diagnosis: request_data does not match the ability's input protocol at $.limit: the example has a number there, but the request has a string
TXT
# a key the example does not have
run 1 cp-key "$zonelab" check-protocol --protocol "$p" --data '{"limit":50,"mode":1}'
has cp-key out "path: \$.mode"
has cp-key out "expected: absent"
has cp-key out "key \"mode\" at \$.mode is not in the protocol example (allowed keys: cursor, limit, token)"
# the Python sample's input wrapper sent to a bare protocol (the default world's digest)
run 1 cp-python "$zonelab" check-protocol --world default --ability new_messages_digest \
    --data '{"input":{"func":"new_messages_digest","func_req":{"sentiment":true}}}'
out_is cp-python <<'TXT'
790016 json request does not match the template
path: $.input
expected: absent
actual: object
diagnosis: request_data is the Python sample's {"input":{"func":...,"func_req":{...}}} wrapper, but this ability's input protocol takes bare key/value pairs (sentiment): send the func_req contents as request_data
TXT
# and the reverse: bare pairs sent to a protocol that wants the wrapper
run 1 cp-bare "$zonelab" check-protocol --protocol '{"input":{"func":"","func_req":{"a":0}}}' \
    --data '{"a":1}'
has cp-bare out "diagnosis: request_data has bare key/value pairs (a), but this ability's input protocol expects the Python sample's {\"input\":{\"func\":...,\"func_req\":{...}}} wrapper: send {\"input\":{\"func\":\"<name>\",\"func_req\":{<your pairs>}}} as request_data"
step "check-protocol: match, wrong type, unknown key, the input wrapper both ways"

# --output checks a program's reply, here from stdin, against a world file's output protocol
printf '{"errcode":0,"total":"3"}' >reply.json
run 1 cp-output "$zonelab" check-protocol --world "$world" --program-id zone-demo \
    --ability new_messages_digest --output --data-file - <reply.json
has cp-output out "790014 json result does not match the template"
has cp-output out "path: \$.total"
printf '{"errcode":0,"total":3}' | "$zonelab" check-protocol --world "$world" \
    --ability new_messages_digest --output --data-file - >cp-output-ok.out 2>&1 ||
    fail "a matching reply did not pass --output"
printf 'ok\n' | out_is cp-output-ok
# not JSON, an unusable example, JSON output, files
run 1 cp-notjson "$zonelab" check-protocol --protocol "$p" --data '{"limit":'
has cp-notjson out "790015 illegal json request"
has cp-notjson out "diagnosis: request_data is not JSON: parsing stopped"
run 1 cp-example "$zonelab" check-protocol --protocol '["a"]' --data '{}'
has cp-example out "790012 illegal json template"
run 1 cp-json "$zonelab" check-protocol --protocol "$p" --data '{"token":1}' --json
printf '%s\n' '{"errcode":790016,"errmsg":"json request does not match the template","path":"$.token","expected":"string","actual":"number","diagnosis":"request_data does not match the ability'"'"'s input protocol at $.token: the example has a string there, but the request has a number"}' |
    out_is cp-json
run 0 cp-json-ok "$zonelab" check-protocol --protocol "$p" --data '{}' --json
printf '%s\n' '{"errcode":0,"errmsg":"ok"}' | out_is cp-json-ok
printf '%s' "$p" >p.json
printf ' {"cursor":"c1"}\n' >d.json
run 0 cp-files "$zonelab" check-protocol --protocol-file ./p.json --data-file ./d.json
printf 'ok\n' | out_is cp-files
step "check-protocol: --output, 790015, 790012, --json, files"

run 1 cp-noability "$zonelab" check-protocol --world default --ability no_such --data '{}'
has cp-noability err "no program of the world has an ability 'no_such'"
run 1 cp-noprog "$zonelab" check-protocol --world default --program-id zone-model \
    --ability new_messages_digest --data '{}'
has cp-noprog err "the world has no ability 'new_messages_digest' in a program 'zone-model'"
run 1 cp-noworld "$zonelab" check-protocol --world ./missing.json --ability a --data '{}'
has cp-noworld err "missing.json"
run 1 cp-nofile "$zonelab" check-protocol --protocol "$p" --data-file ./missing.txt
has cp-nofile err "zonelab check-protocol: cannot open './missing.txt'"
run 2 cp-two "$zonelab" check-protocol --protocol "$p" --world default --ability a --data '{}'
run 2 cp-stdin "$zonelab" check-protocol --protocol-file - --data-file -
has cp-stdin err "only one of --protocol-file and --data-file can read stdin"
run 2 cp-noab "$zonelab" check-protocol --world default --data '{}'
step "check-protocol: unknown ability or program, unreadable files, flag conflicts"
echo "cli_offline: all passed"
