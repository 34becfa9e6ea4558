#!/usr/bin/env bash
# The core suites under valgrind's memcheck, one process per test as ctest
# runs them, two at a time: 0 errors and 0 bytes definitely or indirectly
# lost in every process, forked children included. A test that needs what
# valgrind keeps for itself (SIGRTMAX, SS_AUTODISARM) says so in its output
# (tests/support: under_valgrind) and leaves out that part only.
# Usage: ci/valgrind.sh [build-dir]   (default build-ci/gcc-plain; built if missing)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
dir=${1:-$root/build-ci/gcc-plain}
jobs=${VALGRIND_JOBS:-2}
suites=(core_test posix_signal_test lifecycle_test posix_hostile_test)
if [ ! -x "$dir/tests/${suites[0]}" ]; then
  dir=$root/build-ci/valgrind
  cmake -S "$root" -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build "$dir" -j "$jobs" >/dev/null
fi
logs=$dir/valgrind-logs
rm -rf "$logs" && mkdir -p "$logs"
list=$logs/tests
for s in "${suites[@]}"; do
  "$dir/tests/$s" --gtest_list_tests |
    awk -v b="$s" '/^[^ ]/ { suite = $1 } /^  / { print b, suite $1 }'
done >"$list"

cat >"$logs/one.sh" <<'ONE'
#!/usr/bin/env bash
# bin test: one test in its own process under memcheck; prints one line.
dir=$1 bin=$2 t=$3
log=$dir/valgrind-logs/$bin.$(echo "$t" | tr / _).log
start=$(date +%s%N)
st=0
(cd "$dir" && timeout 300 valgrind --error-exitcode=99 --leak-check=full \
  --errors-for-leak-kinds=definite,indirect --show-leak-kinds=definite,indirect \
  --fair-sched=yes "tests/$bin" --gtest_filter="$t") >"$log" 2>&1 || st=$?
ms=$(( ($(date +%s%N) - start) / 1000000 ))
bad=""
# Every process valgrind ran (the test and each fork child) ends with a summary.
grep -q "ERROR SUMMARY: " "$log" || bad="no valgrind summary"
grep "ERROR SUMMARY: " "$log" | grep -qv "ERROR SUMMARY: 0 errors" && bad="memcheck errors"
grep -E "(definitely|indirectly) lost: " "$log" | grep -qvE "lost: 0 bytes" && bad="leaks"
[ "$st" -ne 0 ] && bad="${bad:+$bad, }exit status $st"
skip=$(grep -ohE "valgrind[^\"]*(keeps|refuses|rounds)[^\"]*" "$log" | head -1 || true)
if [ -n "$bad" ]; then
  echo "FAIL $bin $t (${ms} ms): $bad"
  sed -n '1,200p' "$log"
  exit 1
fi
echo "ok   $bin $t (${ms} ms)${skip:+ [$skip]}"
ONE
chmod +x "$logs/one.sh"

echo "=== valgrind: $(wc -l <"$list") tests of ${suites[*]}, $jobs at a time"
start=$(date +%s)
st=0
xargs -P "$jobs" -L 1 "$logs/one.sh" "$dir" <"$list" >"$logs/summary" || st=$?
cat "$logs/summary"
pass=$(grep -c '^ok' "$logs/summary" || true)
fail=$(grep -c '^FAIL' "$logs/summary" || true)
echo "ci/valgrind.sh: $pass passed, $fail failed in $(($(date +%s) - start)) s"
[ "$st" -eq 0 ] && [ "$fail" -eq 0 ]
