/* The one seam between xsig's portable core (src/common) and an OS backend
 * (src/posix, src/win32). Everything named xsig__os_* is implemented once per
 * backend; everything else here is implemented in src/common. */
#ifndef XSIG_INT_H
#define XSIG_INT_H
#include "xsig_features.h" /* first: it decides what the system headers show */
#include "xsig/xsig.h"
#include "xsig_atomic.h"
#include <stdint.h>

/* Signal numbers index flat arrays, sized by one fixed number that depends on
 * no system header. NSIG is not POSIX, and what <signal.h> shows depends on
 * the feature-test macros in force: in a strict build glibc gives 32 where
 * _DEFAULT_SOURCE gives 65, so a size taken from it differed between
 * translation units and dropped the realtime range. 129 covers every signal
 * of every system xsig supports: Linux 64 (MIPS 128), FreeBSD 126 (its
 * _SIG_MAXSIG is 128), NetBSD 63, illumos 72 or fewer, macOS and OpenBSD 32,
 * Windows' 28. The memory it costs is a few kilobytes. src/posix/signal.c
 * checks at compile time that the system's own limit fits. */
#ifdef XSIG__NSIG
#error "XSIG__NSIG is xsig's own, defined once here"
#endif
#define XSIG__NSIG      129
#define XSIG__MASKWORDS ((XSIG__NSIG + 31) / 32)

/* ---- process-wide per-signal record, written from signal context.
 * The counter is 64-bit so that it never wraps in practice (2^64 deliveries);
 * contexts keep their own 'seen'. The latest delivery's details are in two
 * words, each tagged with the low 32 bits of that delivery's number, so a
 * reader can tell whether both words and the counter it read belong together
 * (see take() in core.c). */
typedef struct xsig__sigrec {
  xsig__au64 count; /* deliveries ever recorded */
  xsig__au64 who;   /* tag << 32 | sender pid (uint32) */
  xsig__au64 how;   /* tag << 32 | native (24 bits) << 8 | source */
} xsig__sigrec_t;
extern xsig__sigrec_t xsig__sigs[XSIG__NSIG];

/* ---- a context as the signal handler sees it. Slots are never freed, only
 * reused, so the handler can walk them without a lock. */
typedef struct xsig__slot {
  xsig__aiptr wr;                   /* write end (fd or SOCKET); -1 while unused or closing */
  xsig__aint users;                 /* handlers currently writing to wr */
  xsig__aint claimed;               /* owned by a live context */
  xsig__aint dirty;                 /* set after each poke: the pair may hold bytes */
  xsig__au32 mask[XSIG__MASKWORDS]; /* signals this context watches */
  xsig__aptr next;                  /* struct xsig__slot * */
} xsig__slot_t;

/* A wakeup pair: rd is what xsig_wakeup_handle() returns; id tells the
 * backend whether an inherited descriptor is still this pair (POSIX: the
 * pipe's inode). */
typedef struct xsig__pair {
  intptr_t rd, wr;
  uint64_t id;
} xsig__pair_t;

/* ---- called by a backend, including from signal context (async-signal-safe) */
/* Counts one delivery, then wakes every context that watches signum except
 * `skip` (the waiter that the backend woke by other means; may be NULL).
 * Returns non-zero when the wakeup found a live context that watches
 * signum (`skip` included), or some context has already taken this
 * delivery: the answer to "was it ours", so a watch that a dispatcher ran
 * and removed before the wakeup reached it still counts. */
int xsig__deliver(int signum, int64_t pid, xsig_source_t src, uint32_t native,
                  const xsig__slot_t *skip);
/* In a fork child that has not rebuilt yet (see xsig__os_where): counts the
 * delivery so that the rebuild keeps it, and wakes nobody, because every
 * wakeup pair the child can see still belongs to its parent. */
void xsig__deliver_early(int signum, int64_t pid, xsig_source_t src, uint32_t native);
/* 1 when some live context watches signum (the Windows handler's return value). */
int xsig__watched(int signum);

