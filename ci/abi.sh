#!/usr/bin/env bash
# The ABI check: libxsig.so against the committed baseline abi/xsig.abi, with
# libabigail's abidiff (Debian: abigail-tools). See docs/ABI.md.
#
#   ci/abi.sh [LIB.so]           compare; fails on an incompatible change
#   ci/abi.sh --update [LIB.so]  write abi/xsig.abi from LIB.so (commit it)
#
# Without LIB.so it builds one: RelWithDebInfo, shared, in build-ci/abi (the
# baseline must come from such a build: abidw reads the DWARF).
#
# Fails on an incompatible change unless the soname changed too, as it must
# for such a release. abidiff sets exit bit 8 (ABIDIFF_ABI_INCOMPATIBLE_CHANGE)
# only for what is incompatible whatever the callers do (a removed function);
# a public struct that changed size, a changed parameter or return type set
# bit 4 only (ABIDIFF_ABI_CHANGE, "review it"). So this script fails on bit 8
# and on any removed or changed function or variable that abidiff reports,
# and passes when the report holds additions only (a new function; a new enum
# value at the end, which abidiff files as harmless). Types defined outside
# include/xsig (struct xsig_ctx behind the opaque xsig_ctx_t) are private:
# --headers-dir filters their changes. An abidiff error (bits 1, 2) fails.
set -euo pipefail
update=0
if [ "${1:-}" = --update ]; then update=1; shift; fi
lib=${1:-}
[ -z "$lib" ] || lib=$(readlink -f "$lib")
cd "$(dirname "$0")/.."
root=$PWD
baseline=$root/abi/xsig.abi

if [ -z "$lib" ]; then
  build=$root/build-ci/abi
  cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBUILD_SHARED_LIBS=ON \
    -DXSIG_BUILD_TESTS=OFF -DXSIG_BUILD_TOOLS=OFF -DXSIG_BUILD_EXAMPLES=OFF >/dev/null
  cmake --build "$build" -j "$(nproc 2>/dev/null || echo 2)" --target xsig >/dev/null
  lib=$build/libxsig.so
fi
lib=$(readlink -f "$lib")
# Only the public headers' types are the ABI; the rest is private.
headers=(--headers-dir "$root/include/xsig")
soname_of_lib() { objdump -p "$1" | awk '$1 == "SONAME" { print $2 }'; }

if [ $update = 1 ]; then
  mkdir -p "$(dirname "$baseline")"
  # No corpus path (the build directory). The source locations stay: abidiff
  # needs them to tell public types (include/xsig) from private ones.
  abidw --no-corpus-path "${headers[@]}" --out-file "$baseline" "$lib"
  echo "abi.sh: wrote $baseline from $lib ($(soname_of_lib "$lib")); commit it"
  exit 0
fi

[ -f "$baseline" ] || { echo "abi.sh: no baseline $baseline (ci/abi.sh --update makes it)" >&2; exit 1; }
old_soname=$(sed -n "s/.*<abi-corpus [^>]*soname='\([^']*\)'.*/\1/p" "$baseline" | head -1)
new_soname=$(soname_of_lib "$lib")
rc=0
report=$(abidiff --no-show-locs "${headers[@]/--headers-dir/--headers-dir1}" \
  "${headers[@]/--headers-dir/--headers-dir2}" "$baseline" "$lib") || rc=$?
echo "abi.sh: $lib ($new_soname) against abi/xsig.abi ($old_soname): abidiff status $rc"
if [ -n "$report" ]; then echo "$report"; fi
if [ $((rc & 3)) -ne 0 ]; then
  echo "abi.sh: abidiff failed (status $rc)" >&2
  exit 1
fi
# "Functions changes summary: 0 Removed, 1 Changed (10 filtered out), 2 Added
# functions", the same for variables and for symbols without debug info.
count() { # word
  { echo "$report" | grep -E '^(Functions|Variables|Function symbols|Variable symbols) changes summary:' |
    grep -oE "[0-9]+ $1" || true; } | awk '{ n += $1 } END { print n + 0 }'
}
removed=$(count Removed)
changed=$(count Changed)
if [ $((rc & 8)) -ne 0 ] || [ "$removed" -gt 0 ] || [ "$changed" -gt 0 ]; then
  if [ "$old_soname" != "$new_soname" ]; then
    echo "abi.sh: incompatible change, and the soname changed ($old_soname -> $new_soname): allowed;" \
      "run ci/abi.sh --update for the new baseline"
    exit 0
  fi
  echo "abi.sh: INCOMPATIBLE ABI change ($removed removed, $changed changed) with the same soname" \
    "$new_soname. Keep the old ABI, or bump XSIG_VERSION_MAJOR (the soname) and run" \
    "ci/abi.sh --update (docs/ABI.md)" >&2
  exit 1
fi
if [ $((rc & 4)) -ne 0 ]; then
  echo "abi.sh: compatible ABI change (additions only): passes; ci/abi.sh --update records it"
else
  echo "abi.sh: no ABI change"
fi
