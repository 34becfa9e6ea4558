#!/usr/bin/env bash
# xsig run side by side with tini: each scenario runs once under `tini --` and
# once under `xsig run --`, both as PID 1 of a new pid namespace
# (unshare --pid --fork --mount-proc), and must give the same exit status and
# the same signals seen by the child (a log it writes), and the value expected.
# Scenarios tini has no option for (--grace, --second-kills, --pdeath) run
# under xsig run only, against the expected value.
#
# Usage: tests/run_compare.sh XSIG_BINARY. Needs root for the pid namespace;
# without one it says so and runs the inits as subreapers instead (tini -s).
# Every wait ends early on success and gives up after 20 s.
set -u
xsig=$1
tini=$(command -v tini) || {
  echo "FAIL: tini is not installed (ci/deps.sh installs the Debian package)"
  exit 1
}
tmp=$(mktemp -d)
pids=()
cleanup() {
  # A namespace's PID 1 is the launcher's child: it goes first.
  for p in "${pids[@]}"; do pkill -KILL -P "$p" 2>/dev/null; kill -KILL "$p" 2>/dev/null; done
  rm -rf "$tmp"
}
trap cleanup EXIT

ns=(unshare --pid --fork --mount-proc)
tini_extra=()
if ! "${ns[@]}" true 2>/dev/null; then
  echo "NOTE: unshare --pid is not possible here (not root?): the inits run as subreapers," \
    "not as PID 1 of a namespace"
  ns=()
  tini_extra=(-s)
fi

failures=0 passes=0
newdir() { mktemp -d "$tmp/s.XXXXXX"; }

# until CMD...: runs CMD every 20 ms until it succeeds; 1 after 20 s.
until_ok() {
  local i
  for ((i = 0; i < 1000; i++)); do
    "$@" && return 0
    sleep 0.02
  done
  echo "  (timed out waiting for: $*)" >&2
  return 1
}
lines() { [ -f "$1" ] && [ "$(wc -l <"$1")" -ge "$2" ]; }

