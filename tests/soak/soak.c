/* Soak: threads watch, unwatch, create and free contexts in a loop while
 * child processes flood the process with standard and realtime signals, for
 * a given time (ci/soak.sh runs it 60 s under ASan and under ThreadSanitizer).
 *
 * It fails (non-zero exit, a line saying why) when
 * - any xsig call in the churn fails unexpectedly;
 * - the marker signal sent after the floods have stopped is not dispatched
 *   (a callback must always run after the last send);
 * - the realtime signal the floods send with sigqueue() is not counted
 *   exactly: sent == the sum of the events' counts (not under TSan, which may
 *   drop signals; there it must not count more than were sent);
 * - the descriptors in /proc/self/fd are not back to their count at start;
 * - anything hangs: a watchdog thread ends the process after the time plus
 *   two minutes.
 * Leaks are LeakSanitizer's job (ASan build). Usage: xsig_soak [seconds] */
#include "xsig/xsig.h"
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#if defined(__SANITIZE_THREAD__)
#define SOAK_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define SOAK_TSAN 1
#endif
#endif

enum { NCHURN = 3, NFLOOD = 2 };
#define RT_COUNTED (SIGRTMIN + 1) /* sent by sigqueue, counted exactly */
#define RT_OTHER   (SIGRTMIN + 2)
#define MARKER     SIGUSR2

static int flooded[5]; /* every signal the floods send; the main context watches each */
static atomic_int stop_churn, stop_dispatch;
/* RT_COUNTED deliveries through the main watch, in memory shared with the
 * flood children: they keep at most WINDOW of their signals unaccounted for,
 * so a flood can never keep every thread of a slow (sanitized) process in
 * its handler for good, which would starve the churn it is there to stress. */
static atomic_ullong *counted;
enum { WINDOW = 512 };
static atomic_ullong delivered[65]; /* per signal, main context */
static atomic_int marker_seen;
static atomic_ullong churn_ops;
static atomic_int failed;

static long long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void fail(const char *what, int r) {
  if (r >= XSIG_EIGNORED && r < 0) /* an xsig error code */
    fprintf(stderr, "soak: FAIL: %s (%d: %s)\n", what, r, xsig_strerror(r));
  else
    fprintf(stderr, "soak: FAIL: %s (%d)\n", what, r);
  atomic_store(&failed, 1);
}

static int count_fds(void) {
  DIR *d = opendir("/proc/self/fd");
  int n = 0;
  if (!d) return -1;
  while (readdir(d)) n++;
  closedir(d);
  return n;
}

static void on_main(const xsig_event_t *ev, void *user) {
  (void)user;
  if (ev->signum > 0 && ev->signum < 65) atomic_fetch_add(&delivered[ev->signum], ev->count);
  if (ev->signum == RT_COUNTED) atomic_fetch_add(counted, ev->count);
  if (ev->signum == MARKER) atomic_store(&marker_seen, 1);
}

static void on_churn(const xsig_event_t *ev, void *user) {
  (void)ev;
  atomic_fetch_add((atomic_ullong *)user, 1);
}

static void *dispatcher(void *arg) {
  (void)arg;
  while (!atomic_load(&stop_dispatch)) {
    int r = xsig_wait(NULL, 100);
    if (r < 0) fail("xsig_wait on the default context", r);
  }
  return NULL;
}

/* One round of churn: contexts made and freed with watches in them, watches
 * added and removed on the default context while its dispatcher runs. */
static void churn_round(unsigned *seed, atomic_ullong *hits) {
  int sig = flooded[rand_r(seed) % 5];
  unsigned flags = rand_r(seed) % 4 == 0 ? XSIG_ONESHOT : 0;
  xsig_ctx_t *c;
  xsig_watch_t *w[3];
  int r;
  switch (rand_r(seed) % 4) {
  case 0: /* a context freed with its watches in it */
    if ((r = xsig_ctx_new(&c)) != 0) return fail("xsig_ctx_new", r);
    for (int i = 0; i < 3; i++)
      if ((r = xsig_watch(c, flooded[rand_r(seed) % 5], on_churn, hits, flags, NULL)))
        fail("xsig_watch in a new context", r);
    if ((r = xsig_wait(c, rand_r(seed) % 2)) < 0) fail("xsig_wait on a churn context", r);
    xsig_ctx_free(c);
    break;
  case 1: /* watches removed, then the context */
    if ((r = xsig_ctx_new(&c)) != 0) return fail("xsig_ctx_new", r);
    for (int i = 0; i < 3; i++)
      if ((r = xsig_watch(c, flooded[(rand_r(seed)) % 5], on_churn, hits, flags, &w[i])))
        fail("xsig_watch in a new context", r);
    if ((r = xsig_dispatch(c)) < 0) fail("xsig_dispatch on a churn context", r);
    for (int i = 0; i < 3; i++) {
      r = xsig_unwatch(w[i]);
      if (r != 0 && !(flags && r == XSIG_EINVAL)) fail("xsig_unwatch in a churn context", r);
    }
    xsig_ctx_free(c);
    break;
  default: /* on the default context, whose dispatcher may be running it */
    if ((r = xsig_watch(NULL, sig, on_churn, hits, flags, &w[0]))) {
      fail("xsig_watch on the default context", r);
      break;
    }
    if (rand_r(seed) % 2) sched_yield();
    r = xsig_unwatch(w[0]);
    if (r != 0 && !(flags && r == XSIG_EINVAL)) fail("xsig_unwatch on the default context", r);
    break;
  }
  atomic_fetch_add(&churn_ops, 1);
}

