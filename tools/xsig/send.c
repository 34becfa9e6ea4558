/* xsig send PID SIG: kill(1) through xsig_send(). */
#include "cli.h"
#include <stdio.h>
#include <string.h>

static const char *const usage_send =
    "usage: xsig send PID SIG\n"
    "\n"
    "Sends SIG to the process PID, like kill(1). SIG is a name or a number; 0 only\n"
    "checks that the process exists. PID must be a positive process id. On Windows,\n"
    "TERM, HUP, QUIT, USR1 and USR2 reach a process that watches them through xsig.\n"
    "Exit status: 0 sent, 1 no such process / not permitted / failed, 2 bad usage.\n";

int cmd_send(int argc, char **argv) {
  if (cli_wants_help(argc, argv, usage_send)) return 0;
  if (argc != 2)
    return cli_fail(EXIT_USAGE, "send", "%s", "expects PID SIG (see xsig send --help)");
  int64_t pid;
  if (cli_parse_pid(argv[0], &pid) < 0)
    return cli_fail(EXIT_USAGE, "send", "bad pid '%s'", argv[0]);
  /* xsig_from_name refuses 0 because nothing can watch it; kill(1) accepts it. */
  int sig = strcmp(argv[1], "0") == 0 ? 0 : cli_parse_signal(argv[1]);
  if (sig < 0) return cli_fail(EXIT_USAGE, "send", "unknown signal '%s'", argv[1]);
  int r = xsig_send(pid, sig);
  if (r == 0) return 0;
  switch (r) {
  case XSIG_ESRCH:
    return cli_fail(EXIT_FAILED, "send", "no such process: %s", argv[0]);
  case XSIG_EPERM:
    return cli_fail(EXIT_FAILED, "send", "not permitted to signal pid %s", argv[0]);
  case XSIG_ENOLISTEN: /* Windows: no mailbox there, or the signal is not watched */
    return cli_fail(EXIT_FAILED, "send", "pid %s does not listen for that signal", argv[0]);
  case XSIG_ENOTSUP:
    return cli_fail(EXIT_FAILED, "send", "this platform cannot send %s", argv[1]);
  case XSIG_ESYS:
    fprintf(stderr, "xsig send: %s: %s (%d)\n", xsig_strerror(r), strerror(xsig_os_error()),
            xsig_os_error());
    return EXIT_FAILED;
  default:
    return cli_fail(EXIT_FAILED, "send", "%s", xsig_strerror(r));
  }
}
