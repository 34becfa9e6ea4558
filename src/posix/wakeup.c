/* POSIX backend, waking side: the self-pipe, the wait, clocks and locks. */
#include "posix_int.h"
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#if defined(__linux__)
#include <sys/syscall.h>
#endif

/* The wait fast path (64-bit Linux, x86-64 and aarch64). xsig_wait blocks in
 * a ppoll of its own, xsig__posix_ppoll below: one system call instruction in
 * a function written in assembly, followed by the label
 * xsig__posix_ppoll_end. A signal that interrupts that call, or that arrives
 * just as it returns, is taken with the saved program counter exactly at the
 * label, and there only: the interrupted context is the wait itself, which
 * returns to dispatch next. The handler then skips this context's pipe and
 * returns as every handler does. Anywhere else (before the call, or inside
 * another handler running on top of the wait) it writes the pipe, and ppoll
 * sees it. A delivery costs kill, the interrupted ppoll and rt_sigreturn: no
 * write, no read, no kernel timer for an endless wait, no getpid (a thread in
 * xsig_wait is no vfork child). musl finds its cancellation points the same
 * way. ThreadSanitizer runs handlers only at its own interception points, so
 * TSan builds use the portable poll(), as other platforms do. */
#if defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define XSIG_TSAN 1
#endif
#endif
#if defined(__SANITIZE_THREAD__)
#define XSIG_TSAN 1
#endif
#if defined(__linux__) && defined(SYS_ppoll) && !defined(XSIG_TSAN) &&                             \
    (defined(__x86_64__) || defined(__aarch64__))
#define XSIG_FASTWAIT 1
#endif

/* The cancellation type to put back after a wait. The fast path makes it
 * asynchronous for its call; libc's own poll() does the same inside. A jump
 * out of either (a foreign handler's siglongjmp) skips putting it back: the
 * next xsig call does it (xsig__os_check_fork). */
static __thread int tls_async, tls_type_before;

void xsig__posix_cancel_type_back(void) {
  if (!tls_async) return;
  tls_async = 0;
  pthread_setcanceltype(tls_type_before, NULL);
}

#define XSIG__STR2(x) #x
#define XSIG__STR(x)  XSIG__STR2(x)

#ifdef XSIG_FASTWAIT
#include <ucontext.h>
/* ppoll(fds, 1, ts, NULL, 8); returns the result or -errno. */
__attribute__((visibility("hidden"))) long xsig__posix_ppoll(struct pollfd *fds,
                                                             const struct timespec *ts);
__attribute__((visibility("hidden"))) extern const char xsig__posix_ppoll_end[];
/* The function's frame around its instructions: a leaf that never touches
 * the stack, so its unwind information (needed when a cancellation unwinds
 * out of it) is the default one. */
// clang-format off
#define XSIG__ASM_BEGIN(type)            \
  ".text\n"                              \
  ".globl xsig__posix_ppoll\n"           \
  ".hidden xsig__posix_ppoll\n"          \
  ".type xsig__posix_ppoll," type "\n"   \
  "xsig__posix_ppoll:\n"                 \
  ".cfi_startproc\n"
#define XSIG__ASM_END                    \
  ".globl xsig__posix_ppoll_end\n"       \
  ".hidden xsig__posix_ppoll_end\n"      \
  "xsig__posix_ppoll_end:\n"             \
  "ret\n"                                \
  ".cfi_endproc\n"                       \
  ".size xsig__posix_ppoll, .-xsig__posix_ppoll\n"
#if defined(__x86_64__)
#ifdef __CET__
#define XSIG__ENDBR "endbr64\n"
#else
#define XSIG__ENDBR ""
#endif
/* ppoll(rdi = fds, rsi = 1, rdx = ts, r10 = NULL mask, r8 = 8), number in eax. */
__asm__(XSIG__ASM_BEGIN("@function")
        XSIG__ENDBR
        "mov %rsi, %rdx\n"
        "mov $1, %esi\n"
        "xor %r10d, %r10d\n"
        "mov $8, %r8d\n"
        "mov $" XSIG__STR(SYS_ppoll) ", %eax\n"
        "syscall\n"
        XSIG__ASM_END);
