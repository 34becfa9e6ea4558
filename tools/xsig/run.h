/* xsig run: what run.c (the options, once) hands to the supervisor of this OS
 * (run_posix.c, run_win32.c). */
#ifndef XSIG_CLI_RUN_H
#define XSIG_CLI_RUN_H

#include <stdint.h>

#define RUN_MAX_EXPECT 256

struct run_opts {
  int group;           /* -g: forward to the child's process group */
  int verbose;         /* -v: one line on stderr per forwarded signal and reaped process */
  int second_kills;    /* --second-kills */
  int pdeath;          /* --pdeath SIG, 0 when not given */
  int64_t grace_ms;    /* --grace SECONDS in ms; -1 when not given */
  const char *service; /* --service NAME, NULL when not given */
  unsigned char expect[RUN_MAX_EXPECT]; /* -e CODE: expect[CODE] = 1 maps CODE to 0 */
  char **argv;                          /* CMD ARGS..., NULL-terminated */
};

/* Stop deliveries (SIGTERM, SIGINT) within this many ms of the one that
 * started the stop belong to that one: every one is forwarded, but only a later
 * one counts as the second stop for --second-kills (timeout(1) and supervisors
 * that signal a process and then its group send two for one stop). */
#define RUN_MERGE_MS 500

/* The exit status a child ended by the grace timer (or --second-kills) gets on
 * Windows, where no signal ends it: 128 + SIGKILL, as on POSIX. */
#define RUN_KILLED_STATUS 137

/* Runs the supervisor; returns the exit status for xsig to exit with. */
int run_supervise(const struct run_opts *o);

/* The status run_supervise returns for a child that ended with code. */
static inline int run_map_status(const struct run_opts *o, int code) {
  return code >= 0 && code < RUN_MAX_EXPECT && o->expect[code] ? 0 : code;
}

#endif
