/* Memory: resident size before and after a million deliveries, and the heap
 * allocations made on the delivery path, counted by malloc_count.c. */
#include "bench.h"
#include "xsig/xsig.h"
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

struct mem_res {
  uint64_t setup_allocs, allocs, delivered;
  long rss0, rss1;
};

static uint64_t hits;

static void on_sig(const xsig_event_t *ev, void *user) {
  (void)user;
  hits += ev->count;
}

/* Deliveries to itself: the handler runs inside kill(), then half of them are
 * taken by xsig_dispatch and half by xsig_wait, so both paths are counted. */
static int self_child(void *arg, void *out) {
  long n = *(const long *)arg;
  struct mem_res *r = out;
  pid_t me = getpid();
  uint64_t a0 = bench_allocs();
  if (xsig_init() < 0 || xsig_watch(NULL, SIGUSR1, on_sig, NULL, 0, NULL) < 0) return 1;
  r->setup_allocs = bench_allocs() - a0;
  /* The first tenth warms up (first-touch page faults, lazy binding, the first
   * stdio use of bench_rss_kb() itself): growth is compared from there on. */
  bench_rss_kb();
  uint64_t h0 = hits;
  a0 = bench_allocs();
  for (long i = 0; i < n; i++) {
    if (i == n / 10) r->rss0 = bench_rss_kb();
    kill(me, SIGUSR1);
    if (i & 1)
      xsig_wait(NULL, -1);
    else
      xsig_dispatch(NULL);
  }
  r->allocs = bench_allocs() - a0;
  r->rss1 = bench_rss_kb();
  r->delivered = hits - h0;
  xsig_shutdown();
  return 0;
}

/* Deliveries from a peer, so the handler also runs inside the wait (the
 * xsig_wait fast path) and inside the caller's poll(). */
struct peer_arg {
  int way;
  long n;
};

static int peer_child(void *arg, void *out) {
  const struct peer_arg *a = arg;
  struct mem_res *r = out;
  double wall, cpu;
  /* The first tenth of the run warms up (stack depth of the handler frames,
   * lazy binding); RSS is compared from there to the end of the loop. */
  bench_rss_kb();
  bench_pp_track = 1;
  if (bench_pingpong(&bench_ways[a->way], a->n, &wall, &cpu) < 0) return 1;
  r->rss0 = bench_pp_rss[0];
  r->rss1 = bench_pp_rss[1];
  r->allocs = bench_pp_allocs;
  r->delivered = (uint64_t)a->n;
  r->setup_allocs = 0;
  return 0;
}

static void row(const char *what, const struct mem_res *r, bench_summary_t *s) {
  double per = (double)r->allocs / (double)r->delivered;
  fprintf(bench_out, "| %s | %llu | %ld | %ld | %+ld | %llu | %.6f |\n", what,
          (unsigned long long)r->delivered, r->rss0, r->rss1, r->rss1 - r->rss0,
          (unsigned long long)r->allocs, per);
  if (per > s->allocs_per_delivery) s->allocs_per_delivery = per;
  if (r->rss1 - r->rss0 > s->rss_growth_kb) s->rss_growth_kb = r->rss1 - r->rss0;
}

void bench_memory(long deliveries, bench_summary_t *s) {
  struct mem_res r;
  s->allocs_per_delivery = 0;
  s->rss_growth_kb = 0;
  fprintf(bench_out,
          "\n## Memory\n\n"
          "Resident size (VmRSS) before and after, and heap allocations counted by a malloc "
          "interposer linked into the benchmark (it replaces malloc, calloc, realloc and the "
          "aligned variants for the whole process, libxsig included), counted over every "
          "delivery of the run. The first tenth of each run is its warm-up (first-touch "
          "pages, the stack depth of handler frames): RSS is read there and at the end. ");
  if (bench_allocs() == UINT64_MAX) {
    fprintf(bench_out, "This C library has no interposer here: allocations are not counted.\n");
    s->allocs_per_delivery = -1;
  }
  if (bench_in_child(self_child, &deliveries, &r, sizeof r) < 0) {
    fprintf(bench_out, "\nThe self-delivery run failed.\n");
    s->allocs_per_delivery = 1e9;
    return;
  }
  fprintf(bench_out,
          "The interposer is live: `xsig_init` plus one `xsig_watch` counted %llu "
          "allocations.\n\n",
          (unsigned long long)r.setup_allocs);
  fprintf(bench_out,
          "| deliveries of SIGUSR1 | delivered | RSS at 10 %% kB | RSS at the end kB | growth kB "
          "| allocations | allocations per delivery |\n|---|---:|---:|---:|---:|---:|---:|\n");
  row("`kill` to self, then `xsig_dispatch` / `xsig_wait` alternately", &r, s);
  if (r.setup_allocs == 0) s->allocs_per_delivery = 1e9; /* the interposer saw nothing */
  const int ways[] = {BENCH_XWAIT, BENCH_XPOLL};
  for (int i = 0; i < 2; i++) {
    struct peer_arg a = {ways[i], deliveries / 20};
    char what[128];
    snprintf(what, sizeof what, "from a peer process: %s", bench_ways[ways[i]].name);
    if (bench_in_child(peer_child, &a, &r, sizeof r) < 0) {
      fprintf(bench_out, "| %s | failed | | | | | |\n", what);
      s->allocs_per_delivery = 1e9;
      continue;
    }
    row(what, &r, s);
  }
}
