/* Two processes bounce SIGUSR1 back and forth, both taking it the same way, so
 * a round trip is two deliveries of one approach. Timing comes from runs that
 * alternate the approaches; system calls come from strace -f -c. */
#include "bench.h"
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

long bench_pp_spin;

/* For counting runs (bench_pp_spin > 0): each side says, in memory shared by
 * the two, that it is about to wait for its n-th signal, and the other sends
 * only once it has seen that and spun a little more. So the signal finds its
 * receiver waiting, as in a steady flow, and no system call is added. */
static _Atomic long *turns; /* [0]: the parent's waits begun, [1]: the peer's */

static void mark(int side, long n) {
  if (turns) atomic_store(&turns[side], n);
}

static void await_turn(int side, long n) {
  if (!turns) return;
  /* Bounded, so a peer that died cannot hang the run. */
  for (long k = 0; atomic_load(&turns[side]) < n && k < 4000000000L; k++) {
  }
  for (volatile long i = 0; i < bench_pp_spin; i++) {
  }
}

/* The peer: answers every delivery, then reports its CPU time. */
static int echo(const bench_way_t *w, long n, pid_t parent, int ready, int report) {
  if (w->setup() < 0) return 1;
  uint64_t c0 = bench_cpu_ns();
  if (bench_write_all(ready, "", 1) < 0) return 1;
  for (long i = 0; i < n; i++) {
    mark(1, i + 1);
    w->take();
    await_turn(0, i + 1);
    kill(parent, SIGUSR1);
  }
  uint64_t cpu = bench_cpu_ns() - c0;
  int r = bench_write_all(report, &cpu, sizeof cpu);
  w->teardown();
  return r ? 1 : 0;
}

uint64_t bench_pp_allocs;
int bench_pp_track;
long bench_pp_rss[2];

int bench_pingpong(const bench_way_t *w, long n, double *wall_ns, double *cpu_ns) {
  int ready[2], report[2], st;
  pid_t self = getpid();
  if (pipe(ready) < 0 || pipe(report) < 0) return -1;
  turns = NULL;
  if (bench_pp_spin > 0) {
    void *m =
        mmap(NULL, 2 * sizeof *turns, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) return -1;
    turns = m;
  }
  fflush(stdout);
  pid_t peer = fork();
  if (peer < 0) return -1;
  if (peer == 0) _exit(echo(w, n, self, ready[1], report[1]));
  close(ready[1]);
  close(report[1]);
  char c;
  uint64_t peer_cpu = 0;
  int r = w->setup() < 0 || bench_read_all(ready[0], &c, 1) < 0 ? -1 : 0;
  uint64_t a0 = bench_allocs(), t0 = bench_now_ns(), c0 = bench_cpu_ns();
  for (long i = 0; r == 0 && i < n; i++) {
    if (bench_pp_track && i == n / 10) bench_pp_rss[0] = bench_rss_kb();
    await_turn(1, i + 1);
    kill(peer, SIGUSR1);
    mark(0, i + 1);
    w->take();
  }
  uint64_t t1 = bench_now_ns(), c1 = bench_cpu_ns();
  bench_pp_allocs = bench_allocs() - a0;
  if (bench_pp_track) bench_pp_rss[1] = bench_rss_kb();
  if (r == 0 && bench_read_all(report[0], &peer_cpu, sizeof peer_cpu) < 0) r = -1;
  if (r < 0) kill(peer, SIGKILL);
  while (waitpid(peer, &st, 0) < 0 && errno == EINTR) {
  }
  w->teardown();
  close(ready[0]);
  close(report[0]);
  if (turns) munmap((void *)turns, 2 * sizeof *turns);
  if (r < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) return -1;
  long d = n > 0 ? n : 1;
  *wall_ns = (double)(t1 - t0) / (double)d;
  *cpu_ns = (double)(c1 - c0 + peer_cpu) / (double)d;
  return 0;
}

/* ---------------------------------------------------------------- timing */

struct pp_arg {
  int way;
  long n;
};

static int pp_child(void *arg, void *out) {
  const struct pp_arg *a = arg;
  double *res = out;
  return bench_pingpong(&bench_ways[a->way], a->n, &res[0], &res[1]);
}

#define MAXRUNS 64

