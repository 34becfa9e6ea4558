/* What the benchmark's files share. Every measurement runs in a process of its
 * own (forked from the driver), so one approach's handlers, loops and library
 * state never leak into the next. */
#ifndef XSIG_BENCH_H
#define XSIG_BENCH_H
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* ---- one way of taking SIGUSR1: set up after fork, then take() returns once
 * at least one more delivery has reached the caller's code */
typedef struct bench_way {
  const char *key;  /* command-line name */
  const char *name; /* table label */
  int (*setup)(void);
  void (*take)(void);
  void (*teardown)(void);
} bench_way_t;

enum {
  BENCH_FLOOR,
  BENCH_XWAIT,
  BENCH_XPOLL,
  BENCH_LIBUV,
  BENCH_LIBEVENT,
  BENCH_PIPE,
  BENCH_NWAYS
};
extern const bench_way_t bench_ways[BENCH_NWAYS];
const bench_way_t *bench_way(const char *key);
int bench_way_built(const bench_way_t *w); /* 0 when its library was not found at build time */

/* ---- clocks and statistics */
uint64_t bench_now_ns(void); /* monotonic */
uint64_t bench_cpu_ns(void); /* this process, user + system */
double bench_median(double *v, size_t n);
long bench_rss_kb(void);

/* ---- running a measurement in a child: fn writes its result (at most cap
 * bytes) to out; returns 0 when the child exited 0 and wrote all of it */
int bench_in_child(int (*fn)(void *arg, void *out), void *arg, void *out, size_t size);
int bench_write_all(int fd, const void *p, size_t n);
int bench_read_all(int fd, void *p, size_t n);

/* ---- the counting malloc interposer (malloc_count.c) */
uint64_t bench_allocs(void);

/* ---- the parts; each prints its section to bench_out (the summary goes first,
 * so the sections wait there) */
#include <stdio.h>
extern FILE *bench_out;

/* ---- the parts; each prints its markdown section and fills the summary */
typedef struct bench_summary {
  double sys_per_delivery[BENCH_NWAYS]; /* < 0: not measured */
  double cpu_rt[BENCH_NWAYS];           /* median ns per round trip */
  double cpu_ratio_libuv[BENCH_NWAYS];  /* median of per-run ratios */
  double flat_other;                    /* dispatch with 1000 other watches / with none */
  int flood_ok;
  double allocs_per_delivery;
  long rss_growth_kb;
} bench_summary_t;

int bench_pingpong(const bench_way_t *w, long n, double *wall_ns, double *cpu_ns);
/* What the last bench_pingpong's own loop allocated, and with bench_pp_track
 * set, its resident size a tenth of the way into that loop and at its end. */
extern uint64_t bench_pp_allocs;
extern long bench_pp_spin; /* > 0: hand-over through shared memory plus this many spins */
extern int bench_pp_track;
extern long bench_pp_rss[2];
void bench_roundtrip(int runs, long n, bench_summary_t *s);
int bench_syscalls(const char *self, long lo, long hi, bench_summary_t *s);
void bench_flood(double seconds, bench_summary_t *s);
void bench_scaling(long iters, bench_summary_t *s);
void bench_memory(long deliveries, bench_summary_t *s);
#endif