#define XSIG__PC(uc) ((uintptr_t)((ucontext_t *)(uc))->uc_mcontext.gregs[REG_RIP])
#elif defined(__aarch64__)
/* ppoll(x0 = fds, x1 = 1, x2 = ts, x3 = NULL mask, x4 = 8), number in x8. */
__asm__(XSIG__ASM_BEGIN("%function")
        "mov x2, x1\n"
        "mov x1, #1\n"
        "mov x3, #0\n"
        "mov x4, #8\n"
        "mov x8, #" XSIG__STR(SYS_ppoll) "\n"
        "svc #0\n"
        XSIG__ASM_END);
#define XSIG__PC(uc) ((uintptr_t)((ucontext_t *)(uc))->uc_mcontext.pc)
#endif
// clang-format on

/* The slot of the context this thread last waited for; read by this thread's
 * own handler only. */
static __thread const xsig__slot_t *tls_wait_slot __attribute__((tls_model("initial-exec")));

const xsig__slot_t *xsig__posix_waiter_of(void *uc) {
  if (!uc || XSIG__PC(uc) != (uintptr_t)xsig__posix_ppoll_end) return NULL;
  return tls_wait_slot;
}

/* The raw call is no cancellation point by itself: asynchronous cancellation
 * for just that call makes it one, as libc's own wrappers do. Nothing in this
 * window holds a lock or owns memory, and xsig's handler disables
 * cancellation while it runs on top of it. No look at the counters first:
 * every delivery since the last dispatch wrote a byte unless it found this
 * very wait at its label, and a delivery still being described by another
 * thread's handler writes its byte once it is done. */
static long fast_ppoll(xsig_ctx_t *c, struct pollfd *pfd, const struct timespec *ts) {
  tls_wait_slot = xsig__ctx_slot(c);
  xsig__signal_fence();
  pthread_setcanceltype(PTHREAD_CANCEL_ASYNCHRONOUS, &tls_type_before);
  tls_async = 1;
  long r = xsig__posix_ppoll(pfd, ts);
  xsig__posix_cancel_type_back();
  if (r < 0) {
    errno = (int)-r;
    return -1;
  }
  return r;
}
#else
const xsig__slot_t *xsig__posix_waiter_of(void *uc) {
  (void)uc;
  return NULL;
}

#endif

/* The poke, the drain and closing a pair are no cancellation points: a thread
 * cancelled in them would leave a slot's 'users' raised, or die holding the
 * engine lock (xsig_ctx_free pokes and closes under it). */
static ssize_t nocancel_io(int fd, void *buf, size_t n, int out) {
#if defined(__linux__) && defined(SYS_write) && defined(SYS_read)
  return syscall(out ? SYS_write : SYS_read, fd, buf, n);
#else
  int old;
  pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &old);
  ssize_t r = out ? write(fd, buf, n) : read(fd, buf, n);
  pthread_setcancelstate(old, NULL);
  return r;
#endif
}

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
  struct stat st;
  p->id = fstat(fds[0], &st) == 0 ? (uint64_t)st.st_ino : 0;
  p->rd = fds[0];
  p->wr = fds[1];
  return 0;
}

/* ThreadSanitizer must see the close: it tracks descriptors through its
 * close() interceptor, and a number that another thread's pipe() or open()
 * reuses after a raw close looks to it like a data race in that program. */
static void nocancel_close(intptr_t fd) {
  if (fd < 0) return;
#if defined(__linux__) && defined(SYS_close) && !defined(XSIG_TSAN)
  syscall(SYS_close, (int)fd);
#else
  int old;
  pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &old);
  close((int)fd);
  pthread_setcancelstate(old, NULL);
#endif
}

void xsig__os_pair_close(xsig__pair_t *p) {
  nocancel_close(p->rd);
  nocancel_close(p->wr);
  p->rd = p->wr = -1;
}

