/* Flood: sender processes signal the receiver as fast as they can for a fixed
 * time while it takes the signal with xsig. Realtime signals queue, so every
 * successful send must show up in a callback's count, exactly; standard
 * signals fold, so the proof there is a callback after the last send. */
#include "bench.h"
#include "xsig/xsig.h"
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAXSENDERS 4
#define SETTLE_NS  10000000000ull /* 10 s for the last deliveries after the flood */

struct flood_arg {
  int sig, senders, poll_path;
  double seconds;
};

struct flood_res {
  uint64_t sent, callbacks, counted;
  double wall_s, cpu_ns;
  int after_last, exact;
};

struct sender_res {
  uint64_t sent, last_ns; /* last_ns: just before the last successful send */
};

static uint64_t callbacks, counted, last_cb_ns;

static void on_sig(const xsig_event_t *ev, void *user) {
  (void)user;
  callbacks++;
  counted += ev->count;
  last_cb_ns = bench_now_ns();
}

/* Realtime signals go by sigqueue(): the kernel refuses one with EAGAIN when the
 * queue is full, so 'sent' is exact. kill() would make the kernel keep only the
 * pending bit past the limit, folding deliveries without telling the sender. */
static int send_one(pid_t rx, int sig) {
  if (sig < SIGRTMIN) return kill(rx, sig);
  union sigval v = {0};
  return sigqueue(rx, sig, v);
}

static void sender(pid_t rx, int sig, uint64_t end, int go, int out) {
  struct sender_res r = {0, 0};
  char c;
  if (bench_read_all(go, &c, 1) < 0) _exit(1);
  for (;;) {
    uint64_t t = bench_now_ns();
    if (t >= end) break;
    for (int i = 0; i < 64; i++) {
      t = bench_now_ns();
      if (send_one(rx, sig) == 0) {
        r.sent++;
        r.last_ns = t;
      } else if (errno != EAGAIN) { /* EAGAIN: the realtime queue is full */
        _exit(1);
      }
    }
  }
  _exit(bench_write_all(out, &r, sizeof r) ? 1 : 0);
}

static void take(const struct flood_arg *a, int fd, int timeout_ms) {
  if (!a->poll_path) {
    xsig_wait(NULL, timeout_ms);
    return;
  }
  struct pollfd p = {fd, POLLIN, 0};
  if (poll(&p, 1, timeout_ms) > 0) xsig_dispatch(NULL);
}

static int flood_child(void *arg, void *out) {
  const struct flood_arg *a = arg;
  struct flood_res *r = out;
  int go[2], res[2];
  pid_t kids[MAXSENDERS], me = getpid();
  if (a->senders > MAXSENDERS || pipe(go) < 0 || pipe(res) < 0) return 1;
  if (xsig_init() < 0 || xsig_watch(NULL, a->sig, on_sig, NULL, 0, NULL) < 0) return 1;
  int fd = xsig_wakeup_handle(NULL);
  uint64_t t0 = bench_now_ns() + 200000000ull; /* the senders' clocks start together */
  uint64_t end = t0 + (uint64_t)(a->seconds * 1e9);
  for (int i = 0; i < a->senders; i++) {
    kids[i] = fork();
    if (kids[i] == 0) sender(me, a->sig, end, go[0], res[1]);
  }
  close(res[1]);
  while (bench_now_ns() < t0) {
  }
  uint64_t c0 = bench_cpu_ns(), w0 = bench_now_ns();
  for (int i = 0; i < a->senders; i++) (void)!write(go[1], "x", 1);
  while (bench_now_ns() < end) take(a, fd, 10);
  /* The senders stop at 'end'; their reports say what they sent, and when. */
  uint64_t last_send = 0;
  r->sent = 0;
  for (int i = 0; i < a->senders; i++) {
    struct sender_res sr;
    while (bench_read_all(res[0], &sr, sizeof sr) < 0) {
      if (errno != EINTR) return 1;
    }
    r->sent += sr.sent;
    if (sr.last_ns > last_send) last_send = sr.last_ns;
  }
  for (int i = 0; i < a->senders; i++) {
    int st;
    while (waitpid(kids[i], &st, 0) < 0 && errno == EINTR) {
    }
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) return 1;
  }
  /* Realtime: until every send is counted; standard: until a callback ran
   * after the last send. Either has 10 s. */
  uint64_t limit = bench_now_ns() + SETTLE_NS;
  int rt = a->sig >= SIGRTMIN;
  while (bench_now_ns() < limit) {
    if (rt ? counted >= r->sent : last_cb_ns > last_send) break;
    take(a, fd, 100);
  }
  r->cpu_ns = (double)(bench_cpu_ns() - c0);
  r->wall_s = (double)(last_cb_ns - w0) / 1e9;
  /* Anything still to come would show as an extra count: take it too. */
  xsig_dispatch(NULL);
  r->callbacks = callbacks;
  r->counted = counted;
  r->after_last = last_cb_ns > last_send;
  r->exact = counted == r->sent;
  xsig_shutdown();
  return 0;
}

