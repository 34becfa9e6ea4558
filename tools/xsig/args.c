/* The CLI's shared helpers and parsers (see cli.h). */
#include "cli.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef _WIN32
#include <process.h>
long cli_getpid(void) {
  return (long)_getpid();
}
#else
#include <unistd.h>
long cli_getpid(void) {
  return (long)getpid();
}
#endif

/* A one-line complaint and the exit status that goes with it. */
int cli_fail(int status, const char *cmd, const char *fmt, const char *arg) {
  fprintf(stderr, "xsig%s%s: ", cmd ? " " : "", cmd ? cmd : "");
  fprintf(stderr, fmt, arg);
  fputc('\n', stderr);
  return status;
}

int cli_is_help(const char *a) {
  return strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0;
}

/* Returns 1 and prints the text when the arguments ask for help. */
int cli_wants_help(int argc, char **argv, const char *text) {
  for (int i = 0; i < argc; i++) {
    if (strcmp(argv[i], "--") == 0) break;
    if (cli_is_help(argv[i])) {
      fputs(text, stdout);
      return 1;
    }
  }
  return 0;
}

int cli_parse_signal(const char *s) {
  int sig = xsig_from_name(s);
  return sig > 0 ? sig : -1;
}

/* Strict positive decimal: kill(1) semantics for 0 and negative pids (process
 * groups, every process) are left out on purpose. */
int cli_parse_pid(const char *s, int64_t *out) {
  int64_t v = 0;
  if (!*s) return -1;
  for (; *s; s++) {
    if (*s < '0' || *s > '9') return -1;
    if (v > (INT64_MAX - (*s - '0')) / 10) return -1; /* exact: INT64_MAX itself is taken */
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
int cli_parse_seconds(const char *s, int64_t *out_ms) {
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

/* wait's arguments: the signals (each once, at most CLI_WAIT_MAX) and
 * --timeout SECS or --timeout=SECS (the last one counts; -1 without). */
int cli_parse_wait_args(int argc, char **argv, int *sigs, int *nsigs, int64_t *timeout_ms) {
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
        return cli_fail(EXIT_USAGE, "wait", "%s", "--timeout needs a number of seconds");
      if (cli_parse_seconds(val, timeout_ms) < 0)
        return cli_fail(EXIT_USAGE, "wait", "bad timeout '%s' (seconds, e.g. 10 or 0.5)", val);
      continue;
    }
    if (opts && a[0] == '-' && a[1] != '\0')
      return cli_fail(EXIT_USAGE, "wait", "unknown option '%s'", a);
    int s = cli_parse_signal(a);
    if (s < 0) return cli_fail(EXIT_USAGE, "wait", "unknown signal '%s'", a);
    int dup = 0;
    for (int j = 0; j < *nsigs; j++) dup |= sigs[j] == s;
    /* A repeated signal would get two watches and so two lines per delivery. */
    if (!dup && *nsigs < CLI_WAIT_MAX) sigs[(*nsigs)++] = s;
  }
  if (*nsigs == 0) return cli_fail(EXIT_USAGE, "wait", "%s", "expects at least one SIG");
  return 0;
}

int cli_all_signals(int **out) {
  int n = xsig_signals(NULL, 0);
  *out = NULL;
  if (n <= 0) return n;
  *out = malloc((size_t)n * sizeof **out);
  if (!*out) return XSIG_ENOMEM;
  return xsig_signals(*out, (size_t)n);
}
