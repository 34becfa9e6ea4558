/* xsig: one signal-handling API for POSIX and Windows.
 *
 * Two phases, as in CPython: the OS-level handler only counts the signal in an
 * atomic slot and wakes the program through a pipe (POSIX) or a socket pair
 * (Windows). User callbacks run later, in ordinary code, from xsig_dispatch() or
 * xsig_wait(), or from any event loop that polls xsig_wakeup_handle().
 *
 * Every function returns 0 or a positive count on success and a negative XSIG_E*
 * code on failure, unless its comment says otherwise. */
#ifndef XSIG_XSIG_H
#define XSIG_XSIG_H
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32) && defined(XSIG_SHARED)
#ifdef XSIG_BUILDING
#define XSIG_EXTERN __declspec(dllexport)
#else
#define XSIG_EXTERN __declspec(dllimport)
#endif
#elif defined(__GNUC__) && defined(XSIG_BUILDING)
#define XSIG_EXTERN __attribute__((visibility("default")))
#else
#define XSIG_EXTERN
#endif

/* ---- version: these three lines are the one source of truth (CMakeLists.txt
 * reads its project version from them). xsig_version() is the version of the
 * library actually loaded, "MAJOR.MINOR.PATCH"; the macros are the header's.
 * The soname's number is MAJOR (docs/ABI.md). */
#define XSIG_VERSION_MAJOR 0
#define XSIG_VERSION_MINOR 2
#define XSIG_VERSION_PATCH 0
XSIG_EXTERN const char *xsig_version(void);

/* Signal numbers are the platform's own (SIGINT, SIGTERM...). On Windows the
 * header also defines the POSIX names the CRT lacks (SIGHUP, SIGQUIT, SIGKILL,
 * SIGUSR1, SIGUSR2, SIGALRM, SIGCHLD, SIGPIPE, SIGWINCH...), with the Linux
 * numbers, so portable code compiles everywhere; xsig_support() says what works. */
#ifdef _WIN32
#ifndef SIGHUP
#define SIGHUP 1
#endif
#ifndef SIGQUIT
#define SIGQUIT 3
#endif
#ifndef SIGKILL
#define SIGKILL 9
#endif
#ifndef SIGUSR1
#define SIGUSR1 10
#endif
#ifndef SIGUSR2
#define SIGUSR2 12
#endif
#ifndef SIGPIPE
#define SIGPIPE 13
#endif
#ifndef SIGALRM
#define SIGALRM 14
#endif
#ifndef SIGCHLD
#define SIGCHLD 17
#endif
#ifndef SIGCONT
#define SIGCONT 18
#endif
#ifndef SIGSTOP
#define SIGSTOP 19
#endif
#ifndef SIGTSTP
#define SIGTSTP 20
#endif
#ifndef SIGWINCH
#define SIGWINCH 28
#endif
#endif

/* ---- errors: 0 or a positive count on success, a negative XSIG_E* on failure */
#define XSIG_EINVAL    (-1) /* not a signal / bad argument */
#define XSIG_ENOTSUP   (-2) /* cannot be caught on this platform (SIGKILL, SIGSTOP, SIGALRM on Windows) */
#define XSIG_EFAULTSIG (-3) /* fault signal (SEGV, BUS, ILL, FPE, TRAP, SYS, ABRT): refused */
#define XSIG_ESTATE    (-4) /* not initialised, or not allowed now (e.g. dispatching a context from its own callback) */
#define XSIG_ENOMEM    (-5)
#define XSIG_ESYS      (-6) /* an OS call failed; xsig_os_error() has errno / GetLastError() */
#define XSIG_ESRCH     (-7) /* no such process (xsig_send) */
#define XSIG_EPERM     (-8) /* not permitted (xsig_send; Windows: also a target no console event can reach) */
#define XSIG_EIGNORED  (-9) /* the signal is ignored (SIG_IGN since start) and was left so (lifecycle.h) */
#define XSIG_ENOTSVC   (-10) /* xsig_service_start: no Service Control Manager started this process */
#define XSIG_ENOLISTEN (-11) /* xsig_send, Windows: the process takes no such signal (no xsig mailbox, or the signal not watched there) */
XSIG_EXTERN const char *xsig_strerror(int err);
XSIG_EXTERN int xsig_os_error(void); /* errno or GetLastError() of the last XSIG_ESYS in this thread */

