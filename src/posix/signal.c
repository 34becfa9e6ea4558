/* POSIX backend, signal side: sigaction, the handler, dispositions, sending,
 * and keeping fork children apart from their parent. */
#include "../common/xsig_int.h"
#include "posix_int.h"
#include <errno.h>
#include <limits.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* The system's own limit must fit xsig's fixed one (see xsig_int.h). Each of
 * these is a constant where it exists; SIGRTMAX often is not. */
#ifdef _NSIG
_Static_assert(_NSIG <= XSIG__NSIG, "XSIG__NSIG is too small for this system's _NSIG");
#endif
#ifdef NSIG
_Static_assert(NSIG <= XSIG__NSIG, "XSIG__NSIG is too small for this system's NSIG");
#endif
#ifdef _SIG_MAXSIG
_Static_assert(_SIG_MAXSIG < XSIG__NSIG, "XSIG__NSIG is too small for this system's _SIG_MAXSIG");
#endif
#ifdef __SIGRTMAX
_Static_assert(__SIGRTMAX < XSIG__NSIG, "XSIG__NSIG is too small for this system's realtime range");
#endif
#if !defined(MAP_ANONYMOUS) && defined(MAP_ANON)
#define MAP_ANONYMOUS MAP_ANON
#endif

static struct sigaction saved[XSIG__NSIG]; /* what was installed before xsig's handler */
static xsig__aint cached_pid;
/* Linux empties a MADV_WIPEONFORK page in every child, including those made by
 * raw clone or _Fork that skip pthread_atfork, at no cost per check (the BSDs
 * do the same for minherit(INHERIT_ZERO)). A vfork child shares the page. */
static struct wiped {
  volatile int alive;           /* 1 once this process has rebuilt after its fork */
  xsig__au64 early[XSIG__NSIG]; /* see xsig__os_early() */
} * wiped;
/* Where no page can be wiped (no such child exists there). */
static xsig__au64 early_fallback[XSIG__NSIG];
/* This thread runs chain(): a foreign handler that calls back into ours (it
 * saved ours as its "previous" before xsig saved it) is not counted twice,
 * and the two do not call each other for ever. */
static _Thread_local int chaining __attribute__((tls_model("initial-exec"))); /* the signal */
/* The forking thread's mask, saved while fork() runs with every signal blocked. */
static _Thread_local sigset_t fork_mask;

static int sys_error(void) {
  xsig__set_os_error(errno);
  return XSIG_ESYS;
}

static int64_t sender(const siginfo_t *i, int sig) {
  if (!i) return -1;
  int c = i->si_code;
  if (c == SI_USER || c == SI_QUEUE || (sig == SIGCHLD && c > 0)) return i->si_pid;
#ifdef SI_TKILL
  if (c == SI_TKILL) return i->si_pid;
#endif
  return -1;
}

static void chain(int sig, siginfo_t *info, void *uc) {
  const struct sigaction *o = &saved[sig];
  /* SIG_DFL and SIG_IGN may come with SA_SIGINFO set: never call them. */
  if (o->sa_handler == SIG_DFL || o->sa_handler == SIG_IGN) return;
  int outer = chaining;
  chaining = sig;
  if (o->sa_flags & SA_SIGINFO)
    o->sa_sigaction(sig, info, uc);
  else
    o->sa_handler(sig);
  chaining = outer;
}

/* A vfork child has handlers of its own: a signal whose previous action is
 * the default gets it, as it would without xsig (SIGTERM ends the child). It
 * is blocked until this handler returns, then acted on. */
static void default_in_vfork_child(int sig) {
  if (saved[sig].sa_handler != SIG_DFL) return;
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = SIG_DFL;
  sigaction(sig, &sa, NULL);
  raise(sig);
}

/* Code that runs on top of a cancellation point (the wait's ppoll, or any libc
 * one before glibc 2.41) inherits asynchronous cancellation, and libc keeps
 * its cancellation signal out of every mask. Nothing may end this thread
 * between counting and waking: deferred type (what glibc's cancellation
 * handler looks at) and disabled state (what musl's looks at) until done. A
 * cancellation that came meanwhile acts when they are put back. */
static void hold_cancel(int *state, int *type) {
  pthread_setcanceltype(PTHREAD_CANCEL_DEFERRED, type);
  pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, state);
}

static void let_cancel(int state, int type) {
  pthread_setcanceltype(type, NULL);
  pthread_setcancelstate(state, NULL);
}

int xsig__os_where(void) {
  if (wiped && wiped->alive == 0) return XSIG__CHILD;
  return getpid() == xsig__aint_load_rlx(&cached_pid) ? XSIG__HERE : XSIG__ALIEN;
}

