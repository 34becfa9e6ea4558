/* The wakeup handle in an ordinary poll() loop: the loop sleeps in poll() with
 * its other descriptors, and signals arrive as callbacks from xsig_dispatch().
 * Try: ./poll_loop, then kill -USR1 <pid> a few times, then Ctrl+C. */
#include "xsig/xsig.h"
#include <stdio.h>
#include <string.h>
#ifdef _WIN32
#include <winsock2.h>
#define poll WSAPoll
#else
#include <poll.h>
#endif

static int done;

static void on_signal(const xsig_event_t *ev, void *user) {
  (void)user;
  printf("%s x%u from pid %lld\n", xsig_name(ev->signum), (unsigned)ev->count,
         (long long)ev->sender_pid);
  if (ev->signum == SIGINT || ev->signum == SIGTERM) done = 1;
}

int main(int argc, char **argv) {
  if (argc > 1) {
    int help = strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0;
    fputs("usage: poll_loop\n"
          "Prints each SIGINT, SIGTERM and SIGUSR1 it gets; SIGINT or SIGTERM ends it.\n",
          help ? stdout : stderr);
    return help ? 0 : 2;
  }
  if (xsig_init() < 0) return 1;
  xsig_watch(NULL, SIGINT, on_signal, NULL, 0, NULL);
  xsig_watch(NULL, SIGTERM, on_signal, NULL, 0, NULL);
  xsig_watch(NULL, SIGUSR1, on_signal, NULL, 0, NULL); /* XSIG_ENOTSUP on Windows: harmless */
  struct pollfd p = {.fd = xsig_wakeup_handle(NULL), .events = POLLIN};
  puts("waiting for signals; Ctrl+C ends");
  fflush(stdout);
  while (!done) {
    if (poll(&p, 1, -1) < 0) continue; /* EINTR: the handler ran on this thread */
    xsig_dispatch(NULL);
    fflush(stdout);
  }
  xsig_shutdown();
  return 0;
}
