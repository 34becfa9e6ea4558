/* Scaling: what one delivery of SIGUSR1 costs to dispatch as the watches on
 * it, the watches on other signals and the contexts watching it grow. */
#include "bench.h"
#include "xsig/xsig.h"
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

struct scale_arg {
  int on, others, ctxs;
  long iters;
};

struct scale_res {
  double kill_ns, dispatch_ns;
  uint64_t calls;
};

static uint64_t calls;

static void on_sig(const xsig_event_t *ev, void *user) {
  (void)ev, (void)user;
  calls++;
}

/* Watches of other signals go round SIGUSR2 and the realtime range, none of
 * which is ever sent here. */
static int other_signal(int i) {
  int n = SIGRTMAX - SIGRTMIN + 2;
  return i % n == 0 ? SIGUSR2 : SIGRTMIN + i % n - 1;
}

static int scale_child(void *arg, void *out) {
  const struct scale_arg *a = arg;
  struct scale_res *r = out;
  xsig_ctx_t *ctx[16] = {NULL};
  pid_t me = getpid();
  if (a->ctxs > 16 || xsig_init() < 0) return 1;
  for (int c = 1; c < a->ctxs; c++)
    if (xsig_ctx_new(&ctx[c]) < 0) return 1;
  for (int c = 0; c < a->ctxs; c++)
    for (int i = 0; i < a->on; i++)
      if (xsig_watch(ctx[c], SIGUSR1, on_sig, NULL, 0, NULL) < 0) return 1;
  for (int i = 0; i < a->others; i++)
    if (xsig_watch(NULL, other_signal(i), on_sig, NULL, 0, NULL) < 0) return 1;
  double *k = malloc(sizeof *k * (size_t)a->iters), *d = malloc(sizeof *d * (size_t)a->iters);
  if (!k || !d) return 1;
  for (long i = -200; i < a->iters; i++) { /* the first 200 warm up */
    uint64_t t0 = bench_now_ns();
    kill(me, SIGUSR1); /* the handler runs before kill() returns */
    uint64_t t1 = bench_now_ns();
    for (int c = 0; c < a->ctxs; c++) xsig_dispatch(ctx[c]);
    uint64_t t2 = bench_now_ns();
    if (i < 0) continue;
    k[i] = (double)(t1 - t0);
    d[i] = (double)(t2 - t1);
  }
  r->kill_ns = bench_median(k, (size_t)a->iters);
  r->dispatch_ns = bench_median(d, (size_t)a->iters);
  r->calls = calls;
  free(k);
  free(d);
  for (int c = 1; c < a->ctxs; c++) xsig_ctx_free(ctx[c]);
  xsig_shutdown();
  return 0;
}

void bench_scaling(long iters, bench_summary_t *s) {
  static const struct scale_arg cases[] = {
      {1, 0, 1, 0},   {10, 0, 1, 0},   {100, 0, 1, 0}, {1000, 0, 1, 0}, {1, 10, 1, 0},
      {1, 100, 1, 0}, {1, 1000, 1, 0}, {1, 0, 4, 0},   {1, 0, 16, 0},
  };
  double base = -1, other1000 = -1;
  fprintf(bench_out,
          "\n## Scaling\n\n"
          "One process sends SIGUSR1 to itself (`kill`, whose handler runs before it "
          "returns), then dispatches every context. Medians of %ld deliveries per row. "
          "\"dispatch\" is the time of the `xsig_dispatch` calls, pipe read included; "
          "\"kill\" is the time of `kill` with xsig's handler (one pipe write per context).\n\n"
          "| watches on SIGUSR1 | watches on other signals | contexts | dispatch ns | "
          "dispatch ns per callback | dispatch × first row | kill + handler ns |\n"
          "|---:|---:|---:|---:|---:|---:|---:|\n",
          iters);
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    struct scale_arg a = cases[i];
    struct scale_res r;
    a.iters = iters;
    if (bench_in_child(scale_child, &a, &r, sizeof r) < 0) {
      fprintf(bench_out, "| %d | %d | %d | failed | | | |\n", a.on, a.others, a.ctxs);
      continue;
    }
    double cbs = (double)(a.on * a.ctxs);
    if (i == 0) base = r.dispatch_ns;
    if (a.on == 1 && a.others == 1000) other1000 = r.dispatch_ns;
    fprintf(bench_out, "| %d | %d | %d | %.0f | %.1f | %.2f | %.0f |\n", a.on, a.others, a.ctxs,
            r.dispatch_ns, r.dispatch_ns / cbs, base > 0 ? r.dispatch_ns / base : -1, r.kill_ns);
  }
  s->flat_other = base > 0 && other1000 > 0 ? other1000 / base : -1;
}
