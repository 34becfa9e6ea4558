#!/usr/bin/env bash
# The Windows half of ci/test.sh: cross-builds everything with mingw-w64 into
# build-ci/mingw, runs the GoogleTest suite under Wine through ctest, then the
# Windows soak, then checks under a pseudo-terminal that a real Ctrl+C reaches
# a console that Wine attaches to a Unix terminal, and that `xsig list` prints
# the Windows table.
# docs/WINDOWS.md explains each step. Usage: ci/test-wine.sh
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
dir=$root/build-ci/mingw
jobs=$(nproc 2>/dev/null || echo 2)
# The C++ tests' flags (ci/test.sh explains them); the C code keeps -O2 -g.
test_cxx=${XSIG_TEST_CXX_FLAGS:--O1 -g1 -DNDEBUG}

bash ci/deps.sh windows

# A prefix of our own, made on first use (about 10 s), headless: no X display,
# no Gecko or Mono download prompts. TERM=dumb keeps the console's escapes few.
export WINEPREFIX=${XSIG_WINEPREFIX:-$dir/wineprefix}
export WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml=" TERM=dumb
unset DISPLAY WAYLAND_DISPLAY
mkdir -p "$WINEPREFIX"

# One persistent wineserver for the whole run: later starts are fast, and the
# helper processes Wine starts once per prefix (services, explorer) are up
# before ctest, so they never hold a test's output pipe open.
wineserver -k >/dev/null 2>&1 || true
wineserver -p
trap 'wineserver -k >/dev/null 2>&1 || true' EXIT
wineboot -i >/dev/null 2>&1
# The null graphics driver: windows without a display, for the test that
# sends logoff/shutdown to a hidden window (wineboot --end-session). Then a
# fresh server, so that the prefix's services start once, with that setting.
wine reg add 'HKCU\Software\Wine\Drivers' /v Graphics /d null /f >/dev/null 2>&1
wineserver -k >/dev/null 2>&1 || true
wineserver -p
wine cmd /c exit >/dev/null 2>&1 || true

# The suite runs once, on the code MSVC would compile: XSIG_FORCE_MSVC_ATOMICS
# puts src/common/xsig_atomic.h on its Interlocked*/_BitScanForward branch
# (mingw-w64 has the same intrinsics). The C11 <stdatomic.h> branch is the one
# the native Linux suites run; on Windows ci/package-windows.sh builds it
# (library, CLI and examples, -Werror) for the .zip and runs its programs.
echo "=== windows: mingw-w64 + wine $(wine --version 2>/dev/null), MSVC atomics forced"
cmake -S "$root" -B "$dir" -DCMAKE_TOOLCHAIN_FILE="$root/ci/mingw-w64.cmake" \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="$test_cxx" -DCMAKE_C_FLAGS="-Werror -DXSIG_FORCE_MSVC_ATOMICS" >/dev/null
cmake --build "$dir" -j "$jobs" >/dev/null
(cd "$dir" && ctest -j "$jobs" --output-on-failure --timeout 300)

# The Windows soak (tests/soak/soak_win32.c): churn under mailbox and
# in-process floods for XSIG_WIN_SOAK_SECONDS (default 60, as the POSIX soak; about 62 s of wall
# time). Its output goes to a file, not a pipe, so that no child of it can
# keep this script waiting.
echo "=== windows: soak, ${XSIG_WIN_SOAK_SECONDS:-60} s"
soak_log=$dir/soak.log
soak_start=$(date +%s)
if ! wine "$dir/tests/xsig_soak_win32.exe" "${XSIG_WIN_SOAK_SECONDS:-60}" >"$soak_log" 2>&1 </dev/null; then
  cat "$soak_log"
  echo "ci/test-wine.sh: the Windows soak FAILED" >&2
  exit 1
fi
cat "$soak_log"
echo "windows soak: $(($(date +%s) - soak_start)) s"