/* ---- what this platform can do (the seed's cross-platform table, asked at run time) */
typedef enum xsig_support {
  XSIG_UNSUPPORTED = 0, /* cannot be watched here */
  XSIG_EMULATED = 1,    /* watchable, but the OS delivers it in another form (Windows: SIGTERM from console close/logoff/shutdown) */
  XSIG_NATIVE = 2       /* the OS delivers this very signal */
} xsig_support_t;
XSIG_EXTERN xsig_support_t xsig_support(int signum);
XSIG_EXTERN int xsig_is_portable(int signum); /* 1 for SIGINT and SIGTERM: the subset every platform delivers */
XSIG_EXTERN const char *xsig_platform(void);  /* "linux", "darwin", "freebsd", "windows"... */
XSIG_EXTERN int xsig_signals(int *out, size_t cap); /* every signal number known here: writes at most cap, returns the total (out may be NULL when cap is 0) */
XSIG_EXTERN const char *xsig_name(int signum);      /* "SIGTERM"; NULL when unknown */
XSIG_EXTERN int xsig_from_name(const char *name);   /* "SIGTERM", "TERM", "term", "15" -> 15; XSIG_EINVAL */
typedef enum xsig_feature {
  XSIG_FEAT_SIGINFO,        /* events carry the sender's pid */
  XSIG_FEAT_QUEUED,         /* realtime signals queue (counted exactly) */
  XSIG_FEAT_PROCESS_GROUPS, /* xsig_send_group */
  XSIG_FEAT_ALARM,          /* SIGALRM from a timer */
  XSIG_FEAT_WAKEUP_FD,      /* the wakeup handle is a file descriptor (POSIX) */
  XSIG_FEAT_WAKEUP_SOCKET   /* the wakeup handle is a SOCKET (Windows) */
} xsig_feature_t;
XSIG_EXTERN int xsig_has(xsig_feature_t f);

/* ---- lifetime: process-wide, reference counted, thread safe */
XSIG_EXTERN int xsig_init(void);      /* creates the default context; installs no handler yet */
XSIG_EXTERN void xsig_shutdown(void); /* last reference: frees the default context, removes every watch,
                                         puts back every previous disposition, closes handles */
/* Windows: on console close, logoff or shutdown with a SIGTERM watch, the console handler
 * thread is held so the process lives while it dispatches SIGTERM and cleans up. Nothing in
 * xsig lets it go, xsig_shutdown included: the process ends when the program exits, or when
 * Windows' own limit runs out (about 5 s after a close). See docs/WINDOWS.md. */
#ifdef _WIN32
/* Windows only: AllocConsole, AttachConsole and FreeConsole reset the process's table of
 * console handlers, xsig's included. Call this after each such call to keep watches of SIGINT,
 * SIGBREAK and SIGTERM working; 0, or XSIG_ESYS. Not while a close event is being handled:
 * Windows blocks handler changes until that ends. */
XSIG_EXTERN int xsig_console_rearm(void);
#endif

/* ---- contexts: one per event loop / component. Each has its own wakeup handle and
 * its own watches; every context watching a signal sees every delivery of it, so two
 * components of one process never steal each other's signals. NULL = the default context.
 * A context must not be freed while it is being dispatched. */
typedef struct xsig_ctx xsig_ctx_t;
XSIG_EXTERN int xsig_ctx_new(xsig_ctx_t **out);
XSIG_EXTERN void xsig_ctx_free(xsig_ctx_t *ctx);