void bench_roundtrip(int runs, long n, bench_summary_t *s) {
  static double wall[BENCH_NWAYS][MAXRUNS], cpu[BENCH_NWAYS][MAXRUNS];
  double v[MAXRUNS], rf[4][MAXRUNS];
  int ok[BENCH_NWAYS][MAXRUNS];
  if (runs > MAXRUNS) runs = MAXRUNS;
  memset(ok, 0, sizeof ok);
  /* Each run starts with a different approach, so none always goes first. */
  for (int r = 0; r < runs; r++)
    for (int k = 0; k < BENCH_NWAYS; k++) {
      int i = (k + r) % BENCH_NWAYS;
      struct pp_arg a = {i, n};
      double res[2];
      if (!bench_way_built(&bench_ways[i]) || bench_in_child(pp_child, &a, res, sizeof res) < 0)
        continue;
      wall[i][r] = res[0];
      cpu[i][r] = res[1];
      ok[i][r] = 1;
    }
  fprintf(bench_out,
          "\n## Round trip\n\n"
          "Two processes bounce SIGUSR1 %ld times per run, both taking it the same way "
          "(a round trip is two deliveries). Medians over %d runs that alternate the "
          "approaches; CPU is both processes' user + system time. Ratios are taken within "
          "each run, then their median is shown.\n\n",
          n, runs);
  fprintf(bench_out,
          "| approach | wall µs / round trip | CPU µs / round trip | wall × floor | CPU × floor "
          "| wall × libuv | CPU × libuv |\n|---|---:|---:|---:|---:|---:|---:|\n");
  for (int i = 0; i < BENCH_NWAYS; i++) {
    int m = 0, q[4] = {0, 0, 0, 0};
    double mw, mc;
    s->cpu_rt[i] = s->cpu_ratio_libuv[i] = -1;
    for (int r = 0; r < runs; r++) {
      if (!ok[i][r]) continue;
      v[m++] = wall[i][r];
      if (ok[BENCH_FLOOR][r]) {
        rf[0][q[0]++] = wall[i][r] / wall[BENCH_FLOOR][r];
        rf[1][q[1]++] = cpu[i][r] / cpu[BENCH_FLOOR][r];
      }
      if (ok[BENCH_LIBUV][r]) {
        rf[2][q[2]++] = wall[i][r] / wall[BENCH_LIBUV][r];
        rf[3][q[3]++] = cpu[i][r] / cpu[BENCH_LIBUV][r];
      }
    }
    if (m == 0) {
      fprintf(bench_out, "| %s | not built | | | | | |\n", bench_ways[i].name);
      continue;
    }
    mw = bench_median(v, (size_t)m);
    m = 0;
    for (int r = 0; r < runs; r++)
      if (ok[i][r]) v[m++] = cpu[i][r];
    mc = bench_median(v, (size_t)m);
    s->cpu_rt[i] = mc;
    fprintf(bench_out, "| %s | %.2f | %.2f", bench_ways[i].name, mw / 1e3, mc / 1e3);
    for (int j = 0; j < 4; j++) {
      double x = bench_median(rf[j], (size_t)q[j]);
      if (j == 3) s->cpu_ratio_libuv[i] = x;
      if (x < 0)
        fprintf(bench_out, " | n/a");
      else
        fprintf(bench_out, " | %.2f", x);
    }
    fprintf(bench_out, " |\n");
  }
}

/* ---------------------------------------------------------------- syscalls */

typedef struct sc_row {
  char name[40];
  long calls, errors;
} sc_row_t;

#define MAXROWS 128

/* Reads strace -c -U calls,errors,name: "calls [errors] name" per line. */
static int sc_parse(const char *file, sc_row_t *rows) {
  FILE *f = fopen(file, "r");
  char line[256];
  int n = 0;
  if (!f) return -1;
  while (fgets(line, sizeof line, f) && n < MAXROWS) {
    char a[40], b[40], c[40];
    int k = sscanf(line, "%39s %39s %39s", a, b, c);
    char *end;
    long calls = strtol(a, &end, 10);
    if (k < 2 || *end || strcmp(k == 3 ? c : b, "total") == 0) continue;
    sc_row_t *row = &rows[n++];
    row->calls = calls;
    row->errors = k == 3 ? atol(b) : 0;
    snprintf(row->name, sizeof row->name, "%s", k == 3 ? c : b);
  }
  fclose(f);
  return n;
}

static int sc_run(const char *self, const char *key, long n, const char *file, sc_row_t *rows) {
  char num[32];
  int st;
  snprintf(num, sizeof num, "%ld", n);
  fflush(stdout);
  pid_t pid = fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    int null = open("/dev/null", O_WRONLY);
    if (null >= 0) dup2(null, 1);
    execlp("strace", "strace", "-f", "-qq", "-c", "-U", "calls,errors,name", "-o", file, self,
           "pingpong", key, num, "20000", (char *)NULL);
    _exit(127);
  }
  while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) return -1;
  return sc_parse(file, rows);
}

