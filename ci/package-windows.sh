#!/usr/bin/env bash
# The Windows .zip (CPack ZIP in a mingw-w64 shared build, build-ci/pkg-zip):
# bin/xsig.exe and bin/libxsig.dll, lib/libxsig.dll.a (import library) and
# lib/libxsig.a (static), the headers, pkg-config and CMake files, the manuals.
# Unzipped in a fresh directory, its xsig.exe runs under Wine, and a consumer
# built against it with the DLL and one built with the static library run.
# Uses the Wine prefix of ci/test-wine.sh (run that first, or set
# XSIG_WINEPREFIX). The build is also the Windows build on the C11 atomics
# branch (the Wine suite runs the MSVC one), so it builds the examples too,
# with -Werror; they are not installed. Usage: ci/package-windows.sh.
# Called by ci/test.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
build=$root/build-ci/pkg-zip
jobs=$(nproc 2>/dev/null || echo 2)
start=$(date +%s)
bash ci/deps.sh windows # a no-op when ci/test.sh has run it
cc=x86_64-w64-mingw32-gcc-posix

echo "=== package: windows .zip"
cmake -S "$root" -B "$build" -DCMAKE_TOOLCHAIN_FILE="$root/ci/mingw-w64.cmake" -DCMAKE_BUILD_TYPE=Release \
  -DBUILD_SHARED_LIBS=ON -DXSIG_ALSO_STATIC=ON -DXSIG_BUILD_TESTS=OFF -DXSIG_BUILD_EXAMPLES=ON \
  -DCMAKE_C_FLAGS="-Werror" >/dev/null
cmake --build "$build" -j "$jobs" >/dev/null
rm -f "$build"/*.zip
(cd "$build" && cpack -G ZIP >/dev/null)
ver=$(sed -n 's/^CMAKE_PROJECT_VERSION:STATIC=//p' "$build/CMakeCache.txt")
zip=$build/xsig-$ver-windows-x86_64.zip
[ -f "$zip" ] || { echo "package-windows.sh: no $zip" >&2; exit 1; }
tmp=$(mktemp -d /tmp/xsig-zip-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
python3 -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])' "$zip" "$tmp"
top=$tmp/xsig-$ver-windows-x86_64
for f in bin/xsig.exe bin/libxsig.dll lib/libxsig.dll.a lib/libxsig.a include/xsig/xsig.h \
  include/xsig/lifecycle.h lib/pkgconfig/xsig.pc lib/pkgconfig/xsig-static.pc lib/cmake/xsig/xsigConfig.cmake \
  share/man/man1/xsig.1; do
  [ -f "$top/$f" ] || { echo "package-windows.sh: the zip lacks $f" >&2; exit 1; }
done
# The DLL and the program need nothing from mingw beside them.
for f in bin/xsig.exe bin/libxsig.dll; do
  deps=$(x86_64-w64-mingw32-objdump -p "$top/$f" | awk '/DLL Name:/ { print tolower($3) }' | sort -u | tr '\n' ' ')
  case "$deps" in
    *libgcc* | *libwinpthread* | *libstdc*) echo "package-windows.sh: $f needs $deps" >&2; exit 1 ;;
  esac
done
imports() { x86_64-w64-mingw32-objdump -p "$1" | awk '/DLL Name:/ { print $3 }'; }
[[ $'\n'$(imports "$top/bin/xsig.exe")$'\n' == *$'\nlibxsig.dll\n'* ]] ||
  { echo "package-windows.sh: xsig.exe does not use libxsig.dll" >&2; exit 1; }

cat >"$tmp/consumer.c" <<'EOF'
#include <xsig/xsig.h>
#include <stdio.h>
#include <string.h>

static int got;

static void on_int(const xsig_event_t *ev, void *user) {
  (void)user;
  got += ev->signum == SIGINT;
}

int main(void) {
  char want[32];
  snprintf(want, sizeof want, "%d.%d.%d", XSIG_VERSION_MAJOR, XSIG_VERSION_MINOR, XSIG_VERSION_PATCH);
  if (strcmp(xsig_version(), want) != 0) return 9;
  if (xsig_init() != 0) return 10;
  if (xsig_watch(NULL, SIGINT, on_int, NULL, 0, NULL) != 0) return 11;
  if (xsig_raise(SIGINT) != 0) return 12;
  if (xsig_wait(NULL, 10000) != 1 || got != 1) return 13;
  xsig_shutdown();
  printf("consumer ok %s %s\n", xsig_version(), xsig_platform());
  return 0;
}
EOF
# Beside the DLL, as a Windows program finds it.
# The flags come from the zip's own .pc files (xsig: the DLL, with
# XSIG_SHARED; xsig-static: libxsig.a and its system libraries).
pc() { PKG_CONFIG_LIBDIR=$top/lib/pkgconfig PKG_CONFIG_PATH= pkg-config "$@"; }
# shellcheck disable=SC2046
$cc -std=c11 -Wall -Werror -o "$top/bin/consumer-dll.exe" "$tmp/consumer.c" $(pc --cflags --libs xsig) \
  -static-libgcc
# shellcheck disable=SC2046
$cc -std=c11 -Wall -Werror -o "$tmp/consumer-static.exe" "$tmp/consumer.c" $(pc --cflags --libs xsig-static) -static
[[ $'\n'$(imports "$top/bin/consumer-dll.exe")$'\n' == *$'\nlibxsig.dll\n'* ]] ||
  { echo "package-windows.sh: consumer-dll.exe does not use libxsig.dll" >&2; exit 1; }

export WINEPREFIX=${XSIG_WINEPREFIX:-$root/build-ci/mingw/wineprefix}
export WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml=" TERM=dumb
unset DISPLAY WAYLAND_DISPLAY
[ -d "$WINEPREFIX" ] || { echo "package-windows.sh: no Wine prefix $WINEPREFIX (run ci/test-wine.sh)" >&2; exit 1; }
wineserver -k >/dev/null 2>&1 || true
wineserver -p
trap 'wineserver -k >/dev/null 2>&1 || true; rm -rf "$tmp"' EXIT
wine cmd /c exit >/dev/null 2>&1 || true
check() { # want command...
  local want=$1 out
  shift
  out=$(timeout 120 wine "$@" </dev/null 2>"$tmp/stderr" | tr -d '\r') ||
    { echo "package-windows.sh: $* failed: $out $(cat "$tmp/stderr")" >&2; exit 1; }
  [ "$out" = "$want" ] ||
    { echo "package-windows.sh: $* said '$out', want '$want' ($(cat "$tmp/stderr"))" >&2; exit 1; }
}
check "xsig $ver (windows)" "$top/bin/xsig.exe" --version
check "consumer ok $ver windows" "$top/bin/consumer-dll.exe"
check "consumer ok $ver windows" "$tmp/consumer-static.exe"
echo "ci/package-windows.sh: passed in $(($(date +%s) - start)) s"