/* ---- watching */
typedef enum xsig_source {
  XSIG_SRC_KERNEL,  /* a real OS signal (kill, terminal, timer) */
  XSIG_SRC_CONSOLE, /* a Windows console control event */
  XSIG_SRC_SERVICE, /* a Windows service control */
  XSIG_SRC_SELF,    /* xsig_feed; xsig_raise where the OS has no such signal to raise (Windows) */
  XSIG_SRC_MAILBOX  /* another process through xsig's Windows mailbox; sender_pid from the kernel */
} xsig_source_t;
/* sender_pid, source and native are those of one delivery counted in this
 * event (the latest one, as a rule). */
typedef struct xsig_event {
  int signum;
  uint32_t count;     /* deliveries folded into this event since the last dispatch (>= 1);
                         saturates at UINT32_MAX (the counters themselves are 64-bit) */
  int64_t sender_pid; /* -1 when unknown */
  xsig_source_t source;
  uint32_t native; /* POSIX: si_code; Windows: the CTRL_*_EVENT or SERVICE_CONTROL_* value */
} xsig_event_t;
typedef void (*xsig_cb)(const xsig_event_t *ev, void *user);
typedef struct xsig_watch xsig_watch_t; /* opaque */
#define XSIG_ONESHOT 1u                 /* removed after its first callback */
/* out may be NULL. A handle in *out is valid until xsig_unwatch returns for
 * it (whatever it returns), or until its context is freed (xsig_shutdown for
 * the default context). A one-shot watch that has fired stays allocated for
 * the holder of its handle: xsig_unwatch then returns XSIG_EINVAL and frees
 * it. A one-shot watched with out == NULL is freed when it fires. */
XSIG_EXTERN int xsig_watch(xsig_ctx_t *ctx, int signum, xsig_cb cb, void *user, unsigned flags,
                           xsig_watch_t **out);
/* Safe from any thread and from inside a callback; from elsewhere it returns
 * only when the callback is not running. XSIG_EINVAL for a one-shot that has
 * already fired (or is being removed by another unwatch). */
XSIG_EXTERN int xsig_unwatch(xsig_watch_t *w);

/* ---- dispatch: callbacks run here, in ordinary code, never in signal context */
#ifdef _WIN32
typedef uintptr_t xsig_handle_t; /* a SOCKET */
#else
typedef int xsig_handle_t; /* a file descriptor */
#endif
/* Readable while a signal is pending (a delivery during or after xsig_watch
 * always makes it so): for poll/epoll/select/WSAPoll/libuv. A fork child has
 * a new one: ask again there. */
XSIG_EXTERN xsig_handle_t xsig_wakeup_handle(xsig_ctx_t *ctx);
/* Runs the callbacks of pending signals; returns how many ran; never blocks. */
XSIG_EXTERN int xsig_dispatch(xsig_ctx_t *ctx);
/* Waits (-1: forever) for a signal, then dispatches; 0 on timeout. On POSIX a
 * cancellation point, like poll(). A thread cancelled here or inside a
 * callback gives the context back (the callbacks after it for that event do
 * not run), and so does a C++ exception thrown by a callback (POSIX). Leaving
 * the wait by longjmp keeps the context's dispatching role in that thread: the
 * context then answers XSIG_ESTATE for good. Leaving a callback by longjmp is
 * not supported (its watch stays marked as running). */
XSIG_EXTERN int xsig_wait(xsig_ctx_t *ctx, int timeout_ms);
XSIG_EXTERN uint32_t xsig_pending(xsig_ctx_t *ctx, int signum); /* deliveries not yet dispatched (flag-style polling); saturates at UINT32_MAX */
/* Async-signal-safe: report a signal caught elsewhere (another library's
 * handler, a sigwait thread). It blocks every signal while it counts and wakes,
 * and puts the mask back before it returns. */
XSIG_EXTERN int xsig_feed(int signum);

