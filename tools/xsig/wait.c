/* xsig wait SIG... [--timeout SECS]: waits for one of the signals and says
 * who sent it. */
#include "cli.h"
#include <stdio.h>
#include <string.h>

static const char *const usage_wait =
    "usage: xsig wait SIG... [--timeout SECONDS]\n"
    "\n"
    "Watches every SIG given, then prints to stderr\n"
    "  waiting for SIGUSR1 SIGTERM (pid N)\n"
    "once they are watched, so a script can send only after that line. When one of\n"
    "them arrives it prints to stdout, one line per signal that arrived,\n"
    "  SIGUSR1 from pid 1234\n"
    "('from pid unknown' when the platform does not tell) and exits 0.\n"
    "--timeout SECONDS (fractions allowed, e.g. 0.5) gives up after that long and\n"
    "exits 124. Without it the wait has no limit; a time beyond 2^63-1 ms is taken\n"
    "as that.\n";

struct caught {
  int n;
  xsig_event_t ev[64]; /* one per watched signal and dispatch at most */
};

static void on_signal(const xsig_event_t *ev, void *user) {
  struct caught *c = user;
  if (c->n < (int)(sizeof c->ev / sizeof c->ev[0])) c->ev[c->n++] = *ev;
}

static int watch_all(const int *sigs, int n, struct caught *c) {
  for (int i = 0; i < n; i++) {
    int r = xsig_watch(NULL, sigs[i], on_signal, c, 0, NULL);
    if (r == 0) continue;
    fprintf(stderr, "xsig wait: cannot watch %s: %s\n", xsig_name(sigs[i]), xsig_strerror(r));
    return r == XSIG_ESYS || r == XSIG_ENOMEM ? EXIT_FAILED : EXIT_USAGE;
  }
  return 0;
}

static void say_ready(const int *sigs, int n) {
  fputs("waiting for", stderr);
  for (int i = 0; i < n; i++) fprintf(stderr, " %s", xsig_name(sigs[i]));
  fprintf(stderr, " (pid %ld)\n", cli_getpid());
  fflush(stderr);
}

/* With every watched signal owning a callback, xsig_wait() returns 0 only when
 * its whole time-out has passed, so the chunks add up to the requested time
 * without a clock of our own. */
static int wait_for(struct caught *c, int64_t timeout_ms) {
  const int64_t chunk_max = 1 << 30;
  for (;;) {
    int chunk = timeout_ms < 0 ? -1 : (int)(timeout_ms < chunk_max ? timeout_ms : chunk_max);
    int r = xsig_wait(NULL, chunk);
    if (c->n > 0) return 0;
    if (r < 0) return r;
    if (timeout_ms < 0) continue;
    timeout_ms -= chunk;
    if (timeout_ms <= 0) return 1;
  }
}

int cmd_wait(int argc, char **argv) {
  if (cli_wants_help(argc, argv, usage_wait)) return 0;
  int sigs[CLI_WAIT_MAX], n;
  int64_t timeout_ms;
  int status = cli_parse_wait_args(argc, argv, sigs, &n, &timeout_ms);
  if (status) return status;
  static struct caught caught;
  int r = xsig_init();
  if (r < 0) return cli_fail(EXIT_FAILED, "wait", "cannot start: %s", xsig_strerror(r));
  status = watch_all(sigs, n, &caught);
  if (status == 0) {
    say_ready(sigs, n);
    r = wait_for(&caught, timeout_ms);
    if (r < 0) {
      status = cli_fail(EXIT_FAILED, "wait", "%s", xsig_strerror(r));
    } else if (r == 1) {
      status = cli_fail(EXIT_TIMEOUT, "wait", "%s", "timed out");
    }
  }
  for (int i = 0; i < caught.n; i++) {
    const xsig_event_t *ev = &caught.ev[i];
    if (ev->sender_pid >= 0)
      printf("%s from pid %lld\n", xsig_name(ev->signum), (long long)ev->sender_pid);
    else
      printf("%s from pid unknown\n", xsig_name(ev->signum));
  }
  fflush(stdout);
  /* Puts the previous dispositions back before this process goes away. */
  xsig_shutdown();
  return status;
}