/* ---- called by a backend from ordinary code */
void xsig__set_os_error(int err); /* and returns nothing; callers return XSIG_ESYS */
/* After fork: every context gets a fresh wakeup pair and forgets the parent's
 * pending deliveries but keeps the child's own (xsig__deliver_early); the
 * dispatching role and running callbacks of threads that did not survive the
 * fork are dropped. Call with no other thread alive and every signal blocked
 * (the atfork child handler, or xsig__os_check_fork). */
void xsig__after_fork_child(void);
/* The engine lock, for backends that must bracket fork with it. */
void xsig__lock(void);
void xsig__unlock(void);
/* 1 when ctx has deliveries it has not dispatched (the core uses it to write a
 * byte that a skipped wakeup still owes; Windows' wait looks before select). */
int xsig__ctx_has_pending(xsig_ctx_t *ctx);
xsig__slot_t *xsig__ctx_slot(xsig_ctx_t *ctx);
xsig__pair_t *xsig__ctx_pair(xsig_ctx_t *ctx);

/* ---- locks and once, the only threading the core needs */
#ifdef _WIN32
#include <windows.h>
typedef SRWLOCK xsig__mutex_t;
typedef CONDITION_VARIABLE xsig__cond_t;
typedef INIT_ONCE xsig__once_t;
#define XSIG__MUTEX_INIT SRWLOCK_INIT
#define XSIG__COND_INIT  CONDITION_VARIABLE_INIT
#define XSIG__ONCE_INIT  INIT_ONCE_STATIC_INIT
#else
#include <pthread.h>
typedef pthread_mutex_t xsig__mutex_t;
typedef pthread_cond_t xsig__cond_t;
typedef pthread_once_t xsig__once_t;
#define XSIG__MUTEX_INIT PTHREAD_MUTEX_INITIALIZER
#define XSIG__COND_INIT  PTHREAD_COND_INITIALIZER
#define XSIG__ONCE_INIT  PTHREAD_ONCE_INIT
#endif
void xsig__os_mutex_lock(xsig__mutex_t *m);
void xsig__os_mutex_unlock(xsig__mutex_t *m);
void xsig__os_cond_wait(xsig__cond_t *c, xsig__mutex_t *m);
void xsig__os_cond_broadcast(xsig__cond_t *c);
void xsig__os_once(xsig__once_t *once, void (*fn)(void));

/* ---- the backend */
const char *xsig__os_platform(void);
/* Signals that exist here but are not in the common name table (Linux realtime range). */
int xsig__os_rt_range(int *lo, int *hi); /* 1 and the inclusive range, or 0 */
int xsig__os_reserved(int signum);       /* numbers the C library keeps for itself */
/* One past the highest signal number this system has (at most XSIG__NSIG);
 * async-signal-safe. */
int xsig__os_nsig(void);
/* For a known signal that is neither a fault signal nor SIGKILL/SIGSTOP. */
xsig_support_t xsig__os_support(int signum);
int xsig__os_has(xsig_feature_t f);

/* Engine start and stop (first xsig_init/xsig_ctx_new, last release). */
int xsig__os_start(void);
void xsig__os_stop(void);
/* Makes or breaks a wakeup pair: non-blocking, not inherited by children. */
int xsig__os_pair_open(xsig__pair_t *p);
void xsig__os_pair_close(xsig__pair_t *p);
/* In a fork child: closes what is left of the parent's pair, but only the
 * descriptors that still are that pair (a daemon may have closed them and
 * reused the numbers before its first xsig call). */
void xsig__os_pair_forget(xsig__pair_t *p);
void xsig__os_pair_drain(xsig__pair_t *p);
/* Async-signal-safe: one byte to wr; a full buffer means the reader is awake. */
void xsig__os_pair_poke(intptr_t wr);
/* Waits until ctx's wakeup is readable, the thread is interrupted by a watched
 * signal, or timeout_ms passes (-1: no limit). Every delivery since the last
 * dispatch wrote a byte, unless the backend's handler skipped it because it
 * found this very wait at its end, so the pair alone is enough to wait on.
 * Returns 1 when woken through the pair (drain it), 0 otherwise (time-out,
 * interruption, pending seen), negative on error. */
int xsig__os_wait(xsig_ctx_t *ctx, int timeout_ms);
uint64_t xsig__os_now_ms(void); /* monotonic */

