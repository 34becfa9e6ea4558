/* Graceful shutdown and reload on top of the public API.
 *
 * Forcing the exit must work while the program's threads are blocked or
 * spinning, so it cannot wait for their dispatch. A watchdog thread owns a
 * second xsig context watching the stop set; since every context sees every
 * delivery, it learns of each stop request at once, independently of the
 * program's context, which still gets on_stop at its own dispatch. The watchdog
 * counts requests, runs the grace timer and ends the process through the
 * backend's xsig__os_exit_by_signal(). */
#ifdef _WIN32
#include <winsock2.h> /* before windows.h, which xsig_int.h includes */
#endif
#include "xsig_int.h"
#include "xsig/lifecycle.h"
#include <stdio.h>
#include <stdlib.h>

static const int stop_set[2] = {SIGINT, SIGTERM};

/* ---------------------------------------------------------------- threads
 * The one place that knows the OS: a thread, a way to wake it, and a wait on
 * the watchdog context's wakeup handle or that waker. */
#ifdef _WIN32
typedef struct lc_thread {
  HANDLE h;
  DWORD id;
  HANDLE stop; /* manual-reset event */
  WSAEVENT ready;
  void (*fn)(void);
} lc_thread_t;

static DWORD WINAPI lc_trampoline(LPVOID arg) {
  ((lc_thread_t *)arg)->fn();
  return 0;
}

static int lc_thread_start(lc_thread_t *t, void (*fn)(void)) {
  t->fn = fn;
  t->stop = CreateEventW(NULL, TRUE, FALSE, NULL);
  t->ready = WSACreateEvent();
  if (!t->stop || t->ready == WSA_INVALID_EVENT) goto fail;
  t->h = CreateThread(NULL, 0, lc_trampoline, t, 0, &t->id);
  if (t->h) return 0;
fail:
  xsig__set_os_error((int)GetLastError());
  if (t->stop) CloseHandle(t->stop);
  if (t->ready != WSA_INVALID_EVENT) WSACloseEvent(t->ready);
  return XSIG_ESYS;
}

static int lc_thread_self(const lc_thread_t *t) {
  return GetCurrentThreadId() == t->id;
}

static void lc_thread_stop(lc_thread_t *t) {
  SetEvent(t->stop);
  WaitForSingleObject(t->h, INFINITE);
  CloseHandle(t->h);
  CloseHandle(t->stop);
  WSACloseEvent(t->ready);
}

/* 1 when h may be readable, 0 on time-out or stop. */
static int lc_wait(lc_thread_t *t, xsig_handle_t h, int timeout_ms) {
  WSANETWORKEVENTS ne;
  fd_set rd;
  struct timeval now = {0, 0};
  /* Re-armed each time, which clears the event record: a byte that came in
   * since the last drain would then go unannounced, so look before sleeping. */
  WSAEventSelect((SOCKET)h, t->ready, FD_READ);
  FD_ZERO(&rd);
  FD_SET((SOCKET)h, &rd);
  if (select(0, &rd, NULL, NULL, &now) > 0) return 1;
  HANDLE hs[2] = {t->stop, t->ready};
  DWORD r = WaitForMultipleObjects(2, hs, FALSE, timeout_ms < 0 ? INFINITE : (DWORD)timeout_ms);
  WSAEnumNetworkEvents((SOCKET)h, t->ready, &ne);
  return r == WAIT_OBJECT_0 + 1;
}
#else
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>
typedef struct lc_thread {
  pthread_t h;
  pid_t pid;   /* a fork child has the struct but not the thread */
  int pipe[2]; /* a byte in it stops the thread */
  void (*fn)(void);
} lc_thread_t;

static void *lc_trampoline(void *arg) {
  ((lc_thread_t *)arg)->fn();
  return NULL;
}

/* Close-on-exec, so that no program the process runs keeps the watchdog's pipe.
 * -1 with errno, and nothing left open, on failure. */
