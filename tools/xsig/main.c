/* xsig: the command-line face of the library.
 *
 *   xsig list                          this platform's signal table
 *   xsig names                         numbers and names
 *   xsig send PID SIG                  like kill(1), through xsig_send()
 *   xsig wait SIG... [--timeout SECS]  waits for one of the signals
 *   xsig run [OPTIONS] -- CMD...       an init: spawns, forwards, reaps (docs/RUN.md)
 *   xsig inspect [--json] PID|--self   a process's signal state, with diagnoses
 *
 * Exit status: 0 success, 1 the operation failed (no such process, not
 * permitted, an OS error), 2 bad usage (unknown command, bad signal or pid),
 * 124 'wait' timed out (as timeout(1) does).
 *
 * This file only picks the subcommand; each one has its own file. */
#include "cli.h"
#include <stdio.h>
#include <string.h>

#ifndef XSIG_VERSION
#define XSIG_VERSION "unknown"
#endif

static const char *const usage_top =
    "usage: xsig <command> [arguments]\n"
    "\n"
    "commands:\n"
    "  list [--json]                 this platform's signals: number, support, portability,\n"
    "                                and their disposition in this process\n"
    "  inspect [--json] PID|--self   what a process does with each signal (caught, ignored,\n"
    "                                blocked, pending) and what that means\n"
    "  run [OPTIONS] -- CMD [ARGS]   run CMD under an init that forwards signals and reaps\n"
    "  names                         the signal numbers and their names\n"
    "  send PID SIG                  send SIG to process PID (like kill(1))\n"
    "  wait SIG... [--timeout SECS]  wait for one of the signals, print it and its sender\n"
    "\n"
    "SIG is a name or a number, in any case, with or without SIG: TERM, sigterm, 15.\n"
    "Run 'xsig <command> --help' for more. 'xsig --version' prints the version.\n"
    "Exit status: 0 success, 1 failure, 2 bad usage, 124 wait timed out.\n";

struct command {
  const char *name;
  int (*run)(int argc, char **argv);
};

static const struct command commands[] = {
    {"list", cmd_list}, {"names", cmd_names}, {"send", cmd_send},
    {"wait", cmd_wait}, {"run", cmd_run},     {"inspect", cmd_inspect},
};

int main(int argc, char **argv) {
  if (argc < 2) {
    fputs(usage_top, stderr);
    return EXIT_USAGE;
  }
  const char *cmd = argv[1];
  if (cli_is_help(cmd) || strcmp(cmd, "help") == 0) {
    fputs(usage_top, stdout);
    return 0;
  }
  if (strcmp(cmd, "--version") == 0) {
    printf("xsig %s (%s)\n", XSIG_VERSION, xsig_platform());
    return 0;
  }
  for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
    if (strcmp(cmd, commands[i].name) == 0) return commands[i].run(argc - 2, argv + 2);
  return cli_fail(EXIT_USAGE, NULL, "unknown command '%s' (see xsig --help)", cmd);
}