static int still_ours(intptr_t fd, uint64_t id) {
  struct stat st;
  return fd >= 0 && fstat((int)fd, &st) == 0 && S_ISFIFO(st.st_mode) && (uint64_t)st.st_ino == id;
}

void xsig__os_pair_forget(xsig__pair_t *p) {
  if (!still_ours(p->rd, p->id)) p->rd = -1;
  if (!still_ours(p->wr, p->id)) p->wr = -1;
  xsig__os_pair_close(p);
}

void xsig__os_pair_drain(xsig__pair_t *p) {
  char buf[256];
  ssize_t r;
  do r = nocancel_io((int)p->rd, buf, sizeof buf, 0);
  while (r == (ssize_t)sizeof buf || (r < 0 && errno == EINTR));
}

void xsig__os_pair_poke(intptr_t wr) {
  int e = errno;
  char b = 0;
  ssize_t r;
  do r = nocancel_io((int)wr, &b, 1, 1);
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

/* A cancellation point, like poll(). */
int xsig__os_wait(xsig_ctx_t *c, int timeout_ms) {
  struct pollfd pfd = {(int)xsig__ctx_pair(c)->rd, POLLIN, 0};
  long r;
  if (pfd.fd < 0) { /* a fork child that could not make its new pipe */
    errno = EBADF;
    return sys_error();
  }
#ifdef XSIG_FASTWAIT
  struct timespec ts = to_ts(timeout_ms);
  r = fast_ppoll(c, &pfd, timeout_ms < 0 ? NULL : &ts);
#else
  (void)to_ts;
  pthread_setcanceltype(PTHREAD_CANCEL_DEFERRED, &tls_type_before);
  tls_async = 1;
  r = poll(&pfd, 1, timeout_ms);
  xsig__posix_cancel_type_back();
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

/* AddressSanitizer does not follow a cancellation's forced unwinding (out of
 * a signal handler, or out of pthread_testcancel): the frames it leaves keep
 * their poisoned redzones, and the next frames built there trip over them,
 * the sanitizer's own included (its unpoisoning call in a landing pad, and its
 * thread teardown). Before undo runs, every frame below this one is dead, so
 * it forgets their poison, as __asan_handle_no_return would if it did not trip
 * itself. Nothing here is instrumented, and the bounds live in thread-local
 * storage, not in the dead part of the stack that calls here reuse. */
#if defined(__SANITIZE_ADDRESS__)
#define XSIG__ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define XSIG__ASAN 1
#endif
#endif

#if defined(XSIG__ASAN) && defined(__linux__)
#include <sanitizer/asan_interface.h>
static __thread pthread_attr_t asan_attr;
static __thread void *asan_lo;
static __thread size_t asan_size;

__attribute__((no_sanitize_address, noinline)) static void forget_dead_frames(void) {
  char *here = XSIG__FRAME_ADDRESS();
  if (pthread_getattr_np(pthread_self(), &asan_attr) != 0) return;
  if (pthread_attr_getstack(&asan_attr, &asan_lo, &asan_size) == 0 && here > (char *)asan_lo &&
      here < (char *)asan_lo + asan_size)
    __asan_unpoison_memory_region(asan_lo, (size_t)(here - (char *)asan_lo));
  pthread_attr_destroy(&asan_attr);
}
#define XSIG__NO_ASAN __attribute__((no_sanitize_address))
#else
static void forget_dead_frames(void) {}
#define XSIG__NO_ASAN
#endif

struct guard {
  void (*undo)(void *);
  void *arg;
};

XSIG__NO_ASAN static void guard_undo(void *g) {
  forget_dead_frames();
  ((struct guard *)g)->undo(((struct guard *)g)->arg);
}

/* The library is built with -fexceptions, so this is a cleanup attribute:
 * it also runs when a C++ exception leaves a callback. */
XSIG__NO_ASAN void xsig__os_guarded(void (*fn)(void *), void *arg, void (*undo)(void *)) {
  struct guard g = {undo, arg};
  pthread_cleanup_push(guard_undo, &g);
  fn(arg);
  pthread_cleanup_pop(0);
}
