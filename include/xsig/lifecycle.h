/* xsig lifecycle: graceful shutdown, configuration reload and sd_notify, built
 * on the core API of xsig.h. See docs/LIFECYCLE.md.
 *
 * The shutdown and reload helpers are process-wide: one of each at a time. */
#ifndef XSIG_LIFECYCLE_H
#define XSIG_LIFECYCLE_H
#include "xsig/xsig.h"
#ifdef __cplusplus
extern "C" {
#endif

#if defined(__cplusplus)
#define XSIG_NORETURN [[noreturn]]
#else
#define XSIG_NORETURN _Noreturn
#endif

/* ---- graceful shutdown
 *
 * Watches the portable stop set (SIGINT and SIGTERM; on Windows also the console
 * close, logoff and shutdown events, which arrive as SIGTERM). A watchdog thread
 * with its own xsig context sees every stop request at once, whatever the
 * program's threads are doing: it sets xsig_stop_requested(), sends STOPPING=1
 * to systemd, runs the grace timer and forces the exit when it must. The
 * program's own context gets on_stop at its next dispatch.
 *
 * A stop signal that is ignored when the helper starts (SIG_IGN inherited from
 * a shell's `cmd &` or `nohup`, or set by the program; on Windows Ctrl+C turned
 * off, as CREATE_NEW_PROCESS_GROUP does) stays ignored and is not watched,
 * unless XSIG_TAKE_IGNORED says to take it. */
typedef void (*xsig_stop_cb)(int signum, void *user);
/* Flags for xsig_graceful_opts_t.flags and xsig_reload_start_flags(). */
#define XSIG_TAKE_IGNORED 1u /* watch the signals even when they are ignored at start */
/* Deliveries that reach the watchdog within this many ms after the stop request
 * it counted belong to that request (merge_ms 0). */
#define XSIG_MERGE_MS_DEFAULT 500
typedef struct xsig_graceful_opts {
  /* After the first stop request, force the exit after this many ms; 0: never. */
  int grace_ms;
  /* A second stop request (one more than merge_ms after the first) forces the
   * exit at once: 0 (the default) or 1 mean yes, -1 means no. */
  int second_forces;
  /* Runs once, at dispatch of the context given to xsig_graceful_start, on the
   * first stop request. Start the drain here. */
  xsig_stop_cb on_stop;
  /* Runs on the watchdog thread just before a forced exit, while the program's
   * other threads may hold any lock (stdio's, malloc's...). Keep it short: write()
   * a line, remove a pid file. It must not return into the program's state. */
  xsig_stop_cb on_force;
  void *user; /* passed to both callbacks */
  /* One stop request often arrives as several deliveries: timeout(1) signals
   * the process and then its process group, a supervisor may do the same, and
   * Ctrl+C under a wrapper reaches the program from the terminal and again from
   * the wrapper. So stop deliveries (SIGINT or SIGTERM, from any sender) that
   * reach the watchdog within merge_ms after the request it counted, or folded
   * into one event with it, are that same request. 0 (the default):
   * XSIG_MERGE_MS_DEFAULT; -1: every delivery is a request. */
  int merge_ms;
  unsigned flags; /* 0 or XSIG_TAKE_IGNORED */
} xsig_graceful_opts_t;

/* opts may be NULL (no grace timer, second request forces). ctx NULL: the
 * default context (xsig_init first), which then lives until xsig_graceful_stop
 * even across xsig_shutdown; a context of the program's own must outlive the
 * start. XSIG_ESTATE when already started; XSIG_EINVAL for grace_ms < 0,
 * merge_ms < -1 or an unknown flag; XSIG_EIGNORED when both stop signals are
 * ignored and XSIG_TAKE_IGNORED is not given (nothing is started then). */
XSIG_EXTERN int xsig_graceful_start(xsig_ctx_t *ctx, const xsig_graceful_opts_t *opts);
/* Stops watching and disarms the timer; xsig_stop_requested() keeps its value.
 * A fork child inherits no watchdog thread: stop, then start again there.
 * XSIG_ESTATE from on_force (the watchdog cannot stop itself). */
XSIG_EXTERN int xsig_graceful_stop(void);
/* 0, or the signal of the first stop request. One atomic load: use it as a loop
 * condition on any thread. */
XSIG_EXTERN int xsig_stop_requested(void);

/* xsig_graceful_exit(XSIG_EXIT_BY_SIGNAL) ends the process the way the stop
 * signal itself would have: on POSIX by that signal's default action, so the
 * parent sees WIFSIGNALED (SIGTERM when no stop was requested); on Windows with
 * the exit status Windows gives that console event (STATUS_CONTROL_C_EXIT,
 * 0xC000013A), through TerminateProcess, so that, as with a signal's default
 * action, no DLL detach code (the C runtime's stdio flush) can hang it. A
 * forced exit ends the process the same way. */
#define XSIG_EXIT_BY_SIGNAL (-2147483647 - 1)
/* Call after the program's own cleanup: stops the reload watch, flushes stdio
 * and ends the process with status (exit()), or by the signal. The watchdog
 * keeps running until the process ends, so grace_ms and a second signal still
 * bound a flush into a stuck pipe or a hanging atexit handler. On Windows a
 * console handler thread held for close, logoff or shutdown stays held with
 * either kind of status: the process ends by this call, never because the
 * thread returned to Windows. Never returns. */
XSIG_NORETURN XSIG_EXTERN void xsig_graceful_exit(int status);

/* ---- reload
 *
 * fn runs in ordinary code, at dispatch of ctx, once per batch of SIGHUPs. It
 * returns 0 when the new configuration is in force, or nonzero after writing a
 * reason into err (errsize bytes, already ""), and then must leave the old
 * configuration in force. The natural way: parse into a fresh object, and only
 * when all of it is valid swap it in. xsig sends RELOADING=1 before fn, then
 * READY=1 with STATUS=reloaded or STATUS=reload failed: <err>. */
typedef int (*xsig_reload_cb)(void *user, char *err, size_t errsize);
/* XSIG_ENOTSUP where SIGHUP does not exist (Windows, except in a service that
 * xsig_service_start connected: PARAMCHANGE is SIGHUP); XSIG_ESTATE when started.
 * ctx as for xsig_graceful_start. A SIGHUP ignored at start (`nohup`) stays
 * ignored: XSIG_EIGNORED and nothing is watched, unless flags has
 * XSIG_TAKE_IGNORED; XSIG_EINVAL for an unknown flag. xsig_reload_start() is
 * xsig_reload_start_flags() with flags 0. */
XSIG_EXTERN int xsig_reload_start(xsig_ctx_t *ctx, xsig_reload_cb fn, void *user);
XSIG_EXTERN int xsig_reload_start_flags(xsig_ctx_t *ctx, xsig_reload_cb fn, void *user,
                                        unsigned flags);
XSIG_EXTERN int xsig_reload_stop(void);

/* ---- sd_notify, without libsystemd
 *
 * Sends one datagram to $NOTIFY_SOCKET (an absolute path, or an abstract name
 * written '@name'). Returns 1 when sent, 0 when there is no socket to send to
 * ($NOTIFY_SOCKET unset or empty, or not Linux), XSIG_EINVAL for an address that
 * is too long or not a path or '@' name, XSIG_ESYS when sending fails. In a
 * Windows service (xsig_service_start) READY=1 reports SERVICE_RUNNING and
 * STOPPING=1 SERVICE_STOP_PENDING to the SCM instead, and the call returns 1
 * when the state had one of these lines. */
XSIG_EXTERN int xsig_notify(const char *state);
#if defined(__GNUC__)
__attribute__((format(printf, 1, 2)))
#endif
XSIG_EXTERN int
xsig_notifyf(const char *fmt, ...);
XSIG_EXTERN int xsig_notify_ready(void);                /* READY=1 */
XSIG_EXTERN int xsig_notify_stopping(void);             /* STOPPING=1 */
XSIG_EXTERN int xsig_notify_status(const char *status); /* STATUS=<status> */
XSIG_EXTERN int xsig_notify_reloading(void);            /* RELOADING=1 and MONOTONIC_USEC=<now> */
/* 1 and the interval in *usec when systemd's watchdog is on for this process
 * ($WATCHDOG_USEC set and $WATCHDOG_PID unset or ours): send WATCHDOG=1 at
 * about half of it. 0 when off (or not Linux), XSIG_EINVAL when malformed. */
XSIG_EXTERN int xsig_watchdog_interval(uint64_t *usec);

#ifdef __cplusplus
}
#endif
#endif
