#!/usr/bin/env bash
# Every test: the native suite with gcc and clang, each plain, with
# AddressSanitizer+UndefinedBehaviorSanitizer and with ThreadSanitizer; then the
# Windows build under Wine; between them the hardening steps (ci/valgrind.sh,
# ci/fuzz.sh, ci/soak.sh). Usage:
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

run_native() { # compiler mode
  local cc=$1 mode=$2 cxx flags="" dir="$root/build-ci/$1-$2"
  [ "$cc" = gcc ] && cxx=g++ || cxx=clang++
  case "$mode" in
    asan) flags="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer" ;;
    tsan) flags="-fsanitize=thread" ;;
  esac
  echo "=== native: $cc $mode"
  cmake -S "$root" -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_C_COMPILER="$cc" -DCMAKE_CXX_COMPILER="$cxx" \
    -DCMAKE_C_FLAGS="$flags -Werror" -DCMAKE_CXX_FLAGS="$flags" \
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

if [ "$what" != --windows-only ]; then
  for cc in gcc clang; do
    for mode in plain asan tsan; do run_native "$cc" "$mode"; done
  done
fi
if [ "$what" != --windows-only ]; then
  # Reuse the gcc plain build for valgrind, the ASan and TSan ones for the soak.
  bash ci/valgrind.sh "$root/build-ci/gcc-plain"
  bash ci/fuzz.sh
  bash ci/soak.sh
fi
if [ "$what" != --native-only ]; then
  bash ci/test-wine.sh
fi
echo "ci/test.sh: all suites passed"
