#!/usr/bin/env bash
# The soak (tests/soak/soak.c) for SOAK_SECONDS (default 60) under
# AddressSanitizer+LeakSanitizer (gcc) and ThreadSanitizer (clang) at once,
# one per core. It reuses ci/test.sh's build-ci/gcc-asan and
# build-ci/clang-tsan when they exist (only the soak target is built there),
# and otherwise configures build-ci/soak-asan and build-ci/soak-tsan.
# Usage: ci/soak.sh
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
secs=${SOAK_SECONDS:-60}

build() { # mode: prints the binary's path
  local mode=$1 cc cxx flags dir
  if [ "$mode" = asan ]; then
    cc=gcc cxx=g++ dir=$root/build-ci/gcc-asan
    flags="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
  else
    cc=clang cxx=clang++ dir=$root/build-ci/clang-tsan flags="-fsanitize=thread"
  fi
  if [ ! -f "$dir/CMakeCache.txt" ]; then
    dir=$root/build-ci/soak-$mode
    cmake -S "$root" -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DCMAKE_C_COMPILER="$cc" -DCMAKE_CXX_COMPILER="$cxx" \
      -DCMAKE_C_FLAGS="$flags -Werror" -DCMAKE_CXX_FLAGS="$flags" \
      -DCMAKE_EXE_LINKER_FLAGS="$flags" -DCMAKE_SHARED_LINKER_FLAGS="$flags" >/dev/null
  fi
  cmake --build "$dir" --target xsig_soak -j 2 >/dev/null
  echo "$dir/tests/xsig_soak"
}

start=$(date +%s)
asan=$(build asan)
tsan=$(build tsan)
echo "=== soak: ${secs}s under ASan and under TSan (built in $(($(date +%s) - start)) s)"
out=$root/build-ci/soak-logs
mkdir -p "$out"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
  "$asan" "$secs" >"$out/asan.log" 2>&1 &
pa=$!
# ThreadSanitizer needs the address layout it was built for (see ci/test.sh).
TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" \
  setarch "$(uname -m)" -R "$tsan" "$secs" >"$out/tsan.log" 2>&1 &
pt=$!
st=0
wait $pa || { st=1; echo "--- soak under ASan FAILED:"; }
cat "$out/asan.log"
wait $pt || { st=1; echo "--- soak under TSan FAILED:"; }
cat "$out/tsan.log"
echo "ci/soak.sh: $( [ $st -eq 0 ] && echo passed || echo FAILED ) in $(($(date +%s) - start)) s"
exit $st
