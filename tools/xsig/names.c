/* xsig names: the signal numbers and their names. */
#include "cli.h"
#include <stdio.h>
#include <stdlib.h>

static const char *const usage_names = "usage: xsig names\n"
                                       "\n"
                                       "Prints one line per signal: its number, then its name.\n";

int cmd_names(int argc, char **argv) {
  if (cli_wants_help(argc, argv, usage_names)) return 0;
  if (argc > 0) return cli_fail(EXIT_USAGE, "names", "unexpected argument '%s'", argv[0]);
  int *sigs, n = cli_all_signals(&sigs);
  if (n < 0) return cli_fail(EXIT_FAILED, "names", "%s", xsig_strerror(n));
  for (int i = 0; i < n; i++) printf("%3d %s\n", sigs[i], xsig_name(sigs[i]));
  free(sigs);
  return 0;
}
