/* xsig in a libuv loop, beside libuv's own uv_signal_t.
 *
 * A uv_poll_t watches xsig_wakeup_handle() and calls xsig_dispatch(). libuv
 * handles SIGUSR2 alone, xsig SIGUSR1 alone, and both handle SIGHUP: libuv
 * installed its handler first, and xsig chains to it, so each sees every
 * SIGHUP. The signals are real: the loop sends them to itself with kill().
 *
 * On the way out each library puts back what it found: xsig_shutdown() gives
 * SIGHUP back to libuv's handler (which keeps working) and SIGUSR1 back to
 * SIG_DFL; closing libuv's handles then gives SIGHUP and SIGUSR2 back to
 * SIG_DFL. Every step is checked with sigaction(); the exit status is 0 only
 * when all of it happened. Run it with no arguments. */
#define _POSIX_C_SOURCE 200809L
#include "xsig/xsig.h"
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>
#include <uv.h>

static int failed;
#define CHECK(cond)                                                                                \
  do {                                                                                             \
    if (!(cond)) {                                                                                 \
      fprintf(stderr, "uv_signals: %s:%d: %s\n", __FILE__, __LINE__, #cond);                       \
      failed = 1;                                                                                  \
    }                                                                                              \
  } while (0)

static int xsig_usr1, xsig_hup, uv_usr2, uv_hup;
static uv_loop_t *loop;
static uv_signal_t sig_usr2, sig_hup;
static uv_poll_t wake;
static uv_timer_t sender, deadline;

static void on_xsig(const xsig_event_t *ev, void *user) {
  (void)user;
  CHECK(ev->sender_pid == (int64_t)getpid());
  if (ev->signum == SIGUSR1) xsig_usr1 += (int)ev->count;
  if (ev->signum == SIGHUP) xsig_hup += (int)ev->count;
}

static void on_uv_signal(uv_signal_t *h, int signum) {
  (void)h;
  if (signum == SIGUSR2) uv_usr2++;
  if (signum == SIGHUP) uv_hup++;
}

static void on_wake(uv_poll_t *h, int status, int events) {
  (void)h;
  (void)events;
  CHECK(status == 0);
  xsig_dispatch(NULL);
}

/* Phase 1 needs one delivery of each kind seen by whoever watches it. */
static int phase1_done(void) {
  return xsig_usr1 >= 1 && xsig_hup >= 1 && uv_usr2 >= 1 && uv_hup >= 1;
}

/* Sends each signal until it has been seen: a signal folded with another,
 * or sent before the loop polls, is only late, never lost. */
static void on_send(uv_timer_t *t) {
  (void)t;
  if (phase1_done()) {
    uv_stop(loop);
    return;
  }
  if (!xsig_usr1) kill(getpid(), SIGUSR1);
  if (!uv_usr2) kill(getpid(), SIGUSR2);
  if (!xsig_hup || !uv_hup) kill(getpid(), SIGHUP);
}

static void on_deadline(uv_timer_t *t) {
  (void)t;
  fprintf(stderr, "uv_signals: timed out (xsig: USR1 %d HUP %d; libuv: USR2 %d HUP %d)\n",
          xsig_usr1, xsig_hup, uv_usr2, uv_hup);
  failed = 1;
  uv_stop(loop);
}

static struct sigaction now(int sig) {
  struct sigaction sa;
  sigaction(sig, NULL, &sa);
  return sa;
}

static int is_default(int sig) {
  struct sigaction sa = now(sig);
  return !(sa.sa_flags & SA_SIGINFO) && sa.sa_handler == SIG_DFL;
}

/* The same handler is installed: the pointer, as SA_SIGINFO says to read it. */
static int same_handler(const struct sigaction *a, const struct sigaction *b) {
  if ((a->sa_flags & SA_SIGINFO) != (b->sa_flags & SA_SIGINFO)) return 0;
  return a->sa_flags & SA_SIGINFO ? a->sa_sigaction == b->sa_sigaction
                                  : a->sa_handler == b->sa_handler;
}

static void on_closed(uv_handle_t *h) {
  (void)h;
}

int main(int argc, char **argv) {
  if (argc > 1) {
    int help = strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0;
    fputs("usage: uv_signals\n"
          "Runs xsig and libuv's uv_signal_t in one libuv loop, on their own signals\n"
          "and on a shared SIGHUP, sending itself real signals; exits 0 when both saw\n"
          "everything and both put back the dispositions they found.\n",
          help ? stdout : stderr);
    return help ? 0 : 2;
  }
  CHECK(is_default(SIGUSR1) && is_default(SIGUSR2) && is_default(SIGHUP));
  loop = uv_default_loop();

  /* libuv first: xsig then finds libuv's SIGHUP handler and chains to it. */
  uv_signal_init(loop, &sig_usr2);
  uv_signal_init(loop, &sig_hup);
  CHECK(uv_signal_start(&sig_usr2, on_uv_signal, SIGUSR2) == 0);
  CHECK(uv_signal_start(&sig_hup, on_uv_signal, SIGHUP) == 0);
  struct sigaction uv_hup_action = now(SIGHUP);

  CHECK(xsig_init() == 0);
  CHECK(xsig_watch(NULL, SIGUSR1, on_xsig, NULL, 0, NULL) == 0);
  CHECK(xsig_watch(NULL, SIGHUP, on_xsig, NULL, 0, NULL) == 0);
  CHECK(xsig_disposition(SIGHUP) == XSIG_DISP_XSIG);
  CHECK(uv_poll_init(loop, &wake, xsig_wakeup_handle(NULL)) == 0);
  CHECK(uv_poll_start(&wake, UV_READABLE, on_wake) == 0);

  uv_timer_init(loop, &sender);
  uv_timer_init(loop, &deadline);
  uv_timer_start(&sender, on_send, 0, 20);
  uv_timer_start(&deadline, on_deadline, 20000, 0);
  uv_run(loop, UV_RUN_DEFAULT);
  printf("together: xsig saw SIGUSR1 x%d and SIGHUP x%d; libuv saw SIGUSR2 x%d and SIGHUP x%d\n",
         xsig_usr1, xsig_hup, uv_usr2, uv_hup);
  CHECK(phase1_done());

  /* xsig leaves: its poll handle first (xsig_shutdown closes the descriptor). */
  uv_poll_stop(&wake);
  uv_close((uv_handle_t *)&wake, on_closed);
  xsig_shutdown();
  struct sigaction after = now(SIGHUP);
  CHECK(same_handler(&after, &uv_hup_action)); /* libuv's handler is back */
  CHECK(is_default(SIGUSR1));                  /* what xsig found for SIGUSR1 */

  /* libuv alone still gets SIGHUP. */
  int before = uv_hup;
  for (int i = 0; i < 1000 && uv_hup == before && !failed; i++) {
    kill(getpid(), SIGHUP);
    uv_run(loop, UV_RUN_ONCE);
  }
  CHECK(uv_hup > before);
  printf("after xsig_shutdown: libuv saw SIGHUP again (x%d)\n", uv_hup - before);

  /* libuv leaves: it found SIG_DFL everywhere. */
  uv_close((uv_handle_t *)&sig_usr2, on_closed);
  uv_close((uv_handle_t *)&sig_hup, on_closed);
  uv_close((uv_handle_t *)&sender, on_closed);
  uv_close((uv_handle_t *)&deadline, on_closed);
  uv_run(loop, UV_RUN_DEFAULT);
  CHECK(uv_loop_close(loop) == 0);
  CHECK(is_default(SIGUSR1) && is_default(SIGUSR2) && is_default(SIGHUP));
  puts(failed ? "uv_signals: FAILED" : "uv_signals: ok");
  return failed;
}