static void *churner(void *arg) {
  unsigned seed = (unsigned)(uintptr_t)arg * 2654435761u;
  atomic_ullong hits = 0;
  while (!atomic_load(&stop_churn) && !atomic_load(&failed)) churn_round(&seed, &hits);
  return NULL;
}

/* A flood child: standard and realtime signals at the parent until the stop
 * pipe closes, then the number of RT_COUNTED that sigqueue() accepted. */
static atomic_ullong *sent_total; /* shared: every flood's accepted RT_COUNTED */

static int told_to_stop(int stop_fd) {
  struct pollfd p = {stop_fd, POLLIN, 0};
  return poll(&p, 1, 0) != 0;
}

static _Noreturn void flood(pid_t parent, int stop_fd, int report_fd, int idx) {
  unsigned long long sent = 0, lost = 0;
  union sigval v;
  v.sival_int = idx;
  for (unsigned long i = 0;; i++) {
    if (i % 64 == 0 && told_to_stop(stop_fd)) break;
    /* After 5 ms without room the missing ones are taken as lost (TSan
     * drops signals, so the count may never catch up there) and the window
     * starts again from what is outstanding now. */
    int w = 0;
    while (atomic_load(sent_total) - atomic_load(counted) > WINDOW + lost) {
      struct timespec ts = {0, 100 * 1000};
      nanosleep(&ts, NULL);
      if (++w == 50) {
        lost = atomic_load(sent_total) - atomic_load(counted);
        break;
      }
    }
    if (sigqueue(parent, RT_COUNTED, v) == 0) {
      sent++;
      atomic_fetch_add(sent_total, 1);
    } else if (errno == EAGAIN) {
      sched_yield(); /* the queue is full: the parent is behind */
    }
    kill(parent, flooded[i % 3]);
    if (i % 4 == 0) sigqueue(parent, RT_OTHER, v);
  }
  if (write(report_fd, &sent, sizeof sent) != (ssize_t)sizeof sent) _exit(3);
  _exit(0);
}

static long long watchdog_deadline;
static void *watchdog(void *arg) {
  (void)arg;
  while (now_ms() < watchdog_deadline) {
    struct timespec ts = {0, 200 * 1000000};
    nanosleep(&ts, NULL);
  }
  fprintf(stderr, "soak: FAIL: hang (still running after the time plus 120 s)\n");
  abort();
}