static int lc_pipe(int fds[2]) {
#if defined(__linux__) || defined(__FreeBSD__) || defined(__NetBSD__) || defined(__OpenBSD__)
  return pipe2(fds, O_CLOEXEC);
#else
  /* No pipe2: a fork+exec in another thread between these calls can inherit
   * the pipe, as with the core's wakeup pipe. */
  if (pipe(fds) < 0) return -1;
  if (fcntl(fds[0], F_SETFD, FD_CLOEXEC) == 0 && fcntl(fds[1], F_SETFD, FD_CLOEXEC) == 0) return 0;
  int e = errno;
  close(fds[0]);
  close(fds[1]);
  errno = e;
  return -1;
#endif
}

static int lc_thread_start(lc_thread_t *t, void (*fn)(void)) {
  sigset_t all, old;
  t->fn = fn;
  if (lc_pipe(t->pipe) < 0) {
    int r = errno;
    xsig__set_os_error(r);
    return XSIG_ESYS;
  }
  /* Born with every signal blocked but the stop set, so that it never takes a
   * signal meant for one of the program's threads (a sigwait() loop, say), yet
   * still hears a stop request when every other thread blocks it. */
  sigfillset(&all);
  for (int i = 0; i < 2; i++) sigdelset(&all, stop_set[i]);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  t->pid = getpid();
  int r = pthread_create(&t->h, NULL, lc_trampoline, t);
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  if (r == 0) return 0;
  close(t->pipe[0]);
  close(t->pipe[1]);
  xsig__set_os_error(r);
  return XSIG_ESYS;
}

static int lc_thread_inherited(const lc_thread_t *t) {
  return getpid() != t->pid;
}

static int lc_thread_self(const lc_thread_t *t) {
  return !lc_thread_inherited(t) && pthread_equal(pthread_self(), t->h);
}

static void lc_thread_stop(lc_thread_t *t) {
  ssize_t w;
  /* A fork child shares the pipe with the parent's live watchdog: no byte. */
  if (!lc_thread_inherited(t)) {
    do w = write(t->pipe[1], "", 1);
    while (w < 0 && errno == EINTR);
    pthread_join(t->h, NULL);
  }
  close(t->pipe[0]);
  close(t->pipe[1]);
}

static int lc_wait(lc_thread_t *t, xsig_handle_t h, int timeout_ms) {
  struct pollfd p[2] = {{t->pipe[0], POLLIN, 0}, {h, POLLIN, 0}};
  int r = poll(p, 2, timeout_ms);
  return r > 0 && !p[0].revents;
}
#endif

/* ---------------------------------------------------------------- state */

static xsig__mutex_t lock = XSIG__MUTEX_INIT;
static xsig__aint stop_sig;

static struct graceful {
  int on;                    /* 0 off, 1 on, 2 being stopped */
  xsig_graceful_opts_t opts; /* fixed while on: the watchdog reads it unlocked */
  int take[2];               /* stop_set[i] is watched: not ignored at start, or taken */
  int unignored[2];          /* we turned off an ignore that outlives handlers (Windows) */
  xsig_watch_t *uw[2];       /* on the program's context */
  xsig_ctx_t *wctx;          /* the watchdog's own context */
  int holds_default;         /* an xsig_init() reference of ours */
  lc_thread_t thr;
  xsig__aint user_told; /* on_stop ran */
  xsig__aint quit;
  /* The watchdog thread's alone. */
  uint32_t requests;
  uint64_t counted_at; /* when the last request was counted */
  uint64_t deadline;
} g;

static struct reload {
  xsig_watch_t *w;
  int holds_default;
  int unignored; /* see take_ignored */
  xsig_reload_cb fn;
  void *user;
} rl;

int xsig_stop_requested(void) {
  return xsig__aint_load_acq(&stop_sig);
}

/* Whoever sees the first request first, the watchdog or the program's own
 * dispatch, tells systemd: STOPPING=1 goes out once, and before the program
 * can finish its drain and exit. */
