#!/usr/bin/env bash
# xsig inspect against processes in known states: bash with `trap '' USR2`, a
# process that blocks SIGTERM (and has one pending), a `sleep` started in the
# background by a shell, a `sleep` with every signal at its default, PID 1 of a
# pid namespace without handlers, and xsig run as such a PID 1. Each check
# reads the --json output (python3) and the text diagnoses.
# Usage: tests/inspect_test.sh XSIG_BINARY. Needs root for the namespace cases;
# without it they fail with that reason.
set -u
xsig=$1
tmp=$(mktemp -d)
pids=()
cleanup() {
  # A namespace's PID 1 is the launcher's child: it goes first.
  for p in "${pids[@]}"; do pkill -KILL -P "$p" 2>/dev/null; kill -KILL "$p" 2>/dev/null; done
  rm -rf "$tmp"
}
trap cleanup EXIT
failures=0 passes=0
# The system's python: a version manager's shim can take seconds per start.
py=/usr/bin/python3
[ -x $py ] || py=python3

until_ok() {
  local i
  for ((i = 0; i < 1000; i++)); do
    "$@" && return 0
    sleep 0.02
  done
  return 1
}
ok() {
  passes=$((passes + 1))
  echo "ok   $1"
}
fail() {
  failures=$((failures + 1))
  echo "FAIL $1"
}
# jq-like: q PID EXPR, EXPR in Python over the parsed object j.
q() {
  "$xsig" inspect --json "$1" | $py -c "import json,sys; j=json.load(sys.stdin); sig={s['name']:s for s in j['signals']}; ids=[d['id'] for d in j['diagnoses']]; print($2)"
}
expect() { # name pid expr want
  local got
  got=$(q "$2" "$3" 2>&1)
  if [ "$got" = "$4" ]; then ok "$1"; else fail "$1: $3 gave '$got', want '$4'"; fi
}
expect_text() { # name pid grep-pattern
  if "$xsig" inspect "$2" | grep -qF -- "$3"; then ok "$1"; else
    fail "$1: no line '$3' in:"
    "$xsig" inspect "$2" | sed -n '/diagnoses/,$p'
  fi
}
# A ready file is written once the state is set up.
ready() { until_ok test -e "$1" || fail "never ready: $1"; }

# bash with `trap '' USR2`: SIGUSR2 ignored, bash's own SIGINT etc. as bash has them.
bash -c "trap '' USR2; touch $tmp/bash.ready; sleep 100; true" &
pids+=($!)
b=$!
ready "$tmp/bash.ready"
expect "bash trap '' USR2: SIGUSR2 ignored" $b "sig['SIGUSR2']['action']" ignored
expect "bash trap '' USR2: SIGUSR1 default" $b "sig['SIGUSR1']['action']" default
expect "bash: SIGCHLD caught" $b "sig['SIGCHLD']['action']" caught
expect_text "bash: diagnosis names SIGUSR2" $b "SIGUSR2 is ignored"

# A process that blocks SIGTERM in its only thread, then gets one.
$py -c "
import signal, time, os
signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGTERM])
open('$tmp/block.ready', 'w').close()
time.sleep(100)" &
pids+=($!)
p=$!
ready "$tmp/block.ready"
expect "blocker: SIGTERM blocked in 1 thread" $p "(sig['SIGTERM']['blocked_threads'], len(j['threads']))" "(1, 1)"
expect "blocker: nothing pending yet" $p "j['pending']" "[]"
expect_text "blocker: diagnosis" $p "SIGTERM is blocked in every thread"
kill -TERM $p
until_ok eval '[ "$(q $p "sig[\"SIGTERM\"][\"pending_process\"]")" = True ]'
expect "blocker: SIGTERM pending process-wide" $p "(sig['SIGTERM']['pending_process'], j['pending'])" "(True, ['SIGTERM'])"
expect_text "blocker: pending diagnosis" $p "1 signal is pending"

# sleep started with & by a non-interactive shell: SIGINT and SIGQUIT ignored.
sleep 100 &
pids+=($!)
s=$!
until_ok eval '[ "$(q $s "j[\"name\"]")" = sleep ]'
expect "background sleep: SIGINT ignored" $s "(sig['SIGINT']['action'], sig['SIGQUIT']['action'])" "('ignored', 'ignored')"
expect_text "background sleep: diagnosis" $s "SIGINT is ignored (inherited from a background shell"
# The same sleep with every signal at its default.
env --default-signal sleep 100 &
pids+=($!)
s=$!
until_ok eval '[ "$(q $s "j[\"name\"]")" = sleep ]'
expect "plain sleep: all default, no diagnosis" $s \
  "(set(x['action'] for x in j['signals']), ids, j['pending'])" "({'default'}, [], [])"

