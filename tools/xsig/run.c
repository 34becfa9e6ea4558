/* xsig run [OPTIONS] -- CMD [ARGS...]: an init for containers and services.
 * This file reads the options, once for every OS; run_posix.c and
 * run_win32.c supervise. See docs/RUN.md. */
#include "cli.h"
#include "run.h"
#include <stdio.h>
#include <string.h>

static const char *const usage_run =
    "usage: xsig run [-g] [-e CODE]... [--grace SECONDS] [--second-kills]\n"
    "                [--pdeath SIG] [--service NAME] [-v] -- CMD [ARGS...]\n"
    "\n"
    "Runs CMD as its child and supervises it, as an init for a container (the\n"
    "Docker ENTRYPOINT) or a wrapper for a service:\n"
    "  - POSIX: CMD runs in its own process group and gets the terminal when\n"
    "    there is one; every catchable signal the supervisor gets is forwarded to\n"
    "    it, except SIGCHLD, SIGTTIN and SIGTTOU; zombies are reaped (as PID 1, or\n"
    "    as a subreaper where the OS has them), orphaned grandchildren included.\n"
    "  - Windows: CMD runs in a job object that ends with the supervisor; a stop\n"
    "    (Ctrl+C, console close, SIGTERM through the mailbox, a service STOP) is\n"
    "    passed on as SIGTERM through CMD's xsig mailbox, or else as Ctrl+Break.\n"
    "\n"
    "options:\n"
    "  -g               forward signals to CMD's whole process group, not CMD only\n"
    "  -e CODE          exit 0 when CMD exits with CODE (0-255; repeatable)\n"
    "  --grace SECONDS  after the first SIGTERM or SIGINT, kill CMD's process group\n"
    "                   (Windows: its job) when CMD has not ended within SECONDS\n"
    "  --second-kills   a second stop signal (more than 0.5 s after the first)\n"
    "                   kills at once instead of being forwarded again\n"
    "  --pdeath SIG     Linux: the supervisor gets SIG when its parent dies, and\n"
    "                   forwards it like any other signal (tini's -p)\n"
    "  --service NAME   Windows: run as the service NAME under the SCM\n"
    "  -v               say on stderr what is forwarded and reaped\n"
    "Short options may be grouped, as in -gv or -ve 7.\n"
    "\n"
    "Exit status: CMD's, or 128+N when signal N ended it (137 on Windows when the\n"
    "grace ran out); 126 when CMD is not executable, 127 when it is not found;\n"
    "2 for bad usage, 1 when the supervisor itself cannot start.\n";

static int bad(const char *fmt, const char *arg) {
  return cli_fail(EXIT_USAGE, "run", fmt, arg);
}

/* "--name VALUE" or "--name=VALUE"; *i moves past VALUE. NULL when a is not
 * that option; *missing when its value is absent. */
static const char *long_value(int argc, char **argv, int *i, const char *name, int *missing) {
  size_t n = strlen(name);
  const char *a = argv[*i];
  if (strncmp(a, name, n) != 0) return NULL;
  if (a[n] == '=') return a + n + 1;
  if (a[n] != '\0') return NULL;
  if (*i + 1 >= argc) {
    *missing = 1;
    return NULL;
  }
  return argv[++*i];
}

static int parse_code(const char *s) {
  int v = 0;
  if (!*s) return -1;
  for (; *s; s++) {
    if (*s < '0' || *s > '9') return -1;
    v = v * 10 + (*s - '0');
    if (v > 255) return -1;
  }
  return v;
}

/* A cluster of short options, as getopt takes them (and tini): "-gv", "-e7",
 * "-ve 7". -e takes the rest of the word, or else the next word. Returns 0,
 * or a usage exit status; *i moves past what was used. */
static int parse_short(int argc, char **argv, int *i, struct run_opts *o) {
  for (const char *p = argv[*i] + 1; *p; p++) {
    if (*p == 'g') {
      o->group = 1;
    } else if (*p == 'v') {
      o->verbose = 1;
    } else if (*p == 'e') {
      const char *v = p[1] ? p + 1 : *i + 1 < argc ? argv[++*i] : NULL;
      if (!v) return bad("%s", "-e needs an exit code (0-255)");
      int code = parse_code(v);
      if (code < 0) return bad("bad exit code '%s' for -e (0-255)", v);
      o->expect[code] = 1;
      return 0;
    } else {
      char msg[96]; /* the whole word too, when the option was one of a group */
      snprintf(msg, sizeof msg, "unknown option '-%c'%s%.40s%s (see xsig run --help)", *p,
               argv[*i][2] ? " in '" : "", argv[*i][2] ? argv[*i] : "", argv[*i][2] ? "'" : "");
      return bad("%s", msg);
    }
  }
  return 0;
}

/* Returns 0 with *o filled, or a usage exit status. */
static int parse_run_args(int argc, char **argv, struct run_opts *o) {
  memset(o, 0, sizeof *o);
  o->grace_ms = -1;
  int i = 0;
  for (; i < argc; i++) {
    const char *a = argv[i], *v;
    int missing = 0;
    if (strcmp(a, "--") == 0) {
      i++;
      break;
    }
    if (a[0] != '-' || a[1] == '\0') break; /* CMD without "--", as tini takes it */
    if (cli_is_help(a)) {
      fputs(usage_run, stdout);
      return -1;
    }
    if (a[1] != '-') {
      int r = parse_short(argc, argv, &i, o);
      if (r) return r;
    } else if (strcmp(a, "--second-kills") == 0) {
      o->second_kills = 1;
    } else if ((v = long_value(argc, argv, &i, "--grace", &missing)) || missing) {
      if (missing) return bad("%s", "--grace needs a number of seconds");
      if (cli_parse_seconds(v, &o->grace_ms) < 0)
        return bad("bad grace '%s' (seconds, e.g. 10 or 0.5)", v);
    } else if ((v = long_value(argc, argv, &i, "--pdeath", &missing)) || missing) {
      if (missing) return bad("%s", "--pdeath needs a signal");
      o->pdeath = cli_parse_signal(v);
      if (o->pdeath < 0) return bad("unknown signal '%s' for --pdeath", v);
    } else if ((v = long_value(argc, argv, &i, "--service", &missing)) || missing) {
      if (missing || !*v) return bad("%s", "--service needs a service name");
      o->service = v;
    } else {
      return bad("unknown option '%s' (see xsig run --help)", a);
    }
  }
  if (i >= argc) return bad("%s", "expects a command: xsig run [OPTIONS] -- CMD [ARGS...]");
  o->argv = argv + i;
  return 0;
}

int cmd_run(int argc, char **argv) {
  /* argv is argc entries then main()'s NULL: CMD's argv is terminated. Help
   * is only asked for before CMD: "xsig run -- grep --help" runs grep. */
  struct run_opts o;
  int status = parse_run_args(argc, argv, &o);
  if (status < 0) return 0;
  if (status) return status;
  return run_supervise(&o);
}