/* Records, wakes and chains, then returns: never a jump, so the kernel's
 * sigreturn puts back the mask and the alternate stack, and every handler
 * under this one finishes. */
static void on_signal(int sig, siginfo_t *info, void *uc) {
  if (chaining == sig) return; /* called back by the handler we chain to: counted already */
  int saved_errno = errno, state, type;
  hold_cancel(&state, &type);
  /* Interrupted exactly at the end of its own wait, this thread needs no byte
   * in its pipe: the wait returns to dispatch next. That also proves we are
   * not a vfork child, so the getpid() is skipped. */
  const xsig__slot_t *skip = xsig__posix_waiter_of(uc);
  int64_t pid = sender(info, sig);
  uint32_t code = info ? (uint32_t)info->si_code : 0;
  switch (skip ? XSIG__HERE : xsig__os_where()) {
  case XSIG__HERE:
    xsig__deliver(sig, pid, XSIG_SRC_KERNEL, code, skip);
    break;
  case XSIG__CHILD:
    xsig__deliver_early(sig, pid, XSIG_SRC_KERNEL, code);
    break;
  default:
    default_in_vfork_child(sig);
    break;
  }
  let_cancel(state, type);
  chain(sig, info, uc);
  errno = saved_errno;
}

static int is_ours(const struct sigaction *sa) {
  return (sa->sa_flags & SA_SIGINFO) && sa->sa_sigaction == on_signal;
}

int xsig__os_install(int sig) {
  struct sigaction old, sa;
  if (sigaction(sig, NULL, &old) < 0) return sys_error();
  if (is_ours(&old)) return 0;
  /* Saved before ours goes in, so a handler that runs at once can chain. */
  saved[sig] = old;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_signal;
  sa.sa_flags = SA_SIGINFO | SA_RESTART | SA_ONSTACK;
  /* These change what the kernel reports or keeps, not how it calls us: the
   * program that asked for them keeps them. */
  if (sig == SIGCHLD) sa.sa_flags |= old.sa_flags & (SA_NOCLDSTOP | SA_NOCLDWAIT);
  sigfillset(&sa.sa_mask);
  if (sigaction(sig, &sa, NULL) < 0) return sys_error();
  return 0;
}

void xsig__os_uninstall(int sig) {
  struct sigaction cur;
  if (sigaction(sig, NULL, &cur) == 0 && is_ours(&cur)) sigaction(sig, &saved[sig], NULL);
}

int xsig__os_disposition(int sig) {
  struct sigaction cur;
  if (sigaction(sig, NULL, &cur) < 0) return sys_error();
  if (is_ours(&cur)) return XSIG_DISP_XSIG;
  if (cur.sa_handler == SIG_DFL) return XSIG_DISP_DEFAULT;
  if (cur.sa_handler == SIG_IGN) return XSIG_DISP_IGNORED;
  return XSIG_DISP_OTHER;
}

static int set_handler(int sig, void (*h)(int)) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = h;
  sigemptyset(&sa.sa_mask);
  return sigaction(sig, &sa, NULL) < 0 ? sys_error() : 0;
}

int xsig__os_ignore(int sig) {
  return set_handler(sig, SIG_IGN);
}

int xsig__os_default(int sig) {
  return set_handler(sig, SIG_DFL);
}

static int kill_result(int r) {
  if (r == 0) return 0;
  if (errno == ESRCH) return XSIG_ESRCH;
  if (errno == EPERM) return XSIG_EPERM;
  return sys_error();
}

int xsig__os_raise(int sig) {
  return kill_result(kill(getpid(), sig));
}

int xsig__os_send(int64_t pid, int sig) {
  if (pid > INT_MAX) return XSIG_ESRCH;
  return kill_result(kill((pid_t)pid, sig));
}

int xsig__os_send_group(int64_t pgid, int sig) {
  if (pgid > INT_MAX) return XSIG_ESRCH;
  return kill_result(killpg((pid_t)pgid, sig));
}

/* POSIX has no mailbox: another process's dispositions are in /proc or the
 * process table, which xsig inspect reads; nothing here answers for them. */
int xsig__os_accepts(int64_t pid, uint32_t *mask) {
  (void)pid;
  (void)mask;
  return XSIG_ENOTSUP;
}

/* ---------------------------------------------------------------- fork */

static void rearm(void) {
  xsig__aint_store(&cached_pid, (int)getpid());
  if (wiped) wiped->alive = 1;
}

xsig__au64 *xsig__os_early(int sig) {
  return wiped ? &wiped->early[sig] : &early_fallback[sig];
}