int main(int argc, char **argv) {
  int secs = argc > 1 ? atoi(argv[1]) : 60;
  if (secs <= 0) {
    fprintf(stderr, "usage: xsig_soak [seconds]\n");
    return 2;
  }
  flooded[0] = SIGUSR1, flooded[1] = SIGWINCH, flooded[2] = SIGURG;
  flooded[3] = RT_COUNTED, flooded[4] = RT_OTHER;
  int fds_start = count_fds();
  atomic_ullong *shared =
      mmap(NULL, 2 * sizeof *shared, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (shared == MAP_FAILED) return perror("mmap"), 1;
  counted = &shared[0], sent_total = &shared[1];
  watchdog_deadline = now_ms() + (secs + 120) * 1000LL;
  pthread_t wd;
  pthread_create(&wd, NULL, watchdog, NULL);
  pthread_detach(wd);

  int r = xsig_init();
  if (r) return fail("xsig_init", r), 1;
  for (int i = 0; i < 5; i++)
    if ((r = xsig_watch(NULL, flooded[i], on_main, NULL, 0, NULL))) return fail("watch", r), 1;
  if ((r = xsig_watch(NULL, MARKER, on_main, NULL, 0, NULL))) return fail("watch marker", r), 1;

  pthread_t disp, churn[NCHURN];
  pthread_create(&disp, NULL, dispatcher, NULL);
  for (int i = 0; i < NCHURN; i++)
    pthread_create(&churn[i], NULL, churner, (void *)(uintptr_t)(i + 1));

  int stop[2], report[2];
  if (pipe(stop) || pipe(report)) return perror("pipe"), 1;
  pid_t kids[NFLOOD];
  for (int i = 0; i < NFLOOD; i++) {
    kids[i] = fork();
    if (kids[i] < 0) return perror("fork"), 1;
    if (kids[i] == 0) {
      close(stop[1]);
      close(report[0]);
      flood(getppid(), stop[0], report[1], i);
    }
  }
  close(stop[0]);
  close(report[1]);

  long long end = now_ms() + secs * 1000LL;
  while (now_ms() < end && !atomic_load(&failed)) {
    struct timespec ts = {0, 100 * 1000000};
    nanosleep(&ts, NULL);
  }
  /* The floods stop, report and are reaped: every signal they sent has been
   * sent by now. */
  close(stop[1]);
  unsigned long long sent = 0, one;
  for (int i = 0; i < NFLOOD; i++) {
    if (read(report[0], &one, sizeof one) != (ssize_t)sizeof one) return fail("flood report", 0), 1;
    sent += one;
  }
  for (int i = 0; i < NFLOOD; i++) {
    int st;
    if (waitpid(kids[i], &st, 0) != kids[i] || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
      return fail("a flood child failed", 0), 1;
  }
  close(report[0]);

  /* The marker, sent after the last send, must reach its callback. */
  long long sent_at = now_ms(), seen_at = 0;
  int resends = 0;
  kill(getpid(), MARKER);
  while (!atomic_load(&marker_seen) && now_ms() < sent_at + 60000) {
    struct timespec ts = {0, 2 * 1000000};
    nanosleep(&ts, NULL);
#ifdef SOAK_TSAN /* ThreadSanitizer may drop a signal: send it again, and say so */
    if (now_ms() > sent_at + 1000 * (resends + 1)) kill(getpid(), MARKER), resends++;
#endif
  }
  seen_at = now_ms();
  if (!atomic_load(&marker_seen))
    fail("the marker sent after the floods never reached its callback", 0);
    /* Every RT_COUNTED was queued before the marker was sent; give the queue
     * time to drain, then compare. */
#ifdef SOAK_TSAN
  long long until = now_ms() + 2000; /* what TSan dropped never comes */
#else
  long long until = now_ms() + 30000;
#endif
  while (atomic_load(counted) < sent && now_ms() < until) {
    struct timespec ts = {0, 5 * 1000000};
    nanosleep(&ts, NULL);
  }

  atomic_store(&stop_churn, 1);
  for (int i = 0; i < NCHURN; i++) pthread_join(churn[i], NULL);
  atomic_store(&stop_dispatch, 1);
  pthread_join(disp, NULL);
  xsig_dispatch(NULL);
  unsigned long long got = atomic_load(counted);
  printf("soak: %d s, %llu churn rounds, floods: %llu sigqueue(SIGRTMIN+1) accepted, %llu counted;"
         " SIGUSR1 %llu, SIGWINCH %llu, SIGURG %llu, SIGRTMIN+2 %llu deliveries;"
         " marker after %lld ms%s\n",
         secs, (unsigned long long)atomic_load(&churn_ops), sent, got,
         (unsigned long long)atomic_load(&delivered[SIGUSR1]),
         (unsigned long long)atomic_load(&delivered[SIGWINCH]),
         (unsigned long long)atomic_load(&delivered[SIGURG]),
         (unsigned long long)atomic_load(&delivered[RT_OTHER]), seen_at - sent_at,
         resends ? " (TSan: resent)" : "");
#ifdef SOAK_TSAN
  if (got > sent) fail("more SIGRTMIN+1 counted than sent", 0);
  if (got != sent) printf("soak: TSan dropped %llu of the realtime signals\n", sent - got);
#else
  if (got != sent) fail("SIGRTMIN+1: counted != sent; counted minus sent", (int)(got - sent));
#endif
  if (sent == 0) fail("the floods sent nothing", 0);
  xsig_shutdown();
  munmap(shared, 2 * sizeof *shared);
  int fds_end = count_fds();
  printf("soak: descriptors %d at start, %d at the end\n", fds_start, fds_end);
  if (fds_end != fds_start)
    fail("descriptors not back to their count at start", fds_end - fds_start);
  if (atomic_load(&failed)) return 1;
  printf("soak: passed\n");
  return 0;
}
