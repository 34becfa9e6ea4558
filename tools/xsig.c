/* xsig: the command-line face of the library.
 *
 *   xsig list                          this platform's signal table
 *   xsig names                         numbers and names
 *   xsig send PID SIG                  like kill(1), through xsig_send()
 *   xsig wait SIG... [--timeout SECS]  waits for one of the signals
 *
 * Exit status: 0 success, 1 the operation failed (no such process, not
 * permitted, an OS error), 2 bad usage (unknown command, bad signal or pid),
 * 124 'wait' timed out (as timeout(1) does).
 *
 * Only the public API and ISO C are used, so the same file builds with mingw
 * for Windows. */
#include "xsig/xsig.h"
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef _WIN32
#include <process.h>
#define cli_getpid() ((long)_getpid())
#else
#include <unistd.h>
#define cli_getpid() ((long)getpid())
#endif

#ifndef XSIG_VERSION
#define XSIG_VERSION "unknown"
#endif

enum { EXIT_FAILED = 1, EXIT_USAGE = 2, EXIT_TIMEOUT = 124 };

/* Longer than any signal name (SIGRTMAX-14), so the list stays one table. */
#define NAME_WIDTH 12

static const char *const usage_top =
    "usage: xsig <command> [arguments]\n"
    "\n"
    "commands:\n"
    "  list                          this platform's signals: number, support, portability,\n"
    "                                and their disposition in this process\n"
    "  names                         the signal numbers and their names\n"
    "  send PID SIG                  send SIG to process PID (like kill(1))\n"
    "  wait SIG... [--timeout SECS]  wait for one of the signals, print it and its sender\n"
    "\n"
    "SIG is a name or a number, in any case, with or without SIG: TERM, sigterm, 15.\n"
    "Run 'xsig <command> --help' for more. 'xsig --version' prints the version.\n"
    "Exit status: 0 success, 1 failure, 2 bad usage, 124 wait timed out.\n";

static const char *const usage_list =
    "usage: xsig list\n"
    "\n"
    "Prints one line per signal this platform knows, with the columns:\n"
    "  NAME         the canonical name (SIGTERM)\n"
    "  NUMBER       the platform's number for it\n"
    "  SUPPORT      native (the OS delivers it), emulated (delivered in another form,\n"
    "               e.g. console close as SIGTERM on Windows) or unsupported (cannot be\n"
    "               watched: SIGKILL, SIGSTOP, fault signals)\n"
    "  PORTABLE     yes for the signals every platform delivers (SIGINT, SIGTERM)\n"
    "  DISPOSITION  what this process has for it right now: default, ignored or\n"
    "               handled; ignored signals are inherited from the parent\n";

static const char *const usage_names = "usage: xsig names\n"
                                       "\n"
                                       "Prints one line per signal: its number, then its name.\n";

static const char *const usage_send =
    "usage: xsig send PID SIG\n"
    "\n"
    "Sends SIG to the process PID, like kill(1). SIG is a name or a number; 0 only\n"
    "checks that the process exists. PID must be a positive process id.\n"
    "Exit status: 0 sent, 1 no such process / not permitted / failed, 2 bad usage.\n";

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

/* A one-line complaint and the exit status that goes with it. */
static int fail(int status, const char *cmd, const char *fmt, const char *arg) {
  fprintf(stderr, "xsig%s%s: ", cmd ? " " : "", cmd ? cmd : "");
  fprintf(stderr, fmt, arg);
  fputc('\n', stderr);
  return status;
}

static int is_help(const char *a) {
  return strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0;
}

/* Returns 1 and prints the text when the arguments ask for help. */
static int wants_help(int argc, char **argv, const char *text) {
  for (int i = 0; i < argc; i++) {
    if (strcmp(argv[i], "--") == 0) break;
    if (is_help(argv[i])) {
      fputs(text, stdout);
      return 1;
    }
  }
  return 0;
}

static int parse_signal(const char *s) {
  int sig = xsig_from_name(s);
  return sig > 0 ? sig : -1;
}

/* Strict positive decimal: kill(1) semantics for 0 and negative pids (process
 * groups, every process) are left out on purpose. */
static int parse_pid(const char *s, int64_t *out) {
  int64_t v = 0;
  if (!*s) return -1;
  for (; *s; s++) {
    if (*s < '0' || *s > '9') return -1;
    if (v > (INT64_MAX - 9) / 10) return -1;
    v = v * 10 + (*s - '0');
  }
  if (v <= 0) return -1;
  *out = v;
  return 0;
}