# 32-bit: the library, the CLI and the examples, with the same flags. The
# test programs are not built: Debian's wine64 without the i386 wine32
# package cannot start them, and their build took a minute and a half of the
# CI budget. When this Wine can start 32-bit programs, xsig.exe list runs.
# CI does not install wine32: on Debian 12 it needs `dpkg --add-architecture
# i386` and 168 packages (150 MB to fetch, 732 MB on disk; measured: 15 s for
# the i386 package lists, 28 s to download), and multiarch then upgrades some
# 60 amd64 packages (systemd, openssl...) to match, which a shared CI machine
# should not take. A second full Windows suite would not fit the time budget
# either (docs/WINDOWS.md).
echo "=== windows: i686 build"
dir32=$root/build-ci/mingw32
cmake -S "$root" -B "$dir32" -DCMAKE_TOOLCHAIN_FILE="$root/ci/mingw-w64.cmake" -DXSIG_MINGW_ARCH=i686 \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_FLAGS=-Werror -DXSIG_BUILD_TESTS=OFF >/dev/null
cmake --build "$dir32" -j "$jobs" >/dev/null
# And the MSVC branch on 32-bit, where its 64-bit counters take cmpxchg8b.
printf '%s\n' src/common/*.c src/win32/*.c |
  xargs -P "$jobs" -I{} i686-w64-mingw32-gcc-posix -std=c11 -Wall -Wextra -Wpedantic -Werror \
    -DXSIG_FORCE_MSVC_ATOMICS -DXSIG_BUILDING -D_POSIX_C_SOURCE=200809L -Iinclude -fsyntax-only {}
if wine "$dir32/tools/xsig.exe" --version >/dev/null 2>&1; then
  wine "$dir32/tools/xsig.exe" list
else
  echo "i686 built; not run: this Wine cannot start 32-bit programs"
fi

# Under a pseudo-terminal Wine gives the process a console bound to the
# terminal. Its output then carries cursor escapes: a space is drawn as ESC[1C.
clean() {
  python3 -c '
import re, sys
s = sys.stdin.buffer.read().decode("utf-8", "replace")
s = re.sub(r"\x1b\[(\d*)C", lambda m: " " * int(m.group(1) or 1), s)
s = re.sub(r"\x1b\][^\x07]*\x07", "", s)
s = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", s)
sys.stdout.write(s.replace("\r", ""))'
}
in_pty() { # command... ; prints the cleaned output, returns the command's status
  local raw cmd rc=0
  raw=$(mktemp)
  cmd=$(printf '%q ' "$@")
  script -qec "$cmd" /dev/null >"$raw" </dev/null || rc=$?
  clean <"$raw"
  rm -f "$raw"
  return $rc
}
fail() {
  echo "ci/test-wine.sh: $1" >&2
  printf '%s\n' "$2" >&2
  exit 1
}

echo "=== windows: real Ctrl+C on a console under a pseudo-terminal"
out=$(in_pty wine "$dir/tests/win32_child.exe" ctrlc) || fail "win32_child ctrlc failed" "$out"
grep -q "SIGINT count=1 source=1 native=0" <<<"$out" || fail "no SIGINT callback" "$out"
grep -q "alive sigint=1" <<<"$out" || fail "did not live on after Ctrl+C" "$out"

echo "=== windows: xsig list"
out=$(in_pty wine "$dir/tools/xsig.exe" list) || fail "xsig list failed" "$out"
for row in "SIGINT +2 +native +yes" "SIGTERM +15 +emulated +yes" "SIGBREAK +21 +native +no" \
  "SIGHUP +1 +emulated +no" "SIGUSR1 +10 +emulated +no" "SIGKILL +9 +unsupported +no"; do
  grep -Eq "^$row" <<<"$out" || fail "xsig list lacks /$row/" "$out"
done
grep -q "^# service: no" <<<"$out" || fail "xsig list does not say it is no service" "$out"
echo "ci/test-wine.sh: windows suite passed"
