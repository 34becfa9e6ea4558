/* xsig in a libevent loop: one persistent read event on the wakeup handle,
 *
 *   event_new(base, xsig_wakeup_handle(NULL), EV_READ | EV_PERSIST, on_wake, NULL)
 *
 * whose callback runs xsig_dispatch(). A child process sends SIGUSR1 three
 * times and then SIGTERM; xsig's callbacks see them with the child's pid, and
 * SIGTERM ends the loop. Exits 0 only when all of that happened and xsig put
 * the dispositions back. Run it with no arguments. */
#define _POSIX_C_SOURCE 200809L
#include "xsig/xsig.h"
#include <event2/event.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

static int failed;
#define CHECK(cond)                                                                                \
  do {                                                                                             \
    if (!(cond)) {                                                                                 \
      fprintf(stderr, "event_signals: %s:%d: %s\n", __FILE__, __LINE__, #cond);                    \
      failed = 1;                                                                                  \
    }                                                                                              \
  } while (0)

static struct event_base *base;
static pid_t child;
static int usr1, term, ack[2];

static void on_signal(const xsig_event_t *ev, void *user) {
  (void)user;
  CHECK(ev->sender_pid == (int64_t)child);
  if (ev->signum == SIGUSR1) {
    usr1 += (int)ev->count;
    /* The child sends the next signal once this one was seen, so the three
     * are three events, not one folded count. */
    CHECK(write(ack[1], "k", 1) == 1);
  }
  if (ev->signum == SIGTERM) {
    term++;
    event_base_loopbreak(base);
  }
}

static void on_wake(evutil_socket_t fd, short what, void *arg) {
  (void)fd;
  (void)arg;
  CHECK(what & EV_READ);
  xsig_dispatch(NULL);
}

static void on_deadline(evutil_socket_t fd, short what, void *arg) {
  (void)fd;
  (void)what;
  (void)arg;
  fprintf(stderr, "event_signals: timed out (SIGUSR1 x%d, SIGTERM x%d)\n", usr1, term);
  failed = 1;
  event_base_loopbreak(base);
}

int main(int argc, char **argv) {
  if (argc > 1) {
    int help = strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0;
    fputs("usage: event_signals\n"
          "Dispatches xsig from a libevent loop (EV_READ | EV_PERSIST on the wakeup\n"
          "handle) while a child sends it SIGUSR1 three times and then SIGTERM.\n",
          help ? stdout : stderr);
    return help ? 0 : 2;
  }
  CHECK(xsig_init() == 0);
  CHECK(xsig_watch(NULL, SIGUSR1, on_signal, NULL, 0, NULL) == 0);
  CHECK(xsig_watch(NULL, SIGTERM, on_signal, NULL, 0, NULL) == 0);
  CHECK(pipe(ack) == 0);

  base = event_base_new();
  CHECK(base != NULL);
  struct event *wake =
      event_new(base, xsig_wakeup_handle(NULL), EV_READ | EV_PERSIST, on_wake, NULL);
  struct event *deadline = evtimer_new(base, on_deadline, NULL);
  struct timeval limit = {20, 0};
  CHECK(wake && deadline && event_add(wake, NULL) == 0 && event_add(deadline, &limit) == 0);

  pid_t parent = getpid();
  child = fork();
  if (child == 0) {
    char c;
    for (int i = 0; i < 3; i++) {
      kill(parent, SIGUSR1);
      if (read(ack[0], &c, 1) != 1) _exit(1); /* the parent is gone */
    }
    kill(parent, SIGTERM);
    _exit(0);
  }
  CHECK(child > 0);
  if (child > 0) {
    event_base_dispatch(base);
    if (failed) kill(child, SIGKILL); /* it may wait for an ack that never comes */
    int st = 0;
    CHECK(waitpid(child, &st, 0) == child && WIFEXITED(st) && WEXITSTATUS(st) == 0);
  }
  printf("SIGUSR1 x%d, SIGTERM x%d, all from the child (pid %ld)\n", usr1, term, (long)child);
  CHECK(usr1 == 3 && term == 1);

  event_free(wake);
  event_free(deadline);
  event_base_free(base);
  xsig_shutdown();
  CHECK(xsig_disposition(SIGUSR1) == XSIG_DISP_DEFAULT);
  CHECK(xsig_disposition(SIGTERM) == XSIG_DISP_DEFAULT);
  puts(failed ? "event_signals: FAILED" : "event_signals: ok");
  return failed;
}
