/* POSIX backend, waking side: the self-pipe, the wait, clocks and locks. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* pipe2 */
#endif
#include "posix_int.h"
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <time.h>
#include <unistd.h>
#if defined(__linux__)
#include <sys/syscall.h>
#endif

/* On 64-bit Linux the waiting thread arms a thread-local record before its last
 * look at the counters. A watched signal that this very thread takes while the
 * record is armed (before the wait, inside it, or just after) ends the wait from
 * the handler: the handler records the delivery, skips this context's pipe, puts
 * back the signal mask the kernel saved, and jumps back to the wait's start.
 * No byte is written or read, no timer is armed for an endless wait, and the
 * pid check is skipped (a thread inside xsig_wait is no vfork child). The wait
 * is a raw ppoll: the libc wrapper is a cancellation point that a jump must not
 * leave half done. Elsewhere the handler always writes the pipe. */
#if defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define XSIG_TSAN 1
#endif
#endif
#if defined(__SANITIZE_THREAD__)
#define XSIG_TSAN 1
#endif
/* ThreadSanitizer runs handlers only at its own interception points, never
 * inside a raw system call, so the handler could not end the wait. */
#if defined(__linux__) && defined(SYS_ppoll) && __SIZEOF_LONG__ == 8 && !defined(XSIG_TSAN)
#define XSIG_FASTWAIT 1
#endif

#ifdef XSIG_FASTWAIT
#include <setjmp.h>
#include <ucontext.h>
struct waiter {
  sigjmp_buf env;
  const xsig__slot_t *slot;
  volatile sig_atomic_t armed;
};
static __thread struct waiter tls_waiter __attribute__((tls_model("initial-exec")));

const xsig__slot_t *xsig__posix_waiter_hit(void) {
  struct waiter *w = &tls_waiter;
  return w->armed ? w->slot : NULL;
}

void xsig__posix_waiter_leave(void *uc) {
  struct waiter *w = &tls_waiter;
  if (!w->armed) return;
  w->armed = 0;
  /* No sigreturn will run: restore the mask it would have restored. */
  pthread_sigmask(SIG_SETMASK, &((ucontext_t *)uc)->uc_sigmask, NULL);
  siglongjmp(w->env, 1);
}

/* Everything between arming and disarming; nothing in it holds a lock, so the
 * handler may leave it at any instruction. */
static long armed_wait(struct waiter *w, xsig_ctx_t *c, struct pollfd *pfd,
                       const struct timespec *ts) {
  w->slot = xsig__ctx_slot(c);
  atomic_signal_fence(memory_order_seq_cst);
  w->armed = 1;
  atomic_signal_fence(memory_order_seq_cst);
  long r = xsig__ctx_has_pending(c) ? 0 : syscall(SYS_ppoll, pfd, 1, ts, NULL, 0);
  atomic_signal_fence(memory_order_seq_cst);
  w->armed = 0;
  return r;
}
#else
const xsig__slot_t *xsig__posix_waiter_hit(void) {
  return NULL;
}

void xsig__posix_waiter_leave(void *uc) {
  (void)uc;
}
#endif

static int sys_error(void) {
  xsig__set_os_error(errno);
  return XSIG_ESYS;
}

static int set_flags(int fd) {
  int fl = fcntl(fd, F_GETFL);
  if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) return -1;
  return fcntl(fd, F_SETFD, FD_CLOEXEC);
}

int xsig__os_pair_open(xsig__pair_t *p) {
  int fds[2];
#if defined(__linux__) || defined(__FreeBSD__) || defined(__NetBSD__) || defined(__OpenBSD__)
  if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) < 0) return sys_error();
#else
  /* No pipe2: a fork+exec in another thread between these calls can inherit
   * the pipe. Nothing in POSIX closes that window. */
  if (pipe(fds) < 0) return sys_error();
  if (set_flags(fds[0]) < 0 || set_flags(fds[1]) < 0) {
    int r = sys_error();
    close(fds[0]);
    close(fds[1]);
    return r;
  }
#endif
  (void)set_flags;
  p->rd = fds[0];
  p->wr = fds[1];
  return 0;
}

void xsig__os_pair_close(xsig__pair_t *p) {
  if (p->rd >= 0) close((int)p->rd);
  if (p->wr >= 0) close((int)p->wr);
  p->rd = p->wr = -1;
}

void xsig__os_pair_drain(xsig__pair_t *p) {
  char buf[256];
  ssize_t r;
  do r = read((int)p->rd, buf, sizeof buf);
  while (r == (ssize_t)sizeof buf || (r < 0 && errno == EINTR));
}

void xsig__os_pair_poke(intptr_t wr) {
  int e = errno;
  ssize_t r;
  do r = write((int)wr, "", 1);
  while (r < 0 && errno == EINTR);
  errno = e;
}

static struct timespec to_ts(int ms) {
  struct timespec ts = {0, 0};
  if (ms > 0) {
    ts.tv_sec = ms / 1000;
    ts.tv_nsec = (long)(ms % 1000) * 1000000L;
  }
  return ts;
}

int xsig__os_wait(xsig_ctx_t *c, int timeout_ms) {
  struct pollfd pfd = {(int)xsig__ctx_pair(c)->rd, POLLIN, 0};
  long r;
#ifdef XSIG_FASTWAIT
  struct timespec ts = to_ts(timeout_ms);
  struct waiter *w = &tls_waiter;
  if (sigsetjmp(w->env, 0)) return 0; /* the handler ended the wait: it is counted */
  r = armed_wait(w, c, &pfd, timeout_ms < 0 ? NULL : &ts);
#else
  (void)to_ts;
  r = poll(&pfd, 1, timeout_ms);
#endif
  if (r < 0) return errno == EINTR ? 0 : sys_error();
  return r > 0;
}

uint64_t xsig__os_now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

void xsig__os_mutex_lock(xsig__mutex_t *m) {
  pthread_mutex_lock(m);
}

void xsig__os_mutex_unlock(xsig__mutex_t *m) {
  pthread_mutex_unlock(m);
}

void xsig__os_cond_wait(xsig__cond_t *c, xsig__mutex_t *m) {
  /* Not a cancellation point: cancelled here, a thread would die holding m. */
  int old;
  pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &old);
  pthread_cond_wait(c, m);
  pthread_setcancelstate(old, NULL);
}

void xsig__os_cond_broadcast(xsig__cond_t *c) {
  pthread_cond_broadcast(c);
}

void xsig__os_once(xsig__once_t *once, void (*fn)(void)) {
  pthread_once(once, fn);
}