static void note_stop(int sig) {
  int none = 0;
  if (xsig__aint_cas(&stop_sig, &none, sig)) xsig_notify_stopping();
}

/* The default context must outlive our watches on it, even when the program
 * calls xsig_shutdown() first: hold a reference of our own. A context the
 * program made is the program's to keep until it stops us. */
static int hold_default(xsig_ctx_t *ctx, int *held) {
  *held = 0;
  if (ctx) return 0;
  if (xsig_wakeup_handle(NULL) == (xsig_handle_t)-1) return XSIG_ESTATE;
  int r = xsig_init();
  *held = r == 0;
  return r;
}

static void release_default(int *held) {
  if (*held) xsig_shutdown();
  *held = 0;
}

/* Makes an ignored sig reachable by a watch: 1 when an ignore had to be turned
 * off (put back by restore_ignore), 0 when the watch alone will do. A POSIX
 * handler replaces SIG_IGN by itself, with no moment at SIG_DFL, and so does
 * a watch on Windows for every signal but one. Windows' Ctrl+C flag outlives
 * every handler, and only xsig_default() clears it, which the core refuses
 * once the signal is watched: a Ctrl+C between this and the watch ends the
 * process, as it would have just before the start. (Turning off an ignored
 * mailbox signal instead would close the mailbox until the watch opens it
 * again, and a sender would be refused in between.) */
static int take_ignored(int sig) {
#ifdef _WIN32
  if (sig != SIGINT) return 0;
  int r = xsig_default(sig);
  return r < 0 ? r : 1;
#else
  (void)sig;
  return 0;
#endif
}

static void restore_ignore(int sig, int *turned_off) {
  if (*turned_off) xsig_ignore(sig);
  *turned_off = 0;
}

/* Before watching sig: 1 to watch it, 0 when it stays ignored, or a negative
 * error. An ignore in force at start is the parent's or the program's choice
 * (a shell's `cmd &`, nohup): it is kept, as CPython keeps an ignored SIGINT,
 * unless flags has XSIG_TAKE_IGNORED. */
static int prepare_watch(int sig, unsigned flags, int *turned_off) {
  *turned_off = 0;
  int d = xsig_disposition(sig);
  if (d < 0) return d;
  if (d != XSIG_DISP_IGNORED) return 1;
  if (!(flags & XSIG_TAKE_IGNORED)) return 0;
  int r = take_ignored(sig);
  if (r < 0) return r;
  *turned_off = r;
  return 1;
}

/* ---------------------------------------------------------------- watchdog */

static _Noreturn void force_exit(int sig) {
  if (g.opts.on_force) g.opts.on_force(sig, g.opts.user);
  xsig__os_exit_by_signal(sig);
}

/* How many stop requests ev is (merge_ms in lifecycle.h). Keyed on time, not
 * on the sender: Ctrl+C under timeout(1) comes from the terminal (no pid) and
 * again from timeout. A folded event is deliveries the watchdog had not yet
 * taken, so they came within its wake-up delay of each other. */
static uint32_t requests_in(const xsig_event_t *ev, uint64_t now) {
  int merge_ms = g.opts.merge_ms ? g.opts.merge_ms : XSIG_MERGE_MS_DEFAULT;
  if (merge_ms < 0) return ev->count;
  return g.requests && now - g.counted_at < (uint64_t)merge_ms ? 0 : 1;
}

static void wd_on_stop(const xsig_event_t *ev, void *user) {
  (void)user;
  uint64_t now = xsig__os_now_ms();
  uint32_t n = requests_in(ev, now), before = g.requests;
  if (n == 0) return;
  g.requests += n;
  g.counted_at = now;
  if (before == 0) {
    note_stop(ev->signum);
    if (g.opts.grace_ms > 0) g.deadline = now + (uint64_t)g.opts.grace_ms;
  }
  if (g.requests >= 2 && g.opts.second_forces >= 0) force_exit(ev->signum);
}