/* First watch of a signal in the process / last unwatch. */
int xsig__os_install(int signum);
void xsig__os_uninstall(int signum);
int xsig__os_disposition(int signum);
int xsig__os_ignore(int signum);
int xsig__os_default(int signum);
int xsig__os_raise(int signum);
int xsig__os_send(int64_t pid, int signum);
int xsig__os_send_group(int64_t pgid, int signum);
/* The signals pid's mailbox takes (bit n for signal n), or a negative error. */
int xsig__os_accepts(int64_t pid, uint32_t *mask);
/* With the engine lock held, at the start of every public call that takes it:
 * in a child that skipped pthread_atfork (raw clone, _Fork), rebuilds with
 * every signal blocked, as the atfork child handler does; and puts back a
 * cancellation type that a jump out of the wait left asynchronous. */
void xsig__os_check_fork(void);

/* Where a delivery or a feed happens, as async-signal-safe code can tell. */
enum {
  XSIG__HERE,  /* the process whose state this is: count and wake */
  XSIG__CHILD, /* a fork child that has not rebuilt yet: xsig__deliver_early */
  XSIG__ALIEN  /* a vfork child sharing the parent's memory: touch nothing */
};
int xsig__os_where(void);
/* The deliveries of signum that this fork child counted before it rebuilt
 * (xsig__deliver_early). Zero in every new child, however it was made: POSIX
 * keeps them in the page that fork wipes. */
xsig__au64 *xsig__os_early(int signum);
/* Blocks every signal in this thread and disables its cancellation (libc
 * keeps its cancellation signal out of any mask) / puts both back;
 * async-signal-safe. xsig_feed runs inside them so that no handler, jump or
 * asynchronous cancellation can stop it between counting and waking. No-ops
 * on Windows. */
typedef struct xsig__mask {
#ifdef _WIN32
  int unused;
#else
  sigset_t set;
  int cancel_state, cancel_type;
#endif
} xsig__mask_t;
void xsig__os_block(xsig__mask_t *old);
void xsig__os_unblock(const xsig__mask_t *old);
/* Runs fn(arg); if the thread is cancelled or unwound inside it, undo(arg)
 * runs first (pthread_cleanup_push). Windows: just fn(arg). */
void xsig__os_guarded(void (*fn)(void *), void *arg, void (*undo)(void *));
/* For the public functions whose frames hold a guarded call's arguments:
 * AddressSanitizer does not unpoison frames that a cancellation unwinds, so
 * redzones there would outlive the thread's cancellation (and trip the
 * sanitizer's own thread teardown). Frames below the guard are cleaned by
 * the backend's undo path. */
#if defined(__SANITIZE_ADDRESS__) && defined(_MSC_VER)
#define XSIG__UNWOUND __declspec(no_sanitize_address)
#elif defined(__SANITIZE_ADDRESS__)
#define XSIG__UNWOUND __attribute__((no_sanitize_address))
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define XSIG__UNWOUND __attribute__((no_sanitize_address))
#endif
#endif
#ifndef XSIG__UNWOUND
#define XSIG__UNWOUND
#endif

/* Ends the process as the stop signal itself would: POSIX, by the signal's
 * default action (so a parent sees WIFSIGNALED); Windows, with the exit status
 * Windows gives that console event. Never returns. */
_Noreturn void xsig__os_exit_by_signal(int signum);

/* ---- the service manager (Windows: the SCM, src/win32/service.c; Linux's
 * sd_notify is in notify.c). The state is xsig_notify's ("READY=1",
 * "STOPPING=1"...): 1 when the manager was told, 0 when nobody is to be told. */
int xsig__os_notify(const char *state);
/* Just before xsig_graceful_exit ends the process with status (not a signal). */
void xsig__os_will_exit(int status);

/* ---- shared helpers */
int xsig__is_fault(int signum);
int xsig__known(int signum); /* has a name here and is not reserved */
static inline int xsig__maskbit(const xsig__au32 *mask, int s) {
  return (xsig__au32_load_acq(&mask[s / 32]) >> (s % 32)) & 1u;
}
#endif