void xsig__os_block(xsig__mask_t *old) {
  sigset_t all;
  hold_cancel(&old->cancel_state, &old->cancel_type);
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old->set);
}

void xsig__os_unblock(const xsig__mask_t *old) {
  pthread_sigmask(SIG_SETMASK, &old->set, NULL);
  let_cancel(old->cancel_state, old->cancel_type);
}

/* fork() runs with every signal blocked: one sent to the child at once stays
 * pending until the child has rebuilt, then is taken there, by the child. */
static void fork_prepare(void) {
  sigset_t all;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &fork_mask);
  xsig__lock();
}

static void fork_parent(void) {
  xsig__unlock();
  pthread_sigmask(SIG_SETMASK, &fork_mask, NULL);
}

static void fork_child(void) {
  xsig__after_fork_child();
  rearm();
  xsig__unlock();
  pthread_sigmask(SIG_SETMASK, &fork_mask, NULL);
}

static void wipe_on_fork(void) {
#if (defined(__linux__) && defined(MADV_WIPEONFORK)) || defined(INHERIT_ZERO)
  size_t len = (size_t)sysconf(_SC_PAGESIZE);
  if (len < sizeof *wiped) return;
  void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return;
#if defined(__linux__) && defined(MADV_WIPEONFORK)
  if (madvise(p, len, MADV_WIPEONFORK) == 0) {
    wiped = p;
    return;
  }
#else
  if (minherit(p, len, INHERIT_ZERO) == 0) {
    wiped = p;
    return;
  }
#endif
  munmap(p, len);
#endif
}

static void once_start(void) {
  wipe_on_fork();
  pthread_atfork(fork_prepare, fork_parent, fork_child);
}

int xsig__os_start(void) {
  static pthread_once_t once = PTHREAD_ONCE_INIT;
  pthread_once(&once, once_start);
  rearm();
  return 0;
}

void xsig__os_stop(void) {}

/* Where no page is wiped, a pid change is all there is to see; such systems
 * have no _Fork or raw clone that skips pthread_atfork. */
void xsig__os_check_fork(void) {
  xsig__posix_cancel_type_back();
  if (wiped ? wiped->alive == 1 : getpid() == xsig__aint_load(&cached_pid)) return;
  xsig__mask_t old;
  xsig__os_block(&old);
  xsig__after_fork_child();
  rearm();
  xsig__os_unblock(&old);
}

/* ---------------------------------------------------------------- what is here */

const char *xsig__os_platform(void) {
#if defined(__linux__)
  return "linux";
#elif defined(__APPLE__)
  return "darwin";
#elif defined(__FreeBSD__)
  return "freebsd";
#elif defined(__NetBSD__)
  return "netbsd";
#elif defined(__OpenBSD__)
  return "openbsd";
#elif defined(__DragonFly__)
  return "dragonfly";
#else
  return "posix";
#endif
}

int xsig__os_rt_range(int *lo, int *hi) {
#ifdef SIGRTMIN
  *lo = SIGRTMIN;
  *hi = SIGRTMAX;
  return *lo > 0 && *hi >= *lo && *hi < XSIG__NSIG;
#else
  (void)lo, (void)hi;
  return 0;
#endif
}

int xsig__os_nsig(void) {
  int n = 32; /* the standard signals, where the system says nothing more */
#if defined(_NSIG)
  n = _NSIG;
#elif defined(NSIG)
  n = NSIG;
#endif
#ifdef SIGRTMAX
  if (SIGRTMAX >= n && SIGRTMAX < XSIG__NSIG) n = SIGRTMAX + 1;
#endif
  return n < XSIG__NSIG ? n : XSIG__NSIG;
}

int xsig__os_reserved(int sig) {
#if defined(__linux__) && defined(SIGRTMIN)
  /* The kernel's realtime range starts at 32; the C library keeps the first few. */
  return sig >= 32 && sig < SIGRTMIN;
#else
  (void)sig;
  return 0;
#endif
}

xsig_support_t xsig__os_support(int sig) {
  (void)sig;
  return XSIG_NATIVE;
}

int xsig__os_has(xsig_feature_t f) {
  switch (f) {
  case XSIG_FEAT_SIGINFO:
  case XSIG_FEAT_PROCESS_GROUPS:
  case XSIG_FEAT_ALARM:
  case XSIG_FEAT_WAKEUP_FD:
    return 1;
  case XSIG_FEAT_QUEUED: {
    int lo, hi;
    return xsig__os_rt_range(&lo, &hi);
  }
  default:
    return 0;
  }
}
