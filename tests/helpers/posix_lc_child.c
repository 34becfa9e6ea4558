/* Child program for the lifecycle tests: one scenario per argv[1], reported as
 * lines on stdout (written with write(), so nothing waits in a stdio buffer
 * when the process is forced to end). */
#define _POSIX_C_SOURCE 200809L
#if defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define XSIG_LC_TSAN 1
#endif
#endif
#include "xsig/lifecycle.h"
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void out(const char *fmt, ...) {
  char buf[128];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  if (write(1, buf, (size_t)n) < 0) _exit(99);
}

static void on_force(int sig, void *user) {
  (void)user;
  out("forced %d\n", sig);
}

static int stopped;

static void on_stop(int sig, void *user) {
  (void)user;
  stopped = 1;
  out("on_stop %d\n", sig);
}

static unsigned terms;
static int usr1;

static void count_term(const xsig_event_t *ev, void *user) {
  (void)user;
  terms += ev->count;
  out("term %u\n", terms);
}

static void on_usr1(const xsig_event_t *ev, void *user) {
  (void)ev, (void)user;
  usr1 = 1;
}

static void at_exit(void) {
  out("atexit\n");
}

/* An atexit handler that never returns: only the watchdog can end the process. */
static void hang_at_exit(void) {
  out("atexit hangs\n");
  for (;;) pause();
}

/* Leaves the stop set to the watchdog thread, which keeps it open. Under
 * ThreadSanitizer a signal that lands on a thread inside a call it does not
 * intercept (xsig_wait's raw ppoll) waits for that thread's next intercepted
 * call, which may never come. */
static void block_stop_set(void) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, NULL);
}

/* xsig_graceful_start's result. merge_ms and flags as in xsig_graceful_opts_t. */
static int start_with(int grace_ms, int second_forces, int merge_ms, unsigned flags) {
  xsig_graceful_opts_t o = {.grace_ms = grace_ms,
                            .second_forces = second_forces,
                            .on_stop = on_stop,
                            .on_force = on_force,
                            .merge_ms = merge_ms,
                            .flags = flags};
  int r = xsig_init();
  return r < 0 ? r : xsig_graceful_start(NULL, &o);
}

static int start(int grace_ms, int second_forces) {
  return start_with(grace_ms, second_forces, 0, 0) < 0 ? -1 : 0;
}

/* The disposition as the kernel has it, not as xsig reports it. */
static const char *disposition(int sig) {
  struct sigaction sa;
  if (sigaction(sig, NULL, &sa) != 0) return "error";
  if (sa.sa_handler == SIG_IGN) return "ign";
  return sa.sa_handler == SIG_DFL ? "dfl" : "handler";
}

static int reloads;

static int count_reload(void *user, char *err, size_t errsize) {
  (void)user, (void)err, (void)errsize;
  out("reloaded\n");
  reloads++;
  return 0;
}

int main(int argc, char **argv) {
  const char *mode = argc > 1 ? argv[1] : "";
  if (strcmp(mode, "watchdog") == 0) {
    uint64_t us;
    int r = xsig_watchdog_interval(&us);
    out("watchdog %d %llu\n", r, (unsigned long long)us);
    return 0;
  }
  if (strcmp(mode, "exit") == 0) { /* exit <status|signal> */
    if (start(0, -1) < 0) return 98;
    atexit(at_exit);
    out("ready\n");
    /* Not xsig_stop_requested(): it may turn before this thread dispatches. */
    while (!stopped) xsig_wait(NULL, -1);
    out("cleanup %d\n", xsig_stop_requested());
    xsig_graceful_exit(strcmp(argv[2], "signal") == 0 ? XSIG_EXIT_BY_SIGNAL : atoi(argv[2]));
  }
  if (strcmp(mode, "spin") == 0) { /* spin [merge_ms]: never dispatches, never blocks */
    volatile unsigned long n = 0;
    if (start_with(0, 0, argc > 2 ? atoi(argv[2]) : 0, 0) < 0) return 98;
#if defined(__SANITIZE_THREAD__) || defined(XSIG_LC_TSAN)
    /* ThreadSanitizer runs a handler only when its thread makes a call; this
     * one never will. Leave the stop set to the watchdog, which keeps it open. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
#endif
    out("ready\n");
    while (!xsig_stop_requested()) n++;
    out("stop seen %d\n", xsig_stop_requested());
    for (;;) n++;
  }
  if (strcmp(mode, "block") == 0) { /* blocked for good: only the grace timer ends it */
    if (start(atoi(argv[2]), -1) < 0) return 98;
    out("ready\n");
    /* pause() rather than a read() that SA_RESTART resumes: ThreadSanitizer runs
     * a handler only once the interrupted call returns to user space. */
    for (;;) pause();
  }
  if (strcmp(mode, "nosecond") == 0) { /* second_forces off: stop requests just count */
    if (start(0, -1) < 0) return 98;
    xsig_watch(NULL, SIGTERM, count_term, NULL, 0, NULL);
    xsig_watch(NULL, SIGUSR1, on_usr1, NULL, 0, NULL);
    out("ready\n");
    while (!usr1) xsig_wait(NULL, -1);
    out("stop %d\n", xsig_stop_requested());
    xsig_graceful_exit(0);
  }
  if (strcmp(mode, "hang-atexit") == 0) { /* hang-atexit <grace_ms> <second_forces> */
    if (start(atoi(argv[2]), atoi(argv[3])) < 0) return 98;
    block_stop_set();
    atexit(hang_at_exit);
    out("ready\n");
    while (!stopped) xsig_wait(NULL, -1);
    xsig_graceful_exit(0);
  }
  if (strcmp(mode, "ignored") ==
      0) { /* ignored <flags>: what start does with ignored stop signals */
    int r = start_with(0, 0, 0, (unsigned)atoi(argv[2]));
    out("start %d INT %s TERM %s\n", r, disposition(SIGINT), disposition(SIGTERM));
    if (r < 0) return 0;
    out("ready\n");
    while (!stopped) xsig_wait(NULL, -1);
    out("cleanup\n");
    xsig_graceful_exit(0);
  }
  if (strcmp(mode, "reload") == 0) { /* reload <flags>: until SIGUSR1 */
    int r = xsig_init();
    if (r == 0) r = xsig_watch(NULL, SIGUSR1, on_usr1, NULL, 0, NULL);
    if (r == 0) r = xsig_reload_start_flags(NULL, count_reload, NULL, (unsigned)atoi(argv[2]));
    out("reload %d HUP %s\n", r, disposition(SIGHUP));
    while (!usr1) xsig_wait(NULL, -1);
    out("reloads %d\n", reloads);
    return 0;
  }
  return 97;
}