static void wd_main(void) {
  xsig_handle_t h = xsig_wakeup_handle(g.wctx);
  for (;;) {
    xsig_dispatch(g.wctx);
    if (xsig__aint_load(&g.quit)) return;
    int timeout = -1;
    if (g.deadline) {
      uint64_t now = xsig__os_now_ms();
      if (now >= g.deadline) force_exit(xsig_stop_requested());
      timeout = (int)(g.deadline - now);
    }
    lc_wait(&g.thr, h, timeout);
  }
}

/* ---------------------------------------------------------------- graceful */

/* Takes no lock: a failed start unwatches it while holding ours. */
static void user_on_stop(const xsig_event_t *ev, void *user) {
  (void)user;
  note_stop(ev->signum);
  if (!xsig__aint_xchg(&g.user_told, 1) && g.opts.on_stop)
    g.opts.on_stop(xsig_stop_requested(), g.opts.user);
}

/* Undoes whatever part of a start succeeded. */
static void graceful_undo(void) {
  for (int i = 0; i < 2; i++)
    if (g.uw[i]) xsig_unwatch(g.uw[i]);
  if (g.wctx) xsig_ctx_free(g.wctx);
  for (int i = 0; i < 2; i++) restore_ignore(stop_set[i], &g.unignored[i]);
  g.uw[0] = g.uw[1] = NULL;
  g.wctx = NULL;
  release_default(&g.holds_default);
}

/* Fills g.take; XSIG_EIGNORED when both stop signals stay ignored. */
static int choose_stop_set(void) {
  int r = 0;
  for (int i = 0; r >= 0 && i < 2; i++) {
    r = prepare_watch(stop_set[i], g.opts.flags, &g.unignored[i]);
    g.take[i] = r > 0;
  }
  if (r < 0) return r;
  return g.take[0] || g.take[1] ? 0 : XSIG_EIGNORED;
}

static int graceful_arm(xsig_ctx_t *ctx) {
  int r = hold_default(ctx, &g.holds_default);
  if (r == 0) r = choose_stop_set();
  if (r == 0) r = xsig_ctx_new(&g.wctx);
  for (int i = 0; r == 0 && i < 2; i++)
    if (g.take[i]) r = xsig_watch(g.wctx, stop_set[i], wd_on_stop, NULL, 0, NULL);
  for (int i = 0; r == 0 && i < 2; i++)
    if (g.take[i]) r = xsig_watch(ctx, stop_set[i], user_on_stop, NULL, 0, &g.uw[i]);
  if (r == 0) r = lc_thread_start(&g.thr, wd_main);
  return r;
}

static int check_opts(const xsig_graceful_opts_t *o) {
  if (!o) return 0;
  if (o->grace_ms < 0 || o->merge_ms < -1 || (o->flags & ~XSIG_TAKE_IGNORED)) return XSIG_EINVAL;
  return 0;
}

int xsig_graceful_start(xsig_ctx_t *ctx, const xsig_graceful_opts_t *opts) {
  if (check_opts(opts) < 0) return XSIG_EINVAL;
  xsig__os_mutex_lock(&lock);
  int r = XSIG_ESTATE;
  if (!g.on) {
    g.opts = opts ? *opts : (xsig_graceful_opts_t){0};
    xsig__aint_store(&g.user_told, 0);
    g.requests = 0;
    g.counted_at = 0;
    g.deadline = 0;
    xsig__aint_store(&g.quit, 0);
    xsig__aint_store(&stop_sig, 0);
    r = graceful_arm(ctx);
    if (r < 0)
      graceful_undo();
    else
      g.on = 1;
  }
  xsig__os_mutex_unlock(&lock);
  return r;
}