/* ---- dispositions and sending */
XSIG_EXTERN int xsig_ignore(int signum);  /* SIG_IGN (Windows SIGINT: SetConsoleCtrlHandler(NULL, TRUE)) */
XSIG_EXTERN int xsig_default(int signum); /* SIG_DFL */
typedef enum xsig_disposition {
  XSIG_DISP_DEFAULT,
  XSIG_DISP_IGNORED,
  XSIG_DISP_XSIG,
  XSIG_DISP_OTHER
} xsig_disposition_t;
XSIG_EXTERN int xsig_disposition(int signum); /* what is installed now; negative XSIG_E* on error */
XSIG_EXTERN int xsig_raise(int signum);       /* to this process, through the same path a real signal takes */
/* POSIX kill(). Windows: SIGKILL is TerminateProcess, SIGINT/SIGBREAK a console event, and
 * SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2 go through the target's xsig mailbox: 0 once the
 * target took the signal, XSIG_ENOLISTEN when it has no mailbox or does not watch that signal,
 * XSIG_EPERM when the endpoint is not the target's own (docs/WINDOWS.md, "The mailbox"). */
XSIG_EXTERN int xsig_send(int64_t pid, int signum);
XSIG_EXTERN int xsig_send_group(int64_t pgid, int signum);
/* Windows: the signals pid's xsig mailbox takes now, asked of the mailbox itself (those it watches
 * of SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, and SIGINT, SIGBREAK): writes at most cap of them
 * in ascending order and returns how many there are (out may be NULL when cap is 0), as
 * xsig_signals() does. XSIG_ENOLISTEN when pid has no mailbox (it watches none of the first five,
 * or is no xsig program), XSIG_ESRCH no such process, XSIG_EPERM the endpoint is not pid's own.
 * POSIX: XSIG_ENOTSUP (another process's dispositions are read from /proc, not asked). */
XSIG_EXTERN int xsig_accepts(int64_t pid, int *out, size_t cap);

/* ---- Windows services
 *
 * Connects the program to the Service Control Manager, so that the same
 * binary runs as a service when the SCM started it and as a console program
 * otherwise. Call it early in main(), before xsig_graceful_start and
 * xsig_reload_start. It starts the SCM's dispatcher on a thread of xsig's own
 * and returns once the service's handler is registered and SERVICE_START_PENDING
 * is reported; main() then goes on as the service's main. From then on:
 * - STOP, SHUTDOWN and PRESHUTDOWN arrive as SIGTERM, PARAMCHANGE as SIGHUP,
 *   PAUSE as SIGTSTP, CONTINUE as SIGCONT and the user controls 128-255 as
 *   SIGUSR1, each with source XSIG_SRC_SERVICE and native the SERVICE_CONTROL_*
 *   value (the user control's own code for SIGUSR1); xsig_support() reports
 *   these signals EMULATED. A control is accepted only while its signal is
 *   watched (PAUSE/CONTINUE: SIGTSTP and SIGCONT both); STOP and SHUTDOWN always
 *   are, and with no SIGTERM watch they end the process as an unhandled stop does.
 * - xsig_notify_ready() reports SERVICE_RUNNING, a stop request
 *   SERVICE_STOP_PENDING with a checkpoint that moves every second until the
 *   process ends, and xsig_graceful_exit(status) SERVICE_STOPPED with that status.
 * name: the service's name in UTF-8 (the SCM's own name wins for a service of
 * its own process). opts may be NULL. Returns 0 in a service; XSIG_ENOTSVC,
 * fast, when no SCM started the process (run as a console program then);
 * XSIG_EINVAL for a bad name or option; XSIG_ESTATE when already connected;
 * XSIG_ESYS when the SCM refuses (the service is then reported STOPPED with
 * that error); XSIG_ENOTSUP on POSIX. See docs/WINDOWS.md, "Services". */
typedef struct xsig_service_opts {
  /* > 0: accept SERVICE_CONTROL_PRESHUTDOWN, and ask the SCM for this many ms
   * of it (SERVICE_CONFIG_PRESHUTDOWN_INFO); 0: SHUTDOWN only. */
  int preshutdown_ms;
  unsigned flags; /* 0 */
} xsig_service_opts_t;
XSIG_EXTERN int xsig_service_start(const char *name, const xsig_service_opts_t *opts);
/* 1 once xsig_service_start connected this process to the SCM, else 0. */
XSIG_EXTERN int xsig_service_active(void);

#ifdef __cplusplus
}
#endif
#endif