/* SECONDS[.FRACTION] to milliseconds, rounded up so that 0.0001 still waits.
 * Hand-parsed rather than strtod() so the locale's decimal point cannot matter.
 * A time beyond INT64_MAX ms (about 292 million years) is taken as that, as
 * sleep(1) and timeout(1) take huge values: no overflow, and no error for
 * what only means "very long". */
static int parse_seconds(const char *s, int64_t *out_ms) {
  const int64_t max_s = INT64_MAX / 1000;
  int64_t sec = 0, frac = 0, scale = 1000; /* frac: ms, plus 1 for any finer digit */
  int digits = 0, frac_rest = 0, huge = 0;
  for (; *s >= '0' && *s <= '9'; s++, digits++) {
    if (sec > (max_s - (*s - '0')) / 10)
      huge = 1;
    else
      sec = sec * 10 + (*s - '0');
  }
  if (*s == '.') {
    for (s++; *s >= '0' && *s <= '9'; s++, digits++) {
      scale /= 10;
      if (scale)
        frac += (*s - '0') * scale;
      else if (*s != '0')
        frac_rest = 1;
    }
  }
  if (*s || !digits) return -1;
  frac += frac_rest; /* at most 1000 */
  /* sec <= max_s, so sec * 1000 cannot overflow; the sum is checked first. */
  *out_ms = huge || sec * 1000 > INT64_MAX - frac ? INT64_MAX : sec * 1000 + frac;
  return 0;
}

/* ------------------------------------------------------------------ list, names */

static int all_signals(int **out) {
  int n = xsig_signals(NULL, 0);
  *out = NULL;
  if (n <= 0) return n;
  *out = malloc((size_t)n * sizeof **out);
  if (!*out) return XSIG_ENOMEM;
  return xsig_signals(*out, (size_t)n);
}

static const char *support_word(xsig_support_t s) {
  switch (s) {
  case XSIG_NATIVE:
    return "native";
  case XSIG_EMULATED:
    return "emulated";
  default:
    return "unsupported";
  }
}

static const char *disposition_word(int d) {
  switch (d) {
  case XSIG_DISP_DEFAULT:
    return "default";
  case XSIG_DISP_IGNORED:
    return "ignored";
  case XSIG_DISP_XSIG:
  case XSIG_DISP_OTHER:
    return "handled";
  default:
    return "unknown";
  }
}

static int cmd_list(int argc, char **argv) {
  if (wants_help(argc, argv, usage_list)) return 0;
  if (argc > 0) return fail(EXIT_USAGE, "list", "unexpected argument '%s'", argv[0]);
  int *sigs, n = all_signals(&sigs);
  if (n < 0) return fail(EXIT_FAILED, "list", "%s", xsig_strerror(n));
  printf("%-*s %6s  %-11s  %-8s  %s\n", NAME_WIDTH, "NAME", "NUMBER", "SUPPORT", "PORTABLE",
         "DISPOSITION");
  for (int i = 0; i < n; i++) {
    int s = sigs[i];
    printf("%-*s %6d  %-11s  %-8s  %s\n", NAME_WIDTH, xsig_name(s), s,
           support_word(xsig_support(s)), xsig_is_portable(s) ? "yes" : "no",
           disposition_word(xsig_disposition(s)));
  }
  free(sigs);
  return 0;
}

static int cmd_names(int argc, char **argv) {
  if (wants_help(argc, argv, usage_names)) return 0;
  if (argc > 0) return fail(EXIT_USAGE, "names", "unexpected argument '%s'", argv[0]);
  int *sigs, n = all_signals(&sigs);
  if (n < 0) return fail(EXIT_FAILED, "names", "%s", xsig_strerror(n));
  for (int i = 0; i < n; i++) printf("%3d %s\n", sigs[i], xsig_name(sigs[i]));
  free(sigs);
  return 0;
}

/* ------------------------------------------------------------------ send */