static const sc_row_t *sc_find(const sc_row_t *rows, int n, const char *name) {
  for (int i = 0; i < n; i++)
    if (strcmp(rows[i].name, name) == 0) return &rows[i];
  return NULL;
}

typedef struct sc_pair {
  sc_row_t lo[MAXROWS], hi[MAXROWS];
  int nlo, nhi;
  long total; /* calls of the hi run minus calls of the lo run */
} sc_pair_t;

/* Counts a run of lo and a run of hi round trips: their difference holds no
 * start-up, no teardown and no first-use cost, only 2 * (hi - lo) deliveries. */
static int sc_measure(const char *self, int way, long lo, long hi, sc_pair_t *p) {
  char fa[64], fb[64];
  snprintf(fa, sizeof fa, "/tmp/xsig-bench-%d-lo.txt", (int)getpid());
  snprintf(fb, sizeof fb, "/tmp/xsig-bench-%d-hi.txt", (int)getpid());
  p->nlo = sc_run(self, bench_ways[way].key, lo, fa, p->lo);
  p->nhi = p->nlo < 0 ? -1 : sc_run(self, bench_ways[way].key, hi, fb, p->hi);
  unlink(fa);
  unlink(fb);
  if (p->nhi < 0) return -1;
  p->total = 0;
  for (int i = 0; i < p->nhi; i++) p->total += p->hi[i].calls;
  for (int i = 0; i < p->nlo; i++) p->total -= p->lo[i].calls;
  return 0;
}

static int sc_way(const char *self, int way, long lo, long hi, bench_summary_t *s) {
  static sc_pair_t pair;
  sc_pair_t *p = &pair;
  if (sc_measure(self, way, lo, hi, p) < 0) {
    fprintf(bench_out, "| %s | failed | |\n", bench_ways[way].name);
    return -1;
  }
  double d = 2.0 * (double)(hi - lo);
  char detail[1024] = "";
  size_t len = 0;
  for (int i = 0; i < p->nhi; i++) {
    const sc_row_t *o = sc_find(p->lo, p->nlo, p->hi[i].name);
    long calls = p->hi[i].calls - (o ? o->calls : 0);
    long errs = p->hi[i].errors - (o ? o->errors : 0);
    if ((double)calls / d < 0.01 && (double)calls / d > -0.01) continue;
    len += (size_t)snprintf(detail + len, sizeof detail - len, "%s%s %.2f", len ? ", " : "",
                            p->hi[i].name, (double)calls / d);
    if ((double)errs / d >= 0.01 && len < sizeof detail)
      len +=
          (size_t)snprintf(detail + len, sizeof detail - len, " (%.2f failed)", (double)errs / d);
    if (len >= sizeof detail) break;
  }
  s->sys_per_delivery[way] = (double)p->total / d;
  fprintf(bench_out, "| %s | %.2f | %s |\n", bench_ways[way].name, (double)p->total / d, detail);
  return 0;
}

int bench_syscalls(const char *self, long lo, long hi, bench_summary_t *s) {
  int bad = 0;
  fprintf(bench_out,
          "\n## System calls per delivered signal\n\n"
          "Each approach runs the ping-pong under `strace -f -c` (both processes) twice, "
          "with %ld and with %ld round trips. The difference of the two counts, divided by "
          "the 2 × %ld extra deliveries, leaves out every set-up, first-use and teardown "
          "call. In these runs each side tells the other, through shared memory, that it is "
          "about to wait, and the other sends only after seeing that and spinning a little "
          "more: the signal finds its receiver waiting, as in a steady flow, and no system "
          "call is added. That is the path counted here. A fraction left over is a signal that "
          "still landed before its "
          "receiver waited (a busy machine): for `xsig_wait` that path is longer (`getpid`, "
          "`write`, `read` instead of the interrupted `ppoll`), for the `poll()` loops "
          "shorter (no interrupted `poll`). The breakdown is per delivery too; \"failed\" "
          "counts calls that returned an error (an interrupted wait returns EINTR).\n\n"
          "| approach | syscalls per delivered signal | per delivery |\n|---|---:|---|\n",
          lo, hi, hi - lo);
  for (int i = 0; i < BENCH_NWAYS; i++) {
    s->sys_per_delivery[i] = -1;
    if (!bench_way_built(&bench_ways[i])) {
      fprintf(bench_out, "| %s | not built | |\n", bench_ways[i].name);
      continue;
    }
    if (sc_way(self, i, lo, hi, s) < 0) bad = 1;
  }
  return bad ? -1 : 0;
}