int xsig_graceful_stop(void) {
  xsig__os_mutex_lock(&lock);
  int r = 0, mine = g.on == 1 && !lc_thread_self(&g.thr);
  if (g.on == 1 && !mine) r = XSIG_ESTATE;
  if (mine) g.on = 2;
  xsig__os_mutex_unlock(&lock);
  if (!mine) return r;
  /* Unlocked while joining: on_force may still run and call into us. */
  xsig__aint_store(&g.quit, 1);
  lc_thread_stop(&g.thr);
  graceful_undo();
  xsig__os_mutex_lock(&lock);
  g.on = 0;
  xsig__os_mutex_unlock(&lock);
  return 0;
}

void xsig_graceful_exit(int status) {
  int sig = xsig_stop_requested();
  /* The watchdog keeps running: grace_ms and a second signal must still bound
   * fflush() and atexit handlers; exit() ends it with the process. */
  xsig_reload_stop();
  fflush(NULL);
  /* Either way a console handler thread held for close, logoff or shutdown
   * is never let go: it would have Windows end the process first. */
  if (status != XSIG_EXIT_BY_SIGNAL) {
    xsig__os_will_exit(status); /* a Windows service: SERVICE_STOPPED with status */
    exit(status);
  }
  xsig__os_exit_by_signal(sig ? sig : SIGTERM);
}

/* ---------------------------------------------------------------- reload */

static void on_hup(const xsig_event_t *ev, void *user) {
  (void)ev;
  (void)user;
  xsig__os_mutex_lock(&lock);
  xsig_reload_cb fn = rl.fn;
  void *arg = rl.user;
  xsig__os_mutex_unlock(&lock);
  if (!fn) return;
  char err[256] = "";
  xsig_notify_reloading();
  if (fn(arg, err, sizeof err) == 0) {
    xsig_notify("READY=1\nSTATUS=reloaded");
  } else {
    err[sizeof err - 1] = '\0';
    xsig_notifyf("READY=1\nSTATUS=reload failed: %s", err[0] ? err : "unknown error");
  }
}

/* Under the lock, rl.w unset. */
static int reload_arm(xsig_ctx_t *ctx, unsigned flags) {
  int r = hold_default(ctx, &rl.holds_default);
  if (r == 0) r = prepare_watch(SIGHUP, flags, &rl.unignored);
  if (r == 0) r = XSIG_EIGNORED;
  if (r > 0) r = xsig_watch(ctx, SIGHUP, on_hup, NULL, 0, &rl.w);
  if (r < 0) {
    rl.fn = NULL;
    restore_ignore(SIGHUP, &rl.unignored);
    release_default(&rl.holds_default);
  }
  return r;
}

int xsig_reload_start_flags(xsig_ctx_t *ctx, xsig_reload_cb fn, void *user, unsigned flags) {
  if (!fn || (flags & ~XSIG_TAKE_IGNORED)) return XSIG_EINVAL;
  if (xsig_support(SIGHUP) == XSIG_UNSUPPORTED) return XSIG_ENOTSUP;
  xsig__os_mutex_lock(&lock);
  int r = XSIG_ESTATE;
  if (!rl.w) {
    rl.fn = fn;
    rl.user = user;
    r = reload_arm(ctx, flags);
  }
  xsig__os_mutex_unlock(&lock);
  return r;
}

int xsig_reload_start(xsig_ctx_t *ctx, xsig_reload_cb fn, void *user) {
  return xsig_reload_start_flags(ctx, fn, user, 0);
}

int xsig_reload_stop(void) {
  xsig__os_mutex_lock(&lock);
  xsig_watch_t *w = rl.w;
  int held = rl.holds_default, unignored = rl.unignored;
  rl.w = NULL;
  rl.fn = NULL;
  rl.holds_default = 0;
  rl.unignored = 0;
  xsig__os_mutex_unlock(&lock);
  /* Outside the lock: unwatch waits for a running on_hup, which takes it. */
  int r = w ? xsig_unwatch(w) : 0;
  restore_ignore(SIGHUP, &unignored);
  release_default(&held);
  return r;
}