static int cmd_send(int argc, char **argv) {
  if (wants_help(argc, argv, usage_send)) return 0;
  if (argc != 2) return fail(EXIT_USAGE, "send", "%s", "expects PID SIG (see xsig send --help)");
  int64_t pid;
  if (parse_pid(argv[0], &pid) < 0) return fail(EXIT_USAGE, "send", "bad pid '%s'", argv[0]);
  /* xsig_from_name refuses 0 because nothing can watch it; kill(1) accepts it. */
  int sig = strcmp(argv[1], "0") == 0 ? 0 : parse_signal(argv[1]);
  if (sig < 0) return fail(EXIT_USAGE, "send", "unknown signal '%s'", argv[1]);
  int r = xsig_send(pid, sig);
  if (r == 0) return 0;
  switch (r) {
  case XSIG_ESRCH:
    return fail(EXIT_FAILED, "send", "no such process: %s", argv[0]);
  case XSIG_EPERM:
    return fail(EXIT_FAILED, "send", "not permitted to signal pid %s", argv[0]);
  case XSIG_ENOTSUP:
    return fail(EXIT_FAILED, "send", "this platform cannot send %s", argv[1]);
  case XSIG_ESYS:
    fprintf(stderr, "xsig send: %s: %s\n", xsig_strerror(r), strerror(xsig_os_error()));
    return EXIT_FAILED;
  default:
    return fail(EXIT_FAILED, "send", "%s", xsig_strerror(r));
  }
}

/* ------------------------------------------------------------------ wait */

struct caught {
  int n;
  xsig_event_t ev[64]; /* one per watched signal and dispatch at most */
};

static void on_signal(const xsig_event_t *ev, void *user) {
  struct caught *c = user;
  if (c->n < (int)(sizeof c->ev / sizeof c->ev[0])) c->ev[c->n++] = *ev;
}

static int parse_wait_args(int argc, char **argv, int *sigs, int *nsigs, int64_t *timeout_ms) {
  int opts = 1;
  *nsigs = 0;
  *timeout_ms = -1;
  for (int i = 0; i < argc; i++) {
    const char *a = argv[i], *val = NULL;
    if (opts && strcmp(a, "--") == 0) {
      opts = 0;
      continue;
    }
    if (opts && strncmp(a, "--timeout", 9) == 0 && (a[9] == '\0' || a[9] == '=')) {
      if (a[9] == '=')
        val = a + 10;
      else if (i + 1 < argc)
        val = argv[++i];
      else
        return fail(EXIT_USAGE, "wait", "%s", "--timeout needs a number of seconds");
      if (parse_seconds(val, timeout_ms) < 0)
        return fail(EXIT_USAGE, "wait", "bad timeout '%s' (seconds, e.g. 10 or 0.5)", val);
      continue;
    }
    if (opts && a[0] == '-' && a[1] != '\0')
      return fail(EXIT_USAGE, "wait", "unknown option '%s'", a);
    int s = parse_signal(a);
    if (s < 0) return fail(EXIT_USAGE, "wait", "unknown signal '%s'", a);
    int dup = 0;
    for (int j = 0; j < *nsigs; j++) dup |= sigs[j] == s;
    /* A repeated signal would get two watches and so two lines per delivery. */
    if (!dup && *nsigs < 64) sigs[(*nsigs)++] = s;
  }
  if (*nsigs == 0) return fail(EXIT_USAGE, "wait", "%s", "expects at least one SIG");
  return 0;
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

static int cmd_wait(int argc, char **argv) {
  if (wants_help(argc, argv, usage_wait)) return 0;
  int sigs[64], n;
  int64_t timeout_ms;
  int status = parse_wait_args(argc, argv, sigs, &n, &timeout_ms);
  if (status) return status;
  static struct caught caught;
  int r = xsig_init();
  if (r < 0) return fail(EXIT_FAILED, "wait", "cannot start: %s", xsig_strerror(r));
  status = watch_all(sigs, n, &caught);
  if (status == 0) {
    say_ready(sigs, n);
    r = wait_for(&caught, timeout_ms);
    if (r < 0) {
      status = fail(EXIT_FAILED, "wait", "%s", xsig_strerror(r));
    } else if (r == 1) {
      status = fail(EXIT_TIMEOUT, "wait", "%s", "timed out");
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

/* ------------------------------------------------------------------ main */

struct command {
  const char *name;
  int (*run)(int argc, char **argv);
};

static const struct command commands[] = {
    {"list", cmd_list},
    {"names", cmd_names},
    {"send", cmd_send},
    {"wait", cmd_wait},
};

int main(int argc, char **argv) {
  if (argc < 2) {
    fputs(usage_top, stderr);
    return EXIT_USAGE;
  }
  const char *cmd = argv[1];
  if (is_help(cmd) || strcmp(cmd, "help") == 0) {
    fputs(usage_top, stdout);
    return 0;
  }
  if (strcmp(cmd, "--version") == 0) {
    printf("xsig %s (%s)\n", XSIG_VERSION, xsig_platform());
    return 0;
  }
  for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
    if (strcmp(cmd, commands[i].name) == 0) return commands[i].run(argc - 2, argv + 2);
  return fail(EXIT_USAGE, NULL, "unknown command '%s' (see xsig --help)", cmd);
}
