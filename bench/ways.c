/* The six ways a process takes SIGUSR1, each written the way its users would
 * write it: one watch or handler, then the library's own loop (or the caller's
 * poll loop) until the callback has run. */
#include "bench.h"
#include "xsig/xsig.h"
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>
#ifdef XSIG_BENCH_LIBUV
#include <uv.h>
#endif
#ifdef XSIG_BENCH_LIBEVENT
#include <event2/event.h>
#endif

/* Deliveries that reached ordinary code; only ever touched outside handlers. */
static uint64_t got;

/* ---------------------------------------------------------------- the floor */

static sigset_t usr1;

static int floor_setup(void) {
  sigemptyset(&usr1);
  sigaddset(&usr1, SIGUSR1);
  return sigprocmask(SIG_BLOCK, &usr1, NULL);
}

static void floor_take(void) {
  siginfo_t si;
  while (sigwaitinfo(&usr1, &si) != SIGUSR1) {
  }
  got++;
}

static void floor_teardown(void) {}

/* ---------------------------------------------------------------- xsig */

static int xfd;

static void on_xsig(const xsig_event_t *ev, void *user) {
  (void)user;
  got += ev->count;
}

static int xsig_setup(void) {
  if (xsig_init() < 0 || xsig_watch(NULL, SIGUSR1, on_xsig, NULL, 0, NULL) < 0) return -1;
  xfd = xsig_wakeup_handle(NULL);
  return 0;
}

static void xwait_take(void) {
  uint64_t want = got + 1;
  while (got < want) xsig_wait(NULL, -1);
}

/* A caller's own loop: poll, and dispatch when the handle says so. An EINTR
 * goes round again, as in any event loop. */
static void xpoll_take(void) {
  uint64_t want = got + 1;
  while (got < want) {
    struct pollfd p = {xfd, POLLIN, 0};
    if (poll(&p, 1, -1) > 0) xsig_dispatch(NULL);
  }
}

static void xsig_teardown(void) {
  xsig_shutdown();
}

/* ---------------------------------------------------------------- libuv */

#ifdef XSIG_BENCH_LIBUV
static uv_signal_t uvsig;

static void on_uv(uv_signal_t *h, int sig) {
  (void)h, (void)sig;
  got++;
}

static int uv_setup(void) {
  if (uv_signal_init(uv_default_loop(), &uvsig) < 0) return -1;
  return uv_signal_start(&uvsig, on_uv, SIGUSR1) < 0 ? -1 : 0;
}

static void uv_take(void) {
  uint64_t want = got + 1;
  while (got < want) uv_run(uv_default_loop(), UV_RUN_ONCE);
}

static void uv_teardown(void) {
  uv_close((uv_handle_t *)&uvsig, NULL);
  uv_run(uv_default_loop(), UV_RUN_DEFAULT);
  uv_loop_close(uv_default_loop());
}
#endif

/* ---------------------------------------------------------------- libevent */

#ifdef XSIG_BENCH_LIBEVENT
static struct event_base *evbase;
static struct event *evsig;

static void on_ev(evutil_socket_t sig, short what, void *arg) {
  (void)sig, (void)what, (void)arg;
  got++;
}

static int ev_setup(void) {
  evbase = event_base_new();
  if (!evbase) return -1;
  evsig = evsignal_new(evbase, SIGUSR1, on_ev, NULL);
  return evsig && event_add(evsig, NULL) == 0 ? 0 : -1;
}

static void ev_take(void) {
  uint64_t want = got + 1;
  while (got < want) event_base_loop(evbase, EVLOOP_ONCE);
}

static void ev_teardown(void) {
  event_free(evsig);
  event_base_free(evbase);
}
#endif

/* ---------------------------------------------------------------- naive self-pipe */

static int selfpipe[2];

static void on_pipe_signal(int sig) {
  int e = errno;
  (void)sig;
  (void)!write(selfpipe[1], "", 1);
  errno = e;
}

static int pipe_setup(void) {
  struct sigaction sa;
  if (pipe(selfpipe) < 0) return -1;
  for (int i = 0; i < 2; i++)
    if (fcntl(selfpipe[i], F_SETFL, O_NONBLOCK) < 0) return -1;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_pipe_signal;
  sa.sa_flags = SA_RESTART;
  sigemptyset(&sa.sa_mask);
  return sigaction(SIGUSR1, &sa, NULL);
}

static void pipe_take(void) {
  uint64_t want = got + 1;
  char buf[64];
  while (got < want) {
    struct pollfd p = {selfpipe[0], POLLIN, 0};
    if (poll(&p, 1, -1) <= 0) continue;
    ssize_t r = read(selfpipe[0], buf, sizeof buf);
    if (r > 0) got += (uint64_t)r;
  }
}

static void pipe_teardown(void) {
  signal(SIGUSR1, SIG_DFL);
  close(selfpipe[0]);
  close(selfpipe[1]);
}

/* ---------------------------------------------------------------- the table */

static int missing_setup(void) {
  return -1;
}

static void missing_take(void) {}

const bench_way_t bench_ways[BENCH_NWAYS] = {
    [BENCH_FLOOR] = {"floor", "sigwaitinfo (floor)", floor_setup, floor_take, floor_teardown},
    [BENCH_XWAIT] = {"xsig-wait", "xsig `xsig_wait`", xsig_setup, xwait_take, xsig_teardown},
    [BENCH_XPOLL] = {"xsig-poll", "xsig handle in `poll()` + `xsig_dispatch`", xsig_setup,
                     xpoll_take, xsig_teardown},
#ifdef XSIG_BENCH_LIBUV
    [BENCH_LIBUV] = {"libuv", "libuv `uv_signal_t`", uv_setup, uv_take, uv_teardown},
#else
    [BENCH_LIBUV] = {"libuv", "libuv `uv_signal_t`", missing_setup, missing_take, floor_teardown},
#endif
#ifdef XSIG_BENCH_LIBEVENT
    [BENCH_LIBEVENT] = {"libevent", "libevent `evsignal`", ev_setup, ev_take, ev_teardown},
#else
    [BENCH_LIBEVENT] = {"libevent", "libevent `evsignal`", missing_setup, missing_take,
                        floor_teardown},
#endif
    [BENCH_PIPE] = {"selfpipe", "naive self-pipe + `poll()`", pipe_setup, pipe_take, pipe_teardown},
};

const bench_way_t *bench_way(const char *key) {
  for (int i = 0; i < BENCH_NWAYS; i++)
    if (strcmp(bench_ways[i].key, key) == 0) return &bench_ways[i];
  return NULL;
}

int bench_way_built(const bench_way_t *w) {
  return w->setup != missing_setup && w->take != missing_take;
}
