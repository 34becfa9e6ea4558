#!/usr/bin/env bash
# Installs the Debian packages given (libxsig0, libxsig-dev, xsig .deb files)
# with dpkg -i on this machine, builds a consumer against the installed files
# with pkg-config and with find_package, runs it and the installed CLI, then
# removes the packages with dpkg -r and checks that nothing is left. Needs
# root. The packages are removed on every way out (a failure, Ctrl+C, a kill
# by TERM), and a lock keeps two runs on one machine (two worktrees, two CI
# jobs) from installing over each other. A system that already has these
# packages is left alone: the script refuses to run there.
#
# Usage: ci/dpkg-test.sh libxsig0_*.deb libxsig-dev_*.deb xsig_*.deb
set -euo pipefail
[ $# -eq 3 ] || { echo "usage: ci/dpkg-test.sh LIB.deb DEV.deb CLI.deb" >&2; exit 2; }
[ "$(id -u)" -eq 0 ] || { echo "dpkg-test.sh: needs root (dpkg -i)" >&2; exit 2; }
pkgs=(xsig libxsig-dev libxsig0) # removal order: dependents first
debs=("$@")
ver=$(dpkg-deb -f "${debs[0]}" Version)

# One run at a time on this machine; the lock goes with the process.
# Polled, not flock -w: that needs a POSIX timer, which fails (EAGAIN) when
# the user's queued-signal limit is used up, as a signal flood test can do.
exec 9>/var/lock/xsig-dpkg-test.lock
for ((i = 0; ; i++)); do
  flock -n 9 && break
  [ $i -lt 600 ] || { echo "dpkg-test.sh: another run held the lock for 10 minutes" >&2; exit 1; }
  sleep 1
done

installed() { dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null | grep -q '^installed$'; }
for p in "${pkgs[@]}"; do
  if dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -qv 'not-installed'; then
    echo "dpkg-test.sh: $p is already on this system ($(dpkg-query -W -f='${Version} ${Status}' "$p")):" \
      "not touching it; remove it first (dpkg -P $p) to run this test" >&2
    exit 1
  fi
done

tmp=$(mktemp -d /tmp/xsig-dpkg-XXXXXX)
cleanup() {
  local rc=$?
  trap - EXIT INT TERM HUP
  # dpkg -r of a package that is half-installed still works; -P also drops
  # its configuration state so the next run starts from nothing.
  for p in "${pkgs[@]}"; do
    dpkg-query -W "$p" >/dev/null 2>&1 && dpkg -P "$p" >/dev/null 2>&1 || true
  done
  rm -rf "$tmp"
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

dpkg -i "${debs[@]}" >"$tmp/dpkg-i.log" 2>&1 || { cat "$tmp/dpkg-i.log" >&2; exit 1; }
for p in "${pkgs[@]}"; do
  installed "$p" || { echo "dpkg-test.sh: $p is not installed after dpkg -i" >&2; exit 1; }
done
multi=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || gcc -print-multiarch)
so=/usr/lib/$multi/libxsig.so.0

cat >"$tmp/consumer.c" <<'EOF'
#define _POSIX_C_SOURCE 200809L
#include <xsig/xsig.h>
#include <xsig/lifecycle.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int got;

static void on_usr1(const xsig_event_t *ev, void *user) {
  (void)user;
  got += ev->signum == SIGUSR1 && ev->sender_pid == (int64_t)getpid();
}

int main(void) {
  char want[32];
  snprintf(want, sizeof want, "%d.%d.%d", XSIG_VERSION_MAJOR, XSIG_VERSION_MINOR, XSIG_VERSION_PATCH);
  if (strcmp(xsig_version(), want) != 0) return 9;
  if (xsig_init() != 0) return 10;
  if (xsig_watch(NULL, SIGUSR1, on_usr1, NULL, 0, NULL) != 0) return 11;
  if (xsig_raise(SIGUSR1) != 0) return 12;
  if (xsig_wait(NULL, 10000) != 1 || got != 1) return 13;
  xsig_shutdown();
  if (xsig_disposition(SIGUSR1) != XSIG_DISP_DEFAULT) return 14;
  if (xsig_notify("READY=1") != 0) return 15; /* no NOTIFY_SOCKET here */
  printf("consumer ok %s\n", xsig_version());
  return 0;
}
EOF
cat >"$tmp/CMakeLists.txt" <<EOF
cmake_minimum_required(VERSION 3.20)
project(xsig_consumer LANGUAGES C)
find_package(xsig ${ver%%-*} EXACT CONFIG REQUIRED)
add_executable(consumer consumer.c)
target_link_libraries(consumer PRIVATE xsig::xsig)
add_executable(consumer_static consumer.c)
target_link_libraries(consumer_static PRIVATE xsig::xsig_static)
EOF
# Nothing of a caller's environment may point the consumer elsewhere.
unset PKG_CONFIG_PATH PKG_CONFIG_LIBDIR CMAKE_PREFIX_PATH CFLAGS LDFLAGS CC MAKEFLAGS DESTDIR
want="consumer ok ${ver%%-*}"
run() { # exe
  local out
  out=$("$1") || { echo "dpkg-test.sh: $1 failed ($?)" >&2; exit 1; }
  [ "$out" = "$want" ] || { echo "dpkg-test.sh: $1 said '$out'" >&2; exit 1; }
}
uses_system_lib() { # exe; /lib may be a link to /usr/lib (merged /usr): compare real paths
  local got
  got=$(ldd "$1" | awk '$1 == "libxsig.so.0" { print $3 }')
  [ -n "$got" ] && [ "$(readlink -f "$got")" = "$(readlink -f "$so")" ] ||
    { ldd "$1" >&2; echo "dpkg-test.sh: $1 does not use $so" >&2; exit 1; }
}
not_shared() { # exe: linked with libxsig.a
  local libs
  libs=$(ldd "$1")
  if grep -q libxsig <<<"$libs"; then echo "dpkg-test.sh: $1 links libxsig.so" >&2; exit 1; fi
}

# pkg-config finds the system .pc with no path given: the -dev package put it
# where pkg-config looks.
[ "$(pkg-config --modversion xsig)" = "${ver%%-*}" ] || { echo "dpkg-test.sh: pkg-config version" >&2; exit 1; }
# shellcheck disable=SC2046
cc -std=c11 -Wall -Werror -o "$tmp/consumer-pc" "$tmp/consumer.c" $(pkg-config --cflags --libs xsig)
uses_system_lib "$tmp/consumer-pc"
run "$tmp/consumer-pc"
# shellcheck disable=SC2046
cc -std=c11 -Wall -Werror -o "$tmp/consumer-pc-static" "$tmp/consumer.c" $(pkg-config --cflags --libs xsig-static)
not_shared "$tmp/consumer-pc-static"
run "$tmp/consumer-pc-static"

cmake -S "$tmp" -B "$tmp/build" >"$tmp/cmake.log" 2>&1 || { cat "$tmp/cmake.log" >&2; exit 1; }
cmake --build "$tmp/build" >"$tmp/build.log" 2>&1 || { cat "$tmp/build.log" >&2; exit 1; }
uses_system_lib "$tmp/build/consumer"
run "$tmp/build/consumer"
not_shared "$tmp/build/consumer_static"
run "$tmp/build/consumer_static"

# The installed CLI: found on PATH, runs with the system library, has its manual.
[ "$(command -v xsig)" = /usr/bin/xsig ] || { echo "dpkg-test.sh: xsig is not /usr/bin/xsig" >&2; exit 1; }
uses_system_lib /usr/bin/xsig
xsig --version | grep -q "^xsig ${ver%%-*} " || { echo "dpkg-test.sh: xsig --version" >&2; exit 1; }
names=$(xsig names)
grep -qw SIGTERM <<<"$names" || { echo "dpkg-test.sh: xsig names" >&2; exit 1; }
for m in man1/xsig.1 man3/xsig.3 man3/xsig-lifecycle.3; do
  [ -s "/usr/share/man/$m" ] || { echo "dpkg-test.sh: no /usr/share/man/$m" >&2; exit 1; }
done

# Removal: dependents first, as dpkg insists; then nothing of ours remains.
files=$(dpkg -L "${pkgs[@]}" | sort -u)
dpkg -r "${pkgs[@]}" >"$tmp/dpkg-r.log" 2>&1 || { cat "$tmp/dpkg-r.log" >&2; exit 1; }
for p in "${pkgs[@]}"; do
  installed "$p" && { echo "dpkg-test.sh: $p still installed after dpkg -r" >&2; exit 1; }
done
while read -r f; do
  [ -d "$f" ] && continue
  [ -e "$f" ] || [ -L "$f" ] || continue
  echo "dpkg-test.sh: $f is left after dpkg -r" >&2
  exit 1
done <<<"$files"
echo "dpkg-test.sh: installed, consumed (pkg-config, find_package, static) and removed ${ver}"