# PID 1 of a pid namespace without handlers.
unshare --pid --fork --mount-proc sleep 100 &
pids+=($!)
u=$!
until_ok eval 'c=$(pgrep -P $u); [ -n "$c" ] && [ "$(q $c "j[\"name\"]")" = sleep ]'
c=$(pgrep -P $u)
expect "namespace PID 1: ns_pid 1, SIGTERM default" "$c" "(j['ns_pid'], sig['SIGTERM']['action'])" "(1, 'default')"
expect "namespace PID 1: docker-stop diagnosis" "$c" "'pid1-sigterm-not-caught' in ids" True
expect_text "namespace PID 1: text" "$c" \
  "PID 1 in its pid namespace and SIGTERM is not caught: \`docker stop\` will wait for its time-out and then kill it"

# xsig run as that PID 1 catches SIGTERM: no such diagnosis.
unshare --pid --fork --mount-proc "$xsig" run -- sleep 100 &
pids+=($!)
u=$!
until_ok eval 'c=$(pgrep -P $u); [ -n "$c" ] && [ "$(q $c "j[\"name\"]")" = xsig ]'
c=$(pgrep -P $u)
until_ok eval '[ "$(q $c "sig[\"SIGTERM\"][\"action\"]")" = caught ]'
expect "xsig run as PID 1: SIGTERM caught, no docker-stop diagnosis" "$c" \
  "(j['ns_pid'], sig['SIGTERM']['action'], 'pid1-sigterm-not-caught' in ids)" "(1, 'caught', False)"

# A comm with JSON's and the kernel's special characters and a UTF-8
# sequence cut short by the 15-byte limit: the JSON must be valid UTF-8 (read
# as bytes, strictly) and name the comm as it is, not as /proc/PID/status
# escapes it (a backslash doubled, a newline as "\\n").
$py -c "
import ctypes, time
ctypes.CDLL(None).prctl(15, b'a\"b\\\\(c) d:\\n\\xc3\\xa9\\xc3', 0, 0, 0)
open('$tmp/comm.ready', 'w').close()
time.sleep(100)" &
pids+=($!)
p=$!
ready "$tmp/comm.ready"
"$xsig" inspect --json $p >"$tmp/comm.json"
if $py -c "import json,sys; json.loads(open(sys.argv[1], 'rb').read().decode('utf-8', 'strict'))" "$tmp/comm.json"; then
  ok "odd comm: the JSON is valid UTF-8"
else
  fail "odd comm: the JSON is not valid UTF-8: $(od -c "$tmp/comm.json" | head -3)"
fi
got=$($py -c "import json,sys; print(ascii(json.loads(open(sys.argv[1], 'rb').read().decode('utf-8', 'replace'))['name']))" "$tmp/comm.json" 2>&1)
want="'a\"b\\\\(c) d:\\n\\xe9\\ufffd'"
[ "$got" = "$want" ] && ok "odd comm: named as it is" || fail "odd comm: name $got, want $want"
# The text keeps the name on its first line, the newline written as \n.
first=$("$xsig" inspect $p | head -1)
case "$first" in
"pid $p (a\"b\\(c) d:\\n"*) ok "odd comm: text name on one line" ;;
*) fail "odd comm: text first line: $first" ;;
esac

# Threads that start and end all the time, every one with SIGUSR1 blocked: a
# thread that ends between the open and the read of its status file must be
# left out, not shown with empty masks. 300 looks (the race hit about 1 in 25
# here before the fix).
$py -c "
import signal, threading, time
signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGUSR1])
def spin():
    while True:
        ts = [threading.Thread(target=lambda: None) for _ in range(20)]
        for t in ts: t.start()
        for t in ts: t.join()
for _ in range(2): threading.Thread(target=spin, daemon=True).start()
open('$tmp/churn.ready', 'w').close()
time.sleep(300)" &
pids+=($!)
p=$!
ready "$tmp/churn.ready"
got=$($py -c "
import json, subprocess, sys
bad = 0
for _ in range(300):
    j = json.loads(subprocess.run([sys.argv[1], 'inspect', '--json', sys.argv[2]], capture_output=True, check=True).stdout)
    bad += sum('SIGUSR1' not in t['blocked'] for t in j['threads'])
print(bad)" "$xsig" $p 2>&1)
[ "$got" = 0 ] && ok "thread churn: no thread with a lost mask" || fail "thread churn: $got threads shown without their mask"

# --self, errors, list --json.
expect "--self is this xsig" --self "j['name']" xsig
"$xsig" inspect 999999999 2>/dev/null
[ $? -eq 1 ] && ok "no such pid: status 1" || fail "no such pid: status not 1"
"$xsig" inspect abc 2>/dev/null
[ $? -eq 2 ] && ok "bad pid: status 2" || fail "bad pid: status not 2"
got=$("$xsig" list --json | $py -c "import json,sys; j=json.load(sys.stdin); t={s['name']:s for s in j['signals']}; print(j['platform'], t['SIGTERM']['number'], t['SIGTERM']['portable'], t['SIGKILL']['support'])")
[ "$got" = "linux 15 True unsupported" ] && ok "list --json" || fail "list --json: $got"

echo "inspect_test: $passes passed, $failures failed"
[ "$failures" -eq 0 ]