# launch KIND DIR [INIT OPTIONS] -- CMD...: starts CMD under the init in the
# background; L is the launcher's pid (unshare's, or the init's without ns).
launch() {
  local kind=$1 d=$2
  shift 2
  local opts=()
  while [ "$1" != -- ]; do
    opts+=("$1")
    shift
  done
  shift
  local init
  if [ "$kind" = tini ]; then
    init=("$tini" "${tini_extra[@]}" "${opts[@]}" --)
  else
    init=("$xsig" run "${opts[@]}" --)
  fi
  D=$d "${ns[@]}" "${init[@]}" "$@" >"$d/out" 2>"$d/err" &
  L=$!
  pids+=("$L")
}
# The init's pid as this shell sees it.
init_pid() {
  if [ ${#ns[@]} -eq 0 ]; then
    echo "$L"
    return
  fi
  local c
  until_ok eval 'c=$(pgrep -P "$L" | head -1); [ -n "$c" ]' || return 1
  echo "$c"
}
finish() {
  wait "$L"
  rc=$?
}
logof() { [ -f "$1/log" ] && sort "$1/log" | paste -sd, - || echo "-"; }

# A child that loops in an interruptible wait, so traps run at once.
loop='while :; do sleep 0.05 & wait $!; done'

sc_term_caught() {
  local d
  d=$(newdir)
  launch "$1" "$d" -- sh -c "trap 'echo TERM >>\$D/log; exit 0' TERM; touch \$D/ready; $loop"
  until_ok test -e "$d/ready" && kill -TERM "$(init_pid)"
  finish
  echo "rc=$rc log=$(logof "$d")"
}
sc_term_uncaught() {
  local d
  d=$(newdir)
  launch "$1" "$d" -- sh -c 'touch $D/ready; exec sleep 100'
  until_ok test -e "$d/ready" && kill -TERM "$(init_pid)"
  finish
  echo "rc=$rc"
}
# The init's exit status for INIT ARGS..., when the child ends on its own.
rc_of() {
  local d
  d=$(newdir)
  launch "$1" "$d" "${@:2}"
  finish
  echo "rc=$rc"
}
sc_exit3() { rc_of "$1" -- sh -c 'exit 3'; }
sc_exit3_expected() { rc_of "$1" -e 3 -- sh -c 'exit 3'; }
sc_sigkill() { rc_of "$1" -- sh -c 'kill -KILL $$'; }
# The orphan is a zombie of PID 1 (or of the subreaper) once it ends; the
# child waits for it to be gone from /proc, then counts zombies left.
sc_orphan() {
  local d
  d=$(newdir)
  launch "$1" "$d" -- sh -c '
    sh -c "sleep 0.3 & echo \$! >$D/orphan"
    o=$(cat $D/orphan); i=0
    while [ -e /proc/$o ] && [ $i -lt 400 ]; do sleep 0.05; i=$((i+1)); done
    if [ -e /proc/$o ]; then echo "orphan-left:$(grep State /proc/$o/status)" >>$D/log
    else echo orphan-reaped >>$D/log; fi
    z=$(grep -ls "^State:.Z" /proc/[0-9]*/status | wc -l); echo "zombies=$z" >>$D/log'
  finish
  echo "rc=$rc log=$(logof "$d")"
}
sc_exec_missing() {
  local d
  d=$(newdir)
  launch "$1" "$d" -- /nonexistent/program
  finish
  echo "rc=$rc"
}
sc_exec_not_executable() {
  local d
  d=$(newdir)
  printf 'data\n' >"$d/plain"
  chmod 644 "$d/plain"
  launch "$1" "$d" -- "$d/plain"
  finish
  echo "rc=$rc"
}
sc_hup_usr1() {
  local d p
  d=$(newdir)
  launch "$1" "$d" -- sh -c "trap 'echo HUP >>\$D/log' HUP; trap 'echo USR1 >>\$D/log' USR1
    trap 'exit 0' TERM; touch \$D/ready; $loop"
  until_ok test -e "$d/ready" && p=$(init_pid) && kill -HUP "$p" && until_ok lines "$d/log" 1 &&
    kill -USR1 "$p" && until_ok lines "$d/log" 2 && kill -TERM "$p"
  finish
  echo "rc=$rc log=$(logof "$d")"
}
# Two stop signals, both forwarded (no --second-kills, no grace).
sc_two_terms() {
  local d p
  d=$(newdir)
  launch "$1" "$d" -- sh -c "trap 'echo TERM >>\$D/log' TERM; trap 'exit 0' USR1
    touch \$D/ready; $loop"
  until_ok test -e "$d/ready" && p=$(init_pid) && kill -TERM "$p" && until_ok lines "$d/log" 1 &&
    sleep 0.6 && kill -TERM "$p" && until_ok lines "$d/log" 2 && kill -USR1 "$p"
  finish
  echo "rc=$rc log=$(logof "$d")"
}
# group: "-g" or "": a grandchild in the child's group sees USR1 only with -g.
sc_group() {
  local d p opt=()
  d=$(newdir)
  [ "$2" = -g ] && opt=(-g)
  launch "$1" "$d" "${opt[@]}" -- sh -c "
    sh -c \"trap 'echo GRANDCHILD-USR1 >>\\\$D/log; exit 0' USR1; touch \\\$D/gcready; $loop\" &
    trap 'echo CHILD-USR1 >>\$D/log' USR1; trap 'exit 0' TERM; touch \$D/ready; $loop"
  local want=2
  [ "$2" = -g ] || want=1
  until_ok test -e "$d/ready" && until_ok test -e "$d/gcready" && p=$(init_pid) &&
    kill -USR1 "$p" && until_ok lines "$d/log" $want && kill -TERM "$p"
  finish
  echo "rc=$rc log=$(logof "$d")"
}

# Under a pseudo-terminal (script(1)): the child's group is the terminal's
# foreground group, and the child leads it.
sc_tty() {
  local d init
  d=$(newdir)
  cat >"$d/tty.sh" <<'EOS'
pg=$(ps -o pgid= -p $$ | tr -d ' '); tp=$(ps -o tpgid= -p $$ | tr -d ' ')
if [ "$pg" = "$tp" ] && [ "$pg" = $$ ]; then echo fg=yes; else echo "fg=no pgid=$pg tpgid=$tp"; fi
EOS
  if [ "$1" = tini ]; then init="$tini ${tini_extra[*]} --"; else init="$xsig run --"; fi
  script -qec "${ns[*]} $init sh $d/tty.sh" /dev/null </dev/null | tr -d '\r'
}

# Under xsig run only (tini has no such option).
sc_grace() {
  local d
  d=$(newdir)
  launch xsig "$d" --grace 0.5 -- sh -c "trap '' TERM; touch \$D/ready; while :; do sleep 0.05; done"
  until_ok test -e "$d/ready" && kill -TERM "$(init_pid)"
  finish
  echo "rc=$rc"
}
sc_second_kills() {
  local d p
  d=$(newdir)
  launch xsig "$d" --second-kills -- sh -c "trap 'echo TERM >>\$D/log' TERM; touch \$D/ready
    $loop"
  until_ok test -e "$d/ready" && p=$(init_pid) && kill -TERM "$p" && until_ok lines "$d/log" 1 &&
    sleep 0.6 && kill -TERM "$p"
  finish
  echo "rc=$rc log=$(logof "$d")"
}
# The parent of xsig run dies: --pdeath USR1 makes xsig run forward USR1.
sc_pdeath() {
  local d
  d=$(newdir)
  D=$d sh -c '"$1" run --pdeath USR1 -- sh -c "trap \"echo USR1 >>\$D/log; exit 0\" USR1
    touch \$D/ready; while :; do sleep 0.05 & wait \$!; done" &
    while [ ! -e $D/ready ]; do sleep 0.02; done; exit 0' sh "$xsig" >"$d/out" 2>"$d/err" &
  pids+=($!)
  wait $!
  until_ok lines "$d/log" 1
  echo "log=$(logof "$d")"
}

check() { # name expected tini_result xsig_result (tini "-": not compared)
  local name=$1 want=$2 t=$3 x=$4
  if [ "$x" = "$want" ] && { [ "$t" = - ] || [ "$t" = "$want" ]; }; then
    passes=$((passes + 1))
    printf 'ok   %-28s %s\n' "$name" "$x"
  else
    failures=$((failures + 1))
    printf 'FAIL %-28s want %s, tini %s, xsig run %s\n' "$name" "$want" "$t" "$x"
  fi
}
both() { # name expected scenario [args]
  local name=$1 want=$2
  shift 2
  check "$name" "$want" "$("$@" tini)" "$("$@" xsig)"
}
# scenario functions take the kind first
s() { local f=$1 kind=$3; "$f" "$kind" "$2"; }

both term-caught "rc=0 log=TERM" sc_term_caught
both term-uncaught "rc=143" sc_term_uncaught
both exit-3 "rc=3" sc_exit3
both exit-3-with-e-3 "rc=0" sc_exit3_expected
both killed-by-sigkill "rc=137" sc_sigkill
both orphan-reaped "rc=0 log=orphan-reaped,zombies=0" sc_orphan
both exec-missing "rc=127" sc_exec_missing
both exec-not-executable "rc=126" sc_exec_not_executable
both hup-and-usr1-forwarded "rc=0 log=HUP,USR1" sc_hup_usr1
both second-term-forwarded "rc=0 log=TERM,TERM" sc_two_terms
both child-gets-the-terminal "fg=yes" sc_tty
check group-g-reaches-grandchild "rc=0 log=CHILD-USR1,GRANDCHILD-USR1" \
  "$(s sc_group -g tini)" "$(s sc_group -g xsig)"
check no-g-child-only "rc=0 log=CHILD-USR1" "$(s sc_group "" tini)" "$(s sc_group "" xsig)"
check grace-kills-ignorer "rc=137" - "$(sc_grace)"
check second-kills "rc=137 log=TERM" - "$(sc_second_kills)"
check pdeath-forwarded "log=USR1" - "$(sc_pdeath)"

echo "run_compare: $passes passed, $failures failed"
[ "$failures" -eq 0 ]
