#!/usr/bin/env bash
# Every test: the native suite with gcc plain, gcc with
# AddressSanitizer+UndefinedBehaviorSanitizer, clang with ThreadSanitizer; the
# portability matrix (ci/test-ports.sh); the hardening steps (ci/valgrind.sh,
# ci/fuzz.sh, ci/soak.sh); then the Windows build under Wine. Usage:
#   ci/test.sh [--native-only|--windows-only|--valgrind|--fuzz|--soak]
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
what=${1:-all}
jobs=$(nproc 2>/dev/null || echo 2)

case "$what" in
  --valgrind | --fuzz | --soak)
    bash ci/deps.sh native hardening
    bash "ci/${what#--}.sh"
    exit 0
    ;;
esac

sets=(native hardening); [ "$what" = --native-only ] || sets+=(windows)
bash ci/deps.sh "${sets[@]}"

# The library (C) builds as users build it, -O2 -g. The C++ test programs and
# GoogleTest build at -O1 with line tables only: that halves the compile time
# that dominates each build (22 s against 11 s for core_test.cc, measured).
test_cxx="-O1 -g1 -DNDEBUG"
export XSIG_TEST_CXX_FLAGS=$test_cxx # for ci/test-wine.sh

run_native() { # compiler mode
  local cc=$1 mode=$2 cxx flags="" dir="$root/build-ci/$1-$2"
  [ "$cc" = gcc ] && cxx=g++ || cxx=clang++
  case "$mode" in
    asan) flags="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer" ;;
    tsan) flags="-fsanitize=thread" ;;
  esac
  echo "=== native: $cc $mode"
  cmake -S "$root" -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_C_COMPILER="$cc" -DCMAKE_CXX_COMPILER="$cxx" -DXSIG_REQUIRE_INTEGRATIONS=ON \
    -DCMAKE_C_FLAGS="$flags -Werror" -DCMAKE_CXX_FLAGS="$flags" \
    -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="$test_cxx" \
    -DCMAKE_EXE_LINKER_FLAGS="$flags" -DCMAKE_SHARED_LINKER_FLAGS="$flags" >/dev/null
  cmake --build "$dir" -j "$jobs" >/dev/null
  # ThreadSanitizer needs the address layout it was built for; a kernel with
  # more mmap randomisation than it knows breaks it, so run without ASLR there.
  local pre=()
  [ "$mode" = tsan ] && pre=(setarch "$(uname -m)" -R)
  (cd "$dir" && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
    TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" \
    "${pre[@]}" ctest -j "$jobs" --output-on-failure --timeout 300)
}

# Each step's wall time, printed as it ends and again at the end, so the
# 30-minute budget can be checked from any CI log.
times=()
step() { # name command...
  local name=$1 t=$SECONDS
  shift
  "$@"
  times+=("$(printf '%5d s  %s' $((SECONDS - t)) "$name")")
  echo "--- $name: $((SECONDS - t)) s"
}

# Three native builds: gcc plain, gcc with ASan+UBSan, clang with TSan (clang
# also builds every fuzz target, with -Werror). Every mode ran with both
# compilers until the suite and this script's other steps outgrew the
# 30-minute budget; gcc-plain feeds valgrind, gcc-asan and clang-tsan the
# soak.
if [ "$what" != --windows-only ]; then
  # Packages (dpkg -i as root), manuals, ABI and the integration examples.
  step "packages, manuals, ABI" bash ci/package.sh
  for cm in gcc:plain gcc:asan clang:tsan; do
    step "native ${cm/:/ }" run_native "${cm%%:*}" "${cm#*:}"
  done
  step "ports: musl, aarch64, i686, strict POSIX" bash ci/test-ports.sh
  step "valgrind" bash ci/valgrind.sh "$root/build-ci/gcc-plain"
  step "fuzz" bash ci/fuzz.sh
  step "soak" bash ci/soak.sh
fi
if [ "$what" != --native-only ]; then
  step "windows under wine" bash ci/test-wine.sh
  step "windows .zip and C11 build" bash ci/package-windows.sh # uses test-wine.sh's prefix
fi
echo "=== times"
printf '%s\n' "${times[@]}"
echo "total: $SECONDS s"
echo "ci/test.sh: all suites passed"
