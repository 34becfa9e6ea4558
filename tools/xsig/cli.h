/* The xsig CLI's shared parts: exit statuses, complaints, help and the
 * argument parsers every subcommand uses. Each subcommand lives in its own
 * file (list.c, names.c, send.c, wait.c, run.c, inspect.c) and main.c picks one by name.
 *
 * Only the public API and ISO C are used, so the same files build with mingw
 * for Windows. */
#ifndef XSIG_CLI_H
#define XSIG_CLI_H

#include "xsig/xsig.h"
#include <stdint.h>

enum { EXIT_FAILED = 1, EXIT_USAGE = 2, EXIT_TIMEOUT = 124 };

/* Prints "xsig CMD: " and the formatted complaint to stderr; returns status. */
int cli_fail(int status, const char *cmd, const char *fmt, const char *arg);
/* "--help" or "-h". */
int cli_is_help(const char *a);
/* Returns 1 and prints text to stdout when an argument before "--" asks for
 * help. */
int cli_wants_help(int argc, char **argv, const char *text);

/* The parsers. Each returns 0, or -1 for input it refuses; the fuzz targets
 * in tests/fuzz call them directly. */
int cli_parse_signal(const char *s);            /* the signal, or -1 */
int cli_parse_pid(const char *s, int64_t *out); /* strict positive decimal */
int cli_parse_seconds(const char *s, int64_t *out_ms);
/* xsig wait's arguments: 0 and the signals (sigs has room for CLI_WAIT_MAX)
 * and the time-out in ms (-1: none), or EXIT_USAGE after a complaint. */
enum { CLI_WAIT_MAX = 64 };
int cli_parse_wait_args(int argc, char **argv, int *sigs, int *nsigs, int64_t *timeout_ms);

long cli_getpid(void);
/* Every signal xsig knows here, in a malloc()ed array; the count or an error. */
int cli_all_signals(int **out);

int cmd_list(int argc, char **argv);
int cmd_names(int argc, char **argv);
int cmd_send(int argc, char **argv);
int cmd_wait(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_inspect(int argc, char **argv);

/* JSON output (json.c): a string with its quotes and escapes. */
void cli_json_str(const char *s);

#endif
