#!/usr/bin/env bash
# The portability matrix of ci/test.sh (README "Platforms" says what each row
# proves). Each row builds the library, the CLI, the examples and the plain C
# test (tests/portable) with -Werror, then runs the C test, which also drives
# the CLI end to end:
#   musl      musl-gcc, static, x86-64: the fast wait path must run
#   aarch64   gcc-aarch64-linux-gnu, static, under qemu-aarch64: fast path
#   i686      gcc-i686-linux-gnu, static, under qemu-i386 (this machine runs
#             no 32-bit ELF natively): the portable poll() path, by design
#   nolinux   gcc with __linux__ undefined, the code path macOS and the BSDs
#             take (pipe + fcntl, no wiped page, no fast wait), run here
#   strict    every file of src/common and src/posix compiled alone with
#             -std=c11 -D_POSIX_C_SOURCE=200809L and only the visibility
#             src/common/xsig_features.h declares, by gcc, clang and musl-gcc;
#             the C test then runs against the library gcc made that way
# qemu-user ignores MADV_WIPEONFORK and SS_AUTODISARM, so nothing here depends
# on them (the native GoogleTest suite covers both). The Windows rows (x86-64
# with the MSVC atomics forced on, i686 build) are in ci/test-wine.sh.
# Usage: ci/test-ports.sh
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
out=$root/build-ci/ports
jobs=$(nproc 2>/dev/null || echo 2)

bash ci/deps.sh ports
mkdir -p "$out"
start=$(date +%s)

# name cc flags emulator expected-wait [cmake args...]
rows=(
  "musl|musl-gcc||fast"
  "aarch64|aarch64-linux-gnu-gcc||fast|qemu-aarch64"
  "i686|i686-linux-gnu-gcc||portable|qemu-i386"
  "nolinux|gcc|-U__linux__|portable"
)

build_row() { # name cc flags wait emu
  # The integration examples (libuv, libevent, C++) need the host's libraries
  # and C++ compiler, which these C library builds cannot link: left out.
  local name=$1 cc=$2 flags=$3 emu=${5:-} dir=$out/$1 cross=()
  if [ -n "$emu" ]; then
    cross=(-DCMAKE_SYSTEM_NAME=Linux -DCMAKE_SYSTEM_PROCESSOR="${name}"
      -DCMAKE_CROSSCOMPILING_EMULATOR="$emu")
  fi
  cmake -S "$root" -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_COMPILER="$cc" \
    "${cross[@]}" -DCMAKE_C_FLAGS="$flags -Werror" -DCMAKE_EXE_LINKER_FLAGS=-static \
    -DXSIG_BUILD_TESTS=OFF -DXSIG_BUILD_PORTABLE_TEST=ON --no-warn-unused-cli \
    -DCMAKE_DISABLE_FIND_PACKAGE_PkgConfig=ON -DCMAKE_CXX_COMPILER=NOTFOUND >"$dir.log" 2>&1 &&
    cmake --build "$dir" -j 1 >>"$dir.log" 2>&1
}

run_row() { # name cc flags wait emu
  local name=$1 wait=$4 emu=${5:-} dir=$out/$1 pre=() args=()
  [ -n "$emu" ] && pre=("$emu") && args=(--emu "$emu")
  local test=$dir/tests/portable/portable_test
  if [ "$name" = strict ]; then
    test=$dir/portable_test # the CLI is the other rows' business
  else
    args+=(--cli "$dir/tools/xsig")
  fi
  "${pre[@]}" "$test" "${args[@]}" --expect-wait "$wait" >"$dir.run" 2>&1
}

# Every file alone, as a strict build would compile it. gcc's objects become a
# library that the C test then runs against: with the sizes from NSIG, such a
# build had 32 signals in five files and 65 in two, and lost the realtime range.
strict() {
  local fail=0 d=$out/strict
  mkdir -p "$d"
  rm -f "$d"/*.o "$d/libxsig.a"
  for cc in gcc clang musl-gcc; do
    for f in src/common/*.c src/posix/*.c; do
      local o=(-fsyntax-only)
      [ "$cc" = gcc ] && o=(-c -o "$d/$(basename "$f" .c).o")
      "$cc" -std=c11 -D_POSIX_C_SOURCE=200809L -Wall -Wextra -Wpedantic -Werror \
        -DXSIG_BUILDING -Iinclude "${o[@]}" "$f" || { echo "strict: $cc $f" >&2; fail=1; }
    done
  done
  [ $fail -eq 0 ] || return 1
  ar rcs "$d/libxsig.a" "$d"/*.o
  gcc -std=c11 -Wall -Wextra -Werror -Iinclude tests/portable/portable_test.c "$d/libxsig.a" \
    -lpthread -o "$d/portable_test"
}

# Builds: every row at once, one job each (2 cores: they interleave).
pids=()
for r in "${rows[@]}"; do
  IFS='|' read -r name cc flags wait emu <<<"$r"
  build_row "$name" "$cc" "$flags" "$wait" "$emu" &
  pids+=($!)
done
t=$(date +%s)
strict_rc=0
strict >"$out/strict.log" 2>&1 || strict_rc=$?
strict_s=$(($(date +%s) - t))
i=0
for r in "${rows[@]}"; do
  IFS='|' read -r name _ <<<"$r"
  if ! wait "${pids[$i]}"; then
    echo "ci/test-ports.sh: $name: build failed" >&2
    tail -40 "$out/$name.log" >&2
    exit 1
  fi
  i=$((i + 1))
done
built=$(($(date +%s) - start))
echo "=== ports: built ${#rows[@]} rows in ${built}s (strict compile ${strict_s}s)"
if [ $strict_rc -ne 0 ]; then
  echo "ci/test-ports.sh: strict POSIX compile failed" >&2
  cat "$out/strict.log" >&2
  exit 1
fi
echo "=== ports: strict: $(ls src/common/*.c src/posix/*.c | wc -l) files x gcc, clang, musl-gcc: ok"
rows+=("strict|gcc||fast")

# Runs: all at once too; each test waits on events with generous time-outs.
pids=()
for r in "${rows[@]}"; do
  IFS='|' read -r name cc flags wait emu <<<"$r"
  (
    t=$(date +%s)
    rc=0
    run_row "$name" "$cc" "$flags" "$wait" "$emu" || rc=$?
    echo "$rc $(($(date +%s) - t))" >"$out/$name.rc"
  ) &
  pids+=($!)
done
wait "${pids[@]}"
failed=0
for r in "${rows[@]}"; do
  IFS='|' read -r name _ <<<"$r"
  read -r rc secs <"$out/$name.rc"
  path=$(grep -m1 '^wait path:' "$out/$name.run" || echo "wait path: ?")
  if [ "$rc" -eq 0 ]; then
    echo "=== ports: $name: passed in ${secs}s; $path"
  else
    echo "=== ports: $name: FAILED (exit $rc) in ${secs}s" >&2
    cat "$out/$name.run" >&2
    failed=1
  fi
done
[ $failed -eq 0 ] || exit 1
echo "ci/test-ports.sh: all rows passed in $(($(date +%s) - start))s"
