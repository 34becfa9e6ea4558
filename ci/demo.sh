#!/usr/bin/env bash
# The README's main job: on a fresh Debian machine, install what the build
# needs, build xsig into build-demo, show this platform's signal table, then a
# short live demo of 'xsig wait' and 'xsig send'. Exits 0 when every step did
# what it should. Usage: ci/demo.sh
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
build=$root/build-demo
jobs=$(nproc 2>/dev/null || echo 2)

bash ci/deps.sh native

echo "=== build (library, xsig tool, examples) into build-demo"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DXSIG_BUILD_TESTS=OFF >/dev/null
cmake --build "$build" -j "$jobs" >/dev/null
xsig=$build/tools/xsig
"$xsig" --version

echo
echo "=== xsig list: every signal this platform knows, and what this process has for it"
"$xsig" list

tmp=$(mktemp -d)
waiter=
cleanup() {
  [ -n "$waiter" ] && kill "$waiter" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT

# Starts 'xsig wait ARGS...' in the background with its stderr on a fifo, and
# returns once it says it is watching: only then is a signal sure to be seen.
start_waiter() {
  mkfifo "$tmp/err"
  "$xsig" wait "$@" >"$tmp/out" 2>"$tmp/err" &
  waiter=$!
  exec 3<"$tmp/err"
  local line
  if ! IFS= read -r -t 10 -u 3 line; then
    echo "demo: 'xsig wait' did not get ready" >&2
    exit 1
  fi
  echo "  [waiter, stderr] $line"
}

# Waits for the background waiter; its exit status goes to $rc.
finish_waiter() {
  rc=0
  wait "$waiter" || rc=$?
  waiter=
  exec 3<&-
  rm -f "$tmp/err"
}

echo
echo "=== live demo 1: a signal from another process, with its sender"
echo "\$ xsig wait USR1 TERM --timeout 10 &"
start_waiter USR1 TERM --timeout 10
pid=$waiter
echo "\$ xsig send $pid USR1"
"$xsig" send "$pid" USR1
finish_waiter
echo "  [waiter, stdout] $(cat "$tmp/out")"
echo "  [waiter, exit status] $rc"
[ "$rc" = 0 ] && grep -Eq '^SIGUSR1 from pid [0-9]+$' "$tmp/out"

echo
echo "=== live demo 2: SIGTERM is caught and reported, not fatal"
echo "\$ xsig wait USR1 TERM --timeout 10 &"
start_waiter USR1 TERM --timeout 10
pid=$waiter
echo "\$ kill -TERM $pid"
kill -TERM "$pid"
finish_waiter
echo "  [waiter, stdout] $(cat "$tmp/out")"
echo "  [waiter, exit status] $rc"
[ "$rc" = 0 ] && grep -Eq "^SIGTERM from pid $$\$" "$tmp/out"

echo
echo "=== live demo 3: nobody sends; the wait times out with status 124"
echo "\$ xsig wait USR2 --timeout 1"
rc=0
"$xsig" wait USR2 --timeout 1 2>&1 | sed 's/^/  /' || rc=${PIPESTATUS[0]}
echo "  [exit status] $rc"
[ "$rc" = 124 ]

echo
echo "=== live demo 4: sending to a process that is gone"
gone=$(sh -c 'echo $$')
echo "\$ xsig send $gone TERM"
rc=0
"$xsig" send "$gone" TERM 2>&1 | sed 's/^/  /' || rc=${PIPESTATUS[0]}
echo "  [exit status] $rc"
[ "$rc" = 1 ]

echo
echo "ci/demo.sh: done"