void bench_flood(double seconds, bench_summary_t *s) {
  struct flood_arg cases[] = {
      {SIGUSR1, 1, 0, 0}, {SIGUSR1, 2, 0, 0}, {SIGRTMIN, 1, 0, 0}, {SIGRTMIN, 2, 0, 0},
      {SIGUSR1, 1, 1, 0}, {SIGUSR1, 2, 1, 0}, {SIGRTMIN, 1, 1, 0}, {SIGRTMIN, 2, 1, 0},
  };
  s->flood_ok = 1;
  fprintf(bench_out,
          "\n## Flood\n\n"
          "Sender processes signal the receiver in a tight loop for %.1f s: `kill()` for "
          "SIGUSR1, `sigqueue()` for SIGRTMIN (a full queue's EAGAIN is retried and not "
          "counted as sent; `kill()` would let the kernel fold realtime signals past the queue "
          "limit without telling the sender). The receiver takes the signal with xsig. Rates "
          "and CPU run from the start of the flood to the last callback. While signals keep "
          "arriving the kernel runs the handler again before it returns to ordinary code, so "
          "the receiver's loop runs only in the gaps: callbacks are few and each folds many "
          "deliveries (its `count`), and deliveries/s is the rate to compare. Nothing lost means: "
          "realtime, the callbacks' counts add up to "
          "exactly the successful sends; standard, a callback ran after the last send.\n\n"
          "| signal | senders | receiver | sent | deliveries counted | callbacks | "
          "deliveries/s | callbacks/s | receiver CPU ns / delivery | receiver CPU ns / callback "
          "| nothing lost |\n"
          "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---|\n",
          seconds);
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    struct flood_arg a = cases[i];
    struct flood_res r;
    const char *name = a.sig == SIGUSR1 ? "SIGUSR1" : "SIGRTMIN";
    const char *how = a.poll_path ? "`poll()` + `xsig_dispatch`" : "`xsig_wait`";
    a.seconds = seconds;
    if (bench_in_child(flood_child, &a, &r, sizeof r) < 0) {
      fprintf(bench_out, "| %s | %d | %s | failed | | | | | | | no |\n", name, a.senders, how);
      s->flood_ok = 0;
      continue;
    }
    int rt = a.sig >= SIGRTMIN, ok = rt ? r.exact : r.after_last;
    if (!ok) s->flood_ok = 0;
    fprintf(bench_out, "| %s | %d | %s | %llu | %llu | %llu | %.0f | %.0f | %.0f | %.0f | %s |\n",
            name, a.senders, how, (unsigned long long)r.sent, (unsigned long long)r.counted,
            (unsigned long long)r.callbacks, (double)r.counted / r.wall_s,
            (double)r.callbacks / r.wall_s, r.cpu_ns / (double)r.counted,
            r.cpu_ns / (double)r.callbacks,
            ok ? (rt ? "yes (exact)" : "yes (callback after last send)") : "**NO**");
  }
}
