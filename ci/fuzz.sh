#!/usr/bin/env bash
# libFuzzer over every tests/fuzz/fuzz_*.c: each target runs FUZZ_SECONDS
# (default 60) from its corpus tests/fuzz/corpus/<name>/ (seeds only: what a
# run finds goes to a scratch copy), two at a time on the machine's 2 cores.
# A crash, a sanitizer report or a failed property check fails the script;
# the log of that target, with the input, is printed.
# A target links the xsig library (src/common, src/posix) plus the files its
# "fuzz-sources:" line names, and is run with its "fuzz-options:" line.
# Usage: ci/fuzz.sh [target...]   (names as in fuzz_<name>.c; default: all)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
secs=${FUZZ_SECONDS:-60}
par=${FUZZ_JOBS:-2}
out="$root/build-ci/fuzz"
mkdir -p "$out/obj"
cc=${FUZZ_CC:-clang}
san="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"
cflags="-g -O1 -std=c11 -Wall -Wextra -Werror -Iinclude -Isrc -Isrc/common -Itools"
# As CMake builds it: where src/common/xsig_features.h exists, each file
# declares the system visibility it needs itself.
lib_defs="-DXSIG_BUILDING -fexceptions"
[ -f src/common/xsig_features.h ] || lib_defs+=" -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE"

# The library, built once with the fuzzer's coverage instrumentation.
lib_srcs=(src/common/*.c src/posix/*.c)
objs=()
for src in "${lib_srcs[@]}"; do
  o="$out/obj/$(echo "$src" | tr / _).o"
  $cc $cflags $lib_defs $san -fsanitize=fuzzer-no-link -c "$src" -o "$o"
  objs+=("$o")
done

names=()
if [ $# -gt 0 ]; then
  names=("$@")
else
  for f in tests/fuzz/fuzz_*.c; do n=${f#tests/fuzz/fuzz_}; names+=("${n%.c}"); done
fi

field() { # file key: the words after "key:" in the file's comment, up to any "*/"
  sed -n "s|^.*$2:\([^*]*\).*$|\1|p" "$1" | head -1
}

echo "=== fuzz: building ${#names[@]} targets"
for n in "${names[@]}"; do
  f="tests/fuzz/fuzz_$n.c"
  [ -f "$f" ] || { echo "fuzz.sh: no $f" >&2; exit 2; }
  extra=()
  for s in $(field "$f" fuzz-sources); do
    case " ${lib_srcs[*]} " in *" $s "*) ;; *) extra+=("$s") ;; esac
  done
  $cc $cflags -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE $san -fsanitize=fuzzer \
    "$f" "${extra[@]}" "${objs[@]}" -lpthread -o "$out/fuzz_$n"
done

run_one() { # name: runs one target, prints its summary line, returns its status
  local n=$1 f="tests/fuzz/fuzz_$1.c" work="$out/run-$1" log="$out/fuzz_$1.log"
  rm -rf "$work" && mkdir -p "$work/corpus" "$work/artifacts"
  [ -d "tests/fuzz/corpus/$n" ] && cp "tests/fuzz/corpus/$n"/* "$work/corpus/" 2>/dev/null || true
  local st=0
  # shellcheck disable=SC2046
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:allocator_may_return_null=1 \
    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    "$out/fuzz_$n" -max_total_time="$secs" -print_final_stats=1 -timeout=10 -rss_limit_mb=2048 \
    -artifact_prefix="$work/artifacts/" $(field "$f" fuzz-options) \
    "$work/corpus" >"$log" 2>&1 || st=$?
  local runs rate
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  if [ "$st" -ne 0 ]; then
    echo "--- fuzz_$n FAILED (status $st); what it found, then the end of its log:"
    grep -a -A4 "property failed\|runtime error\|ERROR: \|SUMMARY" "$log" | head -n 60 || true
    echo "..."
    tail -n 30 "$log"
    for a in "$work/artifacts"/*; do
      [ -f "$a" ] && { echo "input $a (hex):"; od -An -tx1 -v "$a" | head -40; }
    done
    return 1
  fi
  echo "fuzz_$n: ${runs:-?} inputs in ${secs}s, ${rate:-?} execs/s, corpus $(ls "$work/corpus" | wc -l) files"
}

echo "=== fuzz: ${secs}s per target, $par at a time"
fail=0
pids=()
for n in "${names[@]}"; do
  while [ "${#pids[@]}" -ge "$par" ]; do
    wait "${pids[0]}" || fail=1
    pids=("${pids[@]:1}")
  done
  run_one "$n" &
  pids+=($!)
done
for p in "${pids[@]}"; do wait "$p" || fail=1; done
[ "$fail" -eq 0 ] || { echo "ci/fuzz.sh: a fuzz target failed" >&2; exit 1; }
echo "ci/fuzz.sh: all ${#names[@]} targets passed"
