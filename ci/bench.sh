#!/usr/bin/env bash
# The benchmark of issue 5: installs what it needs, builds xsig and bench/ in
# Release, runs every part once, prints the markdown report and writes it to
# docs/PERFORMANCE.md with the machine it ran on. Not part of ci/test.sh.
# Usage: ci/bench.sh [xsig_bench options, e.g. --runs 5 --n 1000 for a quick look]
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
cc=${CC:-gcc}
dir="$root/build-bench-$cc" # one per compiler: CMake drops the cache when it changes
out="$root/docs/PERFORMANCE.md"
keep="<!-- not written by ci/bench.sh: kept from here to the end -->"
jobs=$(nproc 2>/dev/null || echo 2)

bash ci/deps.sh native bench

echo "=== build ($cc, Release) in $dir" >&2
cmake -S "$root" -B "$dir" -DCMAKE_BUILD_TYPE=Release -DCMAKE_C_COMPILER="$cc" \
  -DXSIG_BUILD_BENCH=ON -DXSIG_BUILD_TESTS=OFF -DXSIG_BUILD_TOOLS=OFF \
  -DXSIG_BUILD_EXAMPLES=OFF >/dev/null
cmake --build "$dir" -j "$jobs" --target xsig_bench >/dev/null

# These are also xsig_bench's defaults; they take about two minutes here.
args=(--runs 21 --n 2000 --flood 1 --iters 20000 --deliveries 1000000 --strace 200 1200)
[ $# -eq 0 ] || args=("$@")

echo "=== run: xsig_bench all ${args[*]}" >&2
load=$(cut -d' ' -f1-3 /proc/loadavg)
notes() {
  cat <<'EOF'
## Method and notes

- **The approaches** are in `bench/ways.c`, each written as its users would write it:
  one watch (or handler), then the library's own loop until the callback ran.
  "xsig handle in `poll()`" is a caller's loop: `poll()` on `xsig_wakeup_handle()`,
  `xsig_dispatch()` when it is readable, and another `poll()` after an EINTR, as
  every event loop does. The naive self-pipe is a `SA_RESTART` handler writing one
  byte to a non-blocking pipe, read after `poll()`. The floor blocks SIGUSR1 and
  takes it with `sigwaitinfo()`: no handler, no pipe.
- **System calls** are counted on both processes of the ping-pong, so the
  sender's `kill()` is part of each delivery, as in issue 5's table. Two runs of
  different lengths are subtracted, so start-up, first use of a loop and teardown
  drop out exactly; what is left is divided by the extra deliveries. In these
  runs only, each side waits (spinning on shared memory, no system call) until
  the other has said it is about to wait, so the signal finds its receiver
  waiting, as in a steady flow.
- **Where the poll path's calls go:** `kill`, the handler's `getpid` and `write`,
  `rt_sigreturn`, the interrupted `poll`, the `poll` that sees the byte, and the
  `read` in `xsig_dispatch`. The `getpid` is the contract's check that a child made
  by `vfork()` (which shares the parent's memory, so no cached pid or
  `MADV_WIPEONFORK` page can tell it apart) neither counts nor wakes anything in the
  parent. The six of issue 5 are what is left without it. `xsig_wait` does not pay
  it: its `ppoll` is a system call instruction of xsig's own, and a handler whose
  saved program counter is the instruction right after it knows that its thread was
  interrupted at the end of the wait (so it is no vfork child) and that the wait
  returns to dispatch next. It skips the pipe and returns normally, which leaves
  `kill`, the interrupted `ppoll` and `rt_sigreturn`, with no kernel timer.
- **CPU time** on this kind of machine is dominated by what every handler-based
  approach pays (a wake-up, the signal frame and `rt_sigreturn`), not by the
  number of system calls: the naive self-pipe with six calls is close to
  `xsig_wait` with three. Only the floor, which has no handler, is far below. Timings vary from run to run on a shared 2-core machine (see the
  load average above); the system call counts do not.
- **`xsig_wait` against libuv's CPU:** the wait carries no time-out when the
  caller asked for none, so no kernel timer is armed per wait; the handler returns
  through `rt_sigreturn` like every other (it used to jump back into the wait,
  which cut other handlers short, see issue 8).
- **Flood:** while signals keep arriving, the kernel runs the handler again
  before it returns to ordinary code, so the receiver's loop only runs in the
  gaps: few callbacks, each carrying a large `count`. That is true of every
  handler-based approach; deliveries/s is the rate to compare.
- **Scaling** times only the `xsig_dispatch` calls (its pipe `read` included): the
  cost grows with the callbacks of the signal dispatched and with the contexts that
  watch it (one pipe each), and not with watches of other signals, which only set a
  bit in the context's mask.
- **Memory:** the malloc interposer is linked into `xsig_bench` itself
  (`bench/malloc_count.c`) and forwards to glibc's `__libc_malloc` family; the
  report shows that it sees the allocations `xsig_init` and `xsig_watch` make, so its
  zero on the delivery path is a real zero.
EOF
}

report=$(mktemp)
trap 'rm -f "$report"' EXIT
"$dir/bench/xsig_bench" all "${args[@]}" >"$report"

commit=$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)
[ -z "$(git -C "$root" status --porcelain -- src include CMakeLists.txt 2>/dev/null)" ] ||
  commit="$commit + uncommitted changes to the library"
cpu=$(sed -n 's/^model name[[:space:]]*:[[:space:]]*//p' /proc/cpuinfo | head -n1)
ccver=$("$cc" --version | head -n1)
uvver=$(pkg-config --modversion libuv 2>/dev/null || echo "not found")
evver=$(pkg-config --modversion libevent 2>/dev/null || echo "not found")
{
  echo "# xsig performance"
  echo
  echo "Written by \`ci/bench.sh\` (issue 5); run it again to refresh this page. Every"
  echo "figure below comes from one run of \`xsig_bench all ${args[*]}\`."
  echo
  echo "| machine | |"
  echo "|---|---|"
  echo "| date (UTC) | $(date -u '+%Y-%m-%d %H:%M') |"
  echo "| CPU | ${cpu:-unknown} |"
  echo "| nproc | $(nproc) |"
  echo "| load average before the run | $load |"
  echo "| kernel | $(uname -sr) |"
  echo "| compiler | $ccver, CMake Release (-O3) |"
  echo "| libuv / libevent | $uvver / $evver |"
  echo "| xsig commit | $commit |"
  echo
  echo "## Targets"
  echo
  cat "$report"
  echo
  notes
  # What other tools measured (the Windows figures under Wine) is kept as it
  # was: everything from the marker line on.
  if [ -f "$out" ] && grep -qxF "$keep" "$out"; then
    echo
    sed -n "\|^$keep\$|,\$p" "$out"
  fi
} >"$out.tmp"
mv "$out.tmp" "$out"
cat "$out"
echo "ci/bench.sh: wrote $out" >&2
