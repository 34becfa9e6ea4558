// xsig inside hostile programs: foreign handlers on top of the wait or under
// it, handlers that chain into ours or jump away, two signals at once,
// alternate stacks that disarm themselves, fork followed at once by kill,
// _Fork children, thread cancellation. Each test is a regression test for a
// promise an outside review found broken (issue 8).
#include <gtest/gtest.h>

#include <xsig/xsig.h>

#include <atomic>
#include <cerrno>
#include <csetjmp>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "support/support.h"

namespace {

using xsigtest::readable;
using xsigtest::Rec;
using xsigtest::record;

class Hostile : public ::testing::Test {
protected:
  void SetUp() override {
    ASSERT_EQ(0, xsig_init());
  }
  void TearDown() override {
    xsig_shutdown();
  }
};

pid_t gettid_() {
  return (pid_t)syscall(SYS_gettid);
}

// The thread is asleep in the kernel (state S in /proc): a signal sent now
// finds it inside its blocking call.
bool blocked_in_kernel(pid_t tid) {
  return xsigtest::wait_until([&] {
    std::ifstream f("/proc/self/task/" + std::to_string(tid) + "/stat");
    std::string s((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    size_t p = s.rfind(')');
    return p != std::string::npos && p + 2 < s.size() && s[p + 2] == 'S';
  });
}

bool blocked_now(int sig) {
  sigset_t cur;
  pthread_sigmask(SIG_SETMASK, nullptr, &cur);
  return sigismember(&cur, sig) == 1;
}

// A test that hangs on the broken code must still end, and say why.
void must_join(std::thread &t, const char *what) {
  std::atomic<bool> done{false};
  std::thread watcher([&] {
    if (!xsigtest::wait_until([&] { return done.load(); }, 20000)) {
      fprintf(stderr, "hung: %s\n", what);
      fflush(nullptr);
      _exit(3);
    }
  });
  t.join();
  done = true;
  watcher.join();
}

int exit_code_within(pid_t pid, int timeout_ms) {
  int st = 0;
  bool ended = xsigtest::wait_until([&] { return waitpid(pid, &st, WNOHANG) == pid; }, timeout_ms);
  if (!ended) {
    kill(pid, SIGKILL);
    waitpid(pid, &st, 0);
    return -1;
  }
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

void set_handler(int sig, void (*fn)(int, siginfo_t *, void *), int flags = 0,
                 struct sigaction *old = nullptr) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = fn;
  sa.sa_flags = SA_SIGINFO | flags;
  sigemptyset(&sa.sa_mask);
  ASSERT_EQ(0, sigaction(sig, &sa, old));
}

void arm_timer_ms(int ms) {
  itimerval it = {{0, 0}, {ms / 1000, (ms % 1000) * 1000}};
  setitimer(ITIMER_REAL, &it, nullptr);
}

} // namespace

// ---------------------------------------------------------------- fork, then kill at once

namespace {
enum class Path { Wait, PollLoop };

// In the child: 0 when the SIGTERM sent right after fork() was dispatched.
int child_takes_sigterm(Path path, Rec &rec) {
  long long end = xsigtest::now_ms() + 10000;
  while (rec.total() == 0 && xsigtest::now_ms() < end) {
    if (path == Path::Wait) {
      xsig_wait(nullptr, 500);
    } else {
      pollfd p = {xsig_wakeup_handle(nullptr), POLLIN, 0};
      poll(&p, 1, 500);
      xsig_dispatch(nullptr);
    }
  }
  return rec.total() >= 1 ? 0 : 1;
}
} // namespace

class ForkThenKill : public Hostile, public ::testing::WithParamInterface<Path> {};
INSTANTIATE_TEST_SUITE_P(Hostile, ForkThenKill, ::testing::Values(Path::Wait, Path::PollLoop));

// The kernel delivers a signal sent to a fresh child before the atfork child
// handler runs. It must be dispatched in the child, never dropped.
TEST_P(ForkThenKill, ASignalSentAtOnceToAForkChildIsDispatchedThere) {
  Rec rec;
  ASSERT_EQ(0, xsig_watch(nullptr, SIGTERM, record, &rec, 0, nullptr));
  const int n = xsigtest::rounds_for(100);
  std::vector<pid_t> kids;
  for (int i = 0; i < n; i++) {
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) _exit(child_takes_sigterm(GetParam(), rec));
    kill(pid, SIGTERM);
    kids.push_back(pid);
  }
  int got = 0, lost = 0, other = 0;
  for (pid_t pid : kids) {
#ifdef XSIG_TEST_TSAN // TSan may drop a signal from another process: resend
    int st = 0;
    while (!xsigtest::wait_until([&] { return waitpid(pid, &st, WNOHANG) == pid; }, 1000))
      kill(pid, SIGTERM);
    int rc = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
#else
    int rc = exit_code_within(pid, 30000);
#endif
    (rc == 0 ? got : rc == 1 ? lost : other)++;
  }
  EXPECT_EQ(n, got) << lost << " children never saw it, " << other << " ended otherwise";
}

// ---------------------------------------------------------------- foreign handlers and the wait

namespace {
std::atomic<int> alrm_started{0}, alrm_finished{0};
void alrm_raises_watched(int, siginfo_t *, void *) {
  alrm_started++;
  raise(SIGUSR1); // xsig's handler runs on top of this one, now
  alrm_finished++;
}
} // namespace

// A foreign SIGALRM handler that runs on top of the waiting thread and raises
// a watched signal must run to its end, and SIGALRM must not stay blocked.
TEST_F(Hostile, AForeignHandlerOnTopOfTheWaitRunsToItsEnd) {
  Rec rec;
  ASSERT_EQ(0, xsig_watch(nullptr, SIGUSR1, record, &rec, 0, nullptr));
  set_handler(SIGALRM, alrm_raises_watched);
  for (int round = 1; round <= 5; round++) {
    arm_timer_ms(50);
    ASSERT_EQ(1, xsig_wait(nullptr, 20000)) << "round " << round;
    EXPECT_EQ(round, alrm_finished.load()) << "the foreign handler was cut off";
    EXPECT_EQ(alrm_started.load(), alrm_finished.load());
    EXPECT_FALSE(blocked_now(SIGALRM)) << "SIGALRM stays blocked: alarm() is dead";
    EXPECT_FALSE(blocked_now(SIGUSR1));
  }
  EXPECT_EQ(5u, rec.total());
  signal(SIGALRM, SIG_DFL);
}

namespace {
struct sigaction xsig_act;
std::atomic<int> chained_after{0};
void chains_into_xsig(int sig, siginfo_t *info, void *uc) {
  xsig_act.sa_sigaction(sig, info, uc);
  chained_after++;
}
} // namespace

// A library that installs its handler after xsig and calls xsig's from it
// (as libraries that chain do) must get control back.
TEST_F(Hostile, AHandlerThatChainsIntoXsigsGetsControlBack) {
  std::atomic<int> got{0};
  ASSERT_EQ(0, xsig_watch(
                   nullptr, SIGUSR1,
                   [](const xsig_event_t *ev, void *u) {
                     *static_cast<std::atomic<int> *>(u) += (int)ev->count;
                   },
                   &got, 0, nullptr));
  set_handler(SIGUSR1, chains_into_xsig, 0, &xsig_act);
  ASSERT_TRUE(xsig_act.sa_flags & SA_SIGINFO);
  pid_t me = gettid_();
  pid_t pid = getpid();
  std::thread sender([&] {
    for (int i = 0; i < 3; i++) {
      if (!blocked_in_kernel(me)) return;
      syscall(SYS_tgkill, pid, me, SIGUSR1);
      xsigtest::wait_until([&] { return chained_after.load() > i; });
    }
  });
  long long end = xsigtest::now_ms() + 20000;
  while (got.load() < 3 && xsigtest::now_ms() < end) xsig_wait(nullptr, 20000);
  sender.join();
  EXPECT_EQ(3, got.load());
  EXPECT_EQ(3, chained_after.load()) << "the chaining handler lost its tail";
  sigaction(SIGUSR1, &xsig_act, nullptr);
}

namespace {
struct sigaction lib_prev;
std::atomic<int> lib_depth{0}, lib_max{0};
void lib_chains_to_previous(int sig, siginfo_t *info, void *uc) {
  int d = ++lib_depth;
  if (d > lib_max) lib_max = d;
  if (d < 1000) {
    if (lib_prev.sa_flags & SA_SIGINFO)
      lib_prev.sa_sigaction(sig, info, uc);
    else if (lib_prev.sa_handler != SIG_DFL && lib_prev.sa_handler != SIG_IGN)
      lib_prev.sa_handler(sig);
  }
  lib_depth--;
}
} // namespace

// A library puts its handler over xsig's and chains to what it found (xsig's).
// xsig_unwatch leaves it there; a later watch saves it as "previous" and goes
// on top. Each now calls the other: the delivery must be counted once and the
// calls must end.
TEST_F(Hostile, AHandlerKeptAcrossUnwatchAndWatchAgainDoesNotLoop) {
  Rec rec;
  xsig_watch_t *w;
  ASSERT_EQ(0, xsig_watch(nullptr, SIGUSR1, record, &rec, 0, &w));
  set_handler(SIGUSR1, lib_chains_to_previous, 0, &lib_prev);
  ASSERT_EQ(0, xsig_unwatch(w));
  ASSERT_EQ(XSIG_DISP_OTHER, xsig_disposition(SIGUSR1));
  ASSERT_EQ(0, xsig_watch(nullptr, SIGUSR1, record, &rec, 0, &w));
  raise(SIGUSR1);
  EXPECT_EQ(1, lib_max.load()) << "the two handlers called each other";
  EXPECT_EQ(1u, xsig_pending(nullptr, SIGUSR1));
  ASSERT_EQ(0, xsig_unwatch(w));
  signal(SIGUSR1, SIG_DFL);
}

namespace {
std::atomic<int> py_int_runs{0};
void python_like_sigint(int, siginfo_t *, void *) {
  py_int_runs++;
}

// The child: a CPython-style SIGINT handler (empty mask), xsig watching
// SIGTERM, the main thread asleep in xsig_wait. The parent stops it, sends
// SIGINT and SIGTERM, and continues it: the kernel then stacks both handlers
// before either runs.
int two_at_once_child(int ready_fd, int go_fd) {
  Rec rec;
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = python_like_sigint;
  sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  if (xsig_watch(nullptr, SIGTERM, record, &rec, 0, nullptr) != 0) return 10;
  if (write(ready_fd, "r", 1) != 1) return 11;
  long long end = xsigtest::now_ms() + 20000;
  while (rec.total() == 0 && xsigtest::now_ms() < end) xsig_wait(nullptr, 20000);
  if (rec.total() == 0) return 12;
  if (!xsigtest::wait_until([] { return py_int_runs.load() == 1; }, 5000)) return 13;
  if (blocked_now(SIGINT)) return 14; // Ctrl+C dead in this thread from now on
  // A second Ctrl+C still reaches Python.
  if (write(ready_fd, "2", 1) != 1) return 15;
  char c;
  ssize_t n;
  do n = read(go_fd, &c, 1); // Python's handler has no SA_RESTART
  while (n < 0 && errno == EINTR);
  if (n != 1) return 16;
  if (!xsigtest::wait_until([] { return py_int_runs.load() == 2; }, 10000)) return 17;
  return 0;
}
} // namespace

TEST_F(Hostile, TwoSignalsAtOnceRunAnEmptyMaskHandlerAndXsigs) {
  int ready[2], go[2];
  ASSERT_EQ(0, pipe(ready));
  ASSERT_EQ(0, pipe(go));
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) _exit(two_at_once_child(ready[1], go[0]));
  close(ready[1]);
  close(go[0]);
  char c;
  ASSERT_EQ(1, read(ready[0], &c, 1));
  // Asleep in its wait, then stopped, then both signals, then continued.
  std::string stat = "/proc/" + std::to_string(pid) + "/stat";
  ASSERT_TRUE(xsigtest::wait_until([&] {
    std::ifstream f(stat);
    std::string s((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    size_t p = s.rfind(')');
    return p != std::string::npos && s[p + 2] == 'S';
  }));
  ASSERT_EQ(0, kill(pid, SIGSTOP));
  int st;
  ASSERT_EQ(pid, waitpid(pid, &st, WUNTRACED));
  ASSERT_TRUE(WIFSTOPPED(st));
  kill(pid, SIGINT);
  kill(pid, SIGTERM);
  kill(pid, SIGCONT);
  if (read(ready[0], &c, 1) != 1)
    FAIL() << "the child ended with " << exit_code_within(pid, 30000)
           << " (12: no SIGTERM; 13: the SIGINT handler never ran; 14: SIGINT left blocked)";
  kill(pid, SIGINT);
  ASSERT_EQ(1, write(go[1], "g", 1));
  EXPECT_EQ(0, exit_code_within(pid, 30000))
      << "12: no SIGTERM; 13: the SIGINT handler never ran; 14: SIGINT left blocked";
  close(ready[0]);
  close(go[1]);
}

namespace {
sigjmp_buf alarm_env;
void alarm_jumps(int, siginfo_t *, void *) {
  siglongjmp(alarm_env, 1);
}

// The classic time-out: a SIGALRM handler jumps out of a blocking call, here
// xsig_wait on a context of its own. Later watched signals in this thread must
// be counted, not jump into the dead frame.
int jump_out_child() {
  xsig_ctx_t *ctx;
  Rec rec;
  if (xsig_ctx_new(&ctx) != 0) return 10;
  if (xsig_watch(ctx, SIGUSR1, record, &rec, 0, nullptr) != 0) return 11;
  if (xsig_watch(nullptr, SIGUSR2, record, &rec, 0, nullptr) != 0) return 12;
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = alarm_jumps;
  sa.sa_flags = SA_SIGINFO;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGALRM, &sa, nullptr);
  if (sigsetjmp(alarm_env, 1) == 0) {
    arm_timer_ms(50);
    xsig_wait(ctx, 20000);
    return 13; // the alarm never came
  }
  // Timed out by the jump. A watched signal now, in this thread:
  raise(SIGUSR2);
  raise(SIGUSR1);
  if (xsig_pending(nullptr, SIGUSR2) != 1) return 14;
  if (xsig_dispatch(nullptr) != 1) return 15;
  // The wait ran with asynchronous cancellation; the jump skipped putting
  // the type back, which any xsig call since has done.
  int type = -1;
  pthread_setcanceltype(PTHREAD_CANCEL_DEFERRED, &type);
  if (type != PTHREAD_CANCEL_DEFERRED) return 16;
  return 0;
}
} // namespace

TEST_F(Hostile, JumpingOutOfTheWaitLeavesNoLiveJumpTarget) {
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) _exit(jump_out_child());
  EXPECT_EQ(0, exit_code_within(pid, 30000));
}

#if defined(__linux__) && !defined(SS_AUTODISARM)
#define SS_AUTODISARM (1U << 31) /* <linux/signal.h>, which glibc's headers do not include */
#endif
#ifdef SS_AUTODISARM
// A stack armed with SS_AUTODISARM is disarmed while a handler runs on it and
// armed again by sigreturn: a handler that does not return leaves it off.
TEST_F(Hostile, AnAutodisarmStackIsArmedAgainAfterEachDelivery) {
  std::vector<char> mem(1 << 16);
  stack_t ss = {};
  ss.ss_sp = mem.data();
  ss.ss_size = mem.size();
  ss.ss_flags = SS_AUTODISARM;
  if (xsigtest::under_valgrind()) GTEST_SKIP() << "valgrind refuses SS_AUTODISARM (EINVAL)";
  ASSERT_EQ(0, sigaltstack(&ss, nullptr));
  Rec rec;
  ASSERT_EQ(0, xsig_watch(nullptr, SIGALRM, record, &rec, 0, nullptr));
  for (int round = 1; round <= 5; round++) {
    arm_timer_ms(50);
    ASSERT_EQ(1, xsig_wait(nullptr, 20000));
    stack_t cur = {};
    ASSERT_EQ(0, sigaltstack(nullptr, &cur));
    EXPECT_FALSE(cur.ss_flags & SS_DISABLE) << "round " << round << ": the stack stayed disarmed";
    EXPECT_FALSE(blocked_now(SIGALRM));
  }
  stack_t off = {};
  off.ss_flags = SS_DISABLE;
  sigaltstack(&off, nullptr);
}
#endif

// ---------------------------------------------------------------- cancellation

namespace {
struct Waiter {
  xsig_ctx_t *ctx;
  std::atomic<pid_t> tid{0};
  int rc = 0;
};
void *wait_forever(void *arg) {
  auto *w = static_cast<Waiter *>(arg);
  w->tid = gettid_();
  w->rc = xsig_wait(w->ctx, -1);
  return nullptr;
}
} // namespace

// xsig_wait is a cancellation point like poll(), and a cancelled waiter gives
// its context's dispatching role back.
TEST_F(Hostile, CancellingAThreadInXsigWaitEndsItAndFreesTheRole) {
  Waiter w;
  ASSERT_EQ(0, xsig_ctx_new(&w.ctx));
  Rec rec;
  ASSERT_EQ(0, xsig_watch(w.ctx, SIGUSR1, record, &rec, 0, nullptr));
  pthread_t t;
  ASSERT_EQ(0, pthread_create(&t, nullptr, wait_forever, &w));
  ASSERT_TRUE(xsigtest::wait_until([&] { return w.tid.load() != 0; }));
  ASSERT_TRUE(blocked_in_kernel(w.tid));
  ASSERT_EQ(0, pthread_cancel(t));
  void *ret = nullptr;
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  ts.tv_sec += 20;
  int j = pthread_timedjoin_np(t, &ret, &ts);
  if (j != 0) {
    fprintf(stderr, "hung: the cancelled waiter never ended\n");
    _exit(3);
  }
  EXPECT_EQ(PTHREAD_CANCELED, ret);
  ASSERT_EQ(0, xsig_feed(SIGUSR1));
  EXPECT_EQ(1, xsig_dispatch(w.ctx)) << "the cancelled waiter kept the dispatching role";
  xsig_ctx_free(w.ctx);
}

namespace {
struct CancelInCb {
  xsig_ctx_t *ctx;
  xsig_watch_t *watch = nullptr;
};
void cancel_self_in_callback(const xsig_event_t *, void *) {
  pthread_cancel(pthread_self());
  pthread_testcancel();
}
void *wait_and_get_cancelled(void *arg) {
  xsig_wait(static_cast<CancelInCb *>(arg)->ctx, 20000);
  return nullptr;
}
} // namespace

// A callback that ends its thread by cancellation strands nothing: the watch
// can be removed and the context dispatched again.
TEST_F(Hostile, CancellationInsideACallbackStrandsNothing) {
  CancelInCb s;
  ASSERT_EQ(0, xsig_ctx_new(&s.ctx));
  ASSERT_EQ(0, xsig_watch(s.ctx, SIGUSR1, cancel_self_in_callback, nullptr, 0, &s.watch));
  ASSERT_EQ(0, xsig_feed(SIGUSR1));
  pthread_t t;
  ASSERT_EQ(0, pthread_create(&t, nullptr, wait_and_get_cancelled, &s));
  void *ret = nullptr;
  ASSERT_EQ(0, pthread_join(t, &ret));
  EXPECT_EQ(PTHREAD_CANCELED, ret);
  std::thread check([&] {
    EXPECT_EQ(0, xsig_unwatch(s.watch));
    EXPECT_EQ(0, xsig_dispatch(s.ctx));
    xsig_ctx_free(s.ctx);
  });
  must_join(check, "unwatch or free after a callback was cancelled");
}

// The library is built with -fexceptions: an exception thrown by a callback
// runs the same cleanup as a cancellation.
TEST_F(Hostile, AnExceptionFromACallbackStrandsNothing) {
  xsig_watch_t *w;
  ASSERT_EQ(0,
            xsig_watch(
                nullptr, SIGUSR1,
                [](const xsig_event_t *, void *) { throw std::runtime_error("from a callback"); },
                nullptr, 0, &w));
  ASSERT_EQ(0, xsig_feed(SIGUSR1));
  EXPECT_THROW(xsig_dispatch(nullptr), std::runtime_error);
  std::thread check([&] {
    EXPECT_EQ(0, xsig_unwatch(w));
    EXPECT_EQ(0, xsig_dispatch(nullptr)) << "the thrower kept the dispatching role";
  });
  must_join(check, "unwatch after a callback threw");
}

namespace {
const int kMany = 300; // contexts: the handler takes a while to wake them all
struct Many {
  xsig_ctx_t *c[kMany];
  std::atomic<pid_t> tid{0};
};
void *wait_on_first(void *arg) {
  auto *m = static_cast<Many *>(arg);
  m->tid = gettid_();
  xsig_wait(m->c[0], 20000);
  return nullptr;
}
void nothing(const xsig_event_t *, void *) {}
} // namespace

// The waiter's handler runs on top of its wait, which runs with asynchronous
// cancellation, and wakes hundreds of contexts: a cancellation arriving then
// must wait until every context is woken.
TEST_F(Hostile, CancellingAThreadWhileItsHandlerWakesOthersLosesNoWakeup) {
  Many m;
  for (auto &c : m.c) {
    ASSERT_EQ(0, xsig_ctx_new(&c));
    ASSERT_EQ(0, xsig_watch(c, SIGUSR1, nothing, nullptr, 0, nullptr));
  }
  int silent = 0;
  const int rounds = xsigtest::rounds_for(300);
  for (int round = 0; round < rounds && silent == 0; round++) {
    m.tid = 0;
    pthread_t t;
    ASSERT_EQ(0, pthread_create(&t, nullptr, wait_on_first, &m));
    ASSERT_TRUE(xsigtest::wait_until([&] { return m.tid.load() != 0; }));
    ASSERT_TRUE(blocked_in_kernel(m.tid));
    pthread_kill(t, SIGUSR1);
    for (volatile int spin = 0; spin < round % 6 * 20000; spin = spin + 1) {
    }
    pthread_cancel(t);
    ASSERT_EQ(0, pthread_join(t, nullptr));
    for (int i = 1; i < kMany; i++)
      if (xsig_pending(m.c[i], SIGUSR1) > 0 && !readable(xsig_wakeup_handle(m.c[i]))) silent++;
    for (auto &c : m.c) xsig_dispatch(c);
  }
  EXPECT_EQ(0, silent) << "contexts with a pending delivery and nothing to read";
  std::thread freeing([&] {
    for (auto &c : m.c) xsig_ctx_free(c);
  });
  must_join(freeing, "freeing the contexts after a cancelled handler");
}

namespace {
struct CancelPending {
  void (*fn)(void *);
  void *arg;
};
void *cancel_pending_trampoline(void *p) {
  auto *k = static_cast<CancelPending *>(p);
  pthread_cancel(pthread_self()); // pending: acts at the next cancellation point
  k->fn(k->arg);
  pthread_testcancel();
  return nullptr;
}
// Runs fn(arg) on a thread with a cancellation pending; the thread's result
// (PTHREAD_CANCELED once the cancellation has acted, in fn or after it).
void *run_with_cancel_pending(void (*fn)(void *), void *arg) {
  CancelPending k = {fn, arg};
  pthread_t t;
  void *ret = nullptr;
  if (pthread_create(&t, nullptr, cancel_pending_trampoline, &k) != 0) return nullptr;
  pthread_join(t, &ret);
  return ret;
}
} // namespace

// Freeing a context closes its pipe under the engine lock: a thread with a
// cancellation pending must not die there, holding the lock.
TEST_F(Hostile, ACancellationPendingInXsigCtxFreeDoesNotHoldTheLock) {
  xsig_ctx_t *ctx;
  ASSERT_EQ(0, xsig_ctx_new(&ctx));
  EXPECT_EQ(
      PTHREAD_CANCELED,
      run_with_cancel_pending([](void *c) { xsig_ctx_free(static_cast<xsig_ctx_t *>(c)); }, ctx));
  std::thread again([&] {
    xsig_ctx_t *c2;
    EXPECT_EQ(0, xsig_ctx_new(&c2));
    xsig_ctx_free(c2);
  });
  must_join(again, "xsig_ctx_new after a cancellation in xsig_ctx_free");
}

// A forwarding thread cancelled while it feeds must not leave the context
// busy: freeing it would then spin for good under the engine lock.
TEST_F(Hostile, CancellingAThreadInsideFeedLeavesTheContextFreeable) {
  xsig_ctx_t *ctx;
  ASSERT_EQ(0, xsig_ctx_new(&ctx));
  Rec rec;
  ASSERT_EQ(0, xsig_watch(ctx, SIGUSR1, record, &rec, 0, nullptr));
  EXPECT_EQ(PTHREAD_CANCELED, run_with_cancel_pending([](void *) { xsig_feed(SIGUSR1); }, nullptr));
  EXPECT_EQ(1u, xsig_pending(ctx, SIGUSR1)) << "the feed was not counted";
  std::thread freeing([&] { xsig_ctx_free(ctx); });
  must_join(freeing, "xsig_ctx_free after a cancelled feed");
}

// ---------------------------------------------------------------- _Fork children

#if defined(__GLIBC__) && (__GLIBC__ > 2 || __GLIBC_MINOR__ >= 34)
namespace {
int raw_child_keeps_its_early_signal(Rec &rec) {
  raise(SIGUSR1); // before any xsig call in this child
  long long end = xsigtest::now_ms() + 10000;
  while (rec.total() == 0 && xsigtest::now_ms() < end) xsig_wait(nullptr, 500);
  return rec.total() == 1 ? 0 : 1;
}
} // namespace

TEST_F(Hostile, ARawForkChildKeepsSignalsFromBeforeItsFirstCall) {
  Rec rec;
  ASSERT_EQ(0, xsig_watch(nullptr, SIGUSR1, record, &rec, 0, nullptr));
  pid_t pid = _Fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) _exit(raw_child_keeps_its_early_signal(rec));
  EXPECT_EQ(0, exit_code_within(pid, 30000));
  EXPECT_EQ(0u, rec.total());
}

TEST_F(Hostile, AFeedInARawForkChildNeverReachesTheParent) {
  Rec rec;
  ASSERT_EQ(0, xsig_watch(nullptr, SIGUSR1, record, &rec, 0, nullptr));
  int parent_fd = xsig_wakeup_handle(nullptr);
  pid_t pid = _Fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    xsig_feed(SIGUSR1);
    _exit(xsig_pending(nullptr, SIGUSR1) == 1 ? 0 : 1);
  }
  EXPECT_EQ(0, exit_code_within(pid, 30000));
  EXPECT_FALSE(readable(parent_fd)) << "the child's feed woke the parent";
  EXPECT_EQ(0u, xsig_pending(nullptr, SIGUSR1));
}

namespace {
// A daemon: closes what it inherited, opens its own files (which take the
// lowest numbers, those of xsig's old pipe), then signals itself and only
// then calls xsig. Its files must get no stray byte and stay open.
int daemon_child(const std::string &dir) {
  for (int fd = 3; fd < 64; fd++) close(fd);
  std::string a = dir + "/a", b = dir + "/b";
  int fa = open(a.c_str(), O_RDWR | O_CREAT | O_TRUNC, 0600);
  int fb = open(b.c_str(), O_RDWR | O_CREAT | O_TRUNC, 0600);
  if (fa < 0 || fb < 0) return 10;
  raise(SIGUSR1);
  xsig_feed(SIGUSR1);
  if (xsig_wakeup_handle(nullptr) < 0) return 11;                  // the first call: rebuilds
  if (fcntl(fa, F_GETFD) < 0 || fcntl(fb, F_GETFD) < 0) return 12; // closed by xsig
  struct stat sa, sb;
  if (fstat(fa, &sa) || fstat(fb, &sb)) return 13;
  if (sa.st_size != 0 || sb.st_size != 0) return 14; // a stray byte
  if (xsig_pending(nullptr, SIGUSR1) != 2) return 15;
  return 0;
}
} // namespace

namespace {
enum class First { Shutdown, CtxFree, Unwatch };
// The same daemon, whose first xsig call tears something down. A parent
// thread was inside a callback when the child was made.
int daemon_first_call(const std::string &dir, First first, xsig_ctx_t *ctx, xsig_watch_t *w) {
  for (int fd = 3; fd < 64; fd++) close(fd);
  std::string a = dir + "/a", b = dir + "/b";
  int fa = open(a.c_str(), O_RDWR | O_CREAT | O_TRUNC, 0600);
  int fb = open(b.c_str(), O_RDWR | O_CREAT | O_TRUNC, 0600);
  if (fa < 0 || fb < 0) return 10;
  switch (first) {
  case First::Shutdown:
    xsig_shutdown();
    break;
  case First::CtxFree:
    xsig_ctx_free(ctx);
    break;
  case First::Unwatch:
    if (xsig_unwatch(w) != 0) return 11; // waits for the parent's callback: never
    break;
  }
  if (fcntl(fa, F_GETFD) < 0 || fcntl(fb, F_GETFD) < 0) return 12;
  struct stat sa, sb;
  if (fstat(fa, &sa) || fstat(fb, &sb)) return 13;
  if (sa.st_size != 0 || sb.st_size != 0) return 14;
  return 0;
}
} // namespace

class RawForkFirstCall : public Hostile, public ::testing::WithParamInterface<First> {};
INSTANTIATE_TEST_SUITE_P(Hostile, RawForkFirstCall,
                         ::testing::Values(First::Shutdown, First::CtxFree, First::Unwatch));

TEST_P(RawForkFirstCall, TearingDownFirstInARawForkDaemonTouchesNothingOfTheParent) {
  xsig_ctx_t *ctx;
  ASSERT_EQ(0, xsig_ctx_new(&ctx));
  std::atomic<bool> inside{false}, release{false};
  struct Cb {
    std::atomic<bool> *inside, *release;
  } cb{&inside, &release};
  xsig_watch_t *w;
  ASSERT_EQ(0, xsig_watch(
                   ctx, SIGUSR1,
                   [](const xsig_event_t *, void *u) {
                     auto *k = static_cast<Cb *>(u);
                     *k->inside = true;
                     while (!*k->release) std::this_thread::yield();
                   },
                   &cb, 0, &w));
  ASSERT_EQ(0, xsig_feed(SIGUSR1));
  std::thread dispatcher([&] { xsig_wait(ctx, 20000); });
  ASSERT_TRUE(xsigtest::wait_until([&] { return inside.load(); }));
  char tmpl[] = "/tmp/xsig-daemon-XXXXXX";
  ASSERT_NE(nullptr, mkdtemp(tmpl));
  std::string dir = tmpl;
  pid_t pid = _Fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    alarm(20); // a hang ends the child with SIGALRM
    _exit(daemon_first_call(dir, GetParam(), ctx, w));
  }
  int rc = exit_code_within(pid, 30000);
  release = true;
  dispatcher.join();
  EXPECT_EQ(0, rc) << "12: xsig closed the daemon's file; 14: a stray byte; 142: it hung";
  unlink((dir + "/a").c_str());
  unlink((dir + "/b").c_str());
  rmdir(dir.c_str());
  xsig_ctx_free(ctx);
}

// A _Fork child's signals from before its first xsig call are its own: its
// children, made by fork or _Fork, start with none of them.
TEST_F(Hostile, AGrandchildStartsWithNoneOfItsParentsEarlySignals) {
  Rec rec;
  ASSERT_EQ(0, xsig_watch(nullptr, SIGUSR1, record, &rec, 0, nullptr));
  for (int use_fork = 0; use_fork < 2; use_fork++) {
    pid_t pid = _Fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      raise(SIGUSR1); // early: before any xsig call in this child
      pid_t g = use_fork ? fork() : _Fork();
      if (g == 0) _exit(xsig_pending(nullptr, SIGUSR1) == 0 ? 0 : 1);
      int st = 0;
      waitpid(g, &st, 0);
      if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) _exit(2);
      _exit(xsig_pending(nullptr, SIGUSR1) == 1 ? 0 : 3);
    }
    EXPECT_EQ(0, exit_code_within(pid, 30000))
        << (use_fork ? "fork" : "_Fork") << " grandchild: 2 it inherited the early count";
  }
}

TEST_F(Hostile, ARawForkDaemonGetsNoStrayByteAndKeepsItsFiles) {
  Rec rec;
  ASSERT_EQ(0, xsig_watch(nullptr, SIGUSR1, record, &rec, 0, nullptr));
  char tmpl[] = "/tmp/xsig-daemon-XXXXXX";
  ASSERT_NE(nullptr, mkdtemp(tmpl));
  std::string dir = tmpl;
  pid_t pid = _Fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) _exit(daemon_child(dir));
  EXPECT_EQ(0, exit_code_within(pid, 30000))
      << "12: xsig closed the daemon's file; 14: a stray byte; 15: signals lost";
  unlink((dir + "/a").c_str());
  unlink((dir + "/b").c_str());
  rmdir(dir.c_str());
}
#endif

// ---------------------------------------------------------------- event details

// Deliveries alternate between two kinds whose order is known: a real kill()
// (source KERNEL, our pid) and a feed (source SELF, pid -1). The details of
// every event must be those of a delivery counted in that event.
TEST_F(Hostile, AnEventsDetailsBelongToADeliveryCountedInIt) {
  struct Ev {
    uint32_t count;
    xsig_source_t source;
  };
  std::vector<Ev> evs;
  evs.reserve(1 << 20);
  ASSERT_EQ(0, xsig_watch(
                   nullptr, SIGUSR1,
                   [](const xsig_event_t *ev, void *u) {
                     static_cast<std::vector<Ev> *>(u)->push_back({ev->count, ev->source});
                   },
                   &evs, 0, nullptr));
  const int rounds = xsigtest::rounds_for(20000), feeds = 3;
  std::atomic<bool> done{false};
  // The producer takes its own kill() before kill returns; the dispatching
  // thread blocks SIGUSR1, so every kernel delivery is the producer's.
  sigset_t usr1, old;
  sigemptyset(&usr1);
  sigaddset(&usr1, SIGUSR1);
  ASSERT_EQ(0, pthread_sigmask(SIG_BLOCK, &usr1, &old));
  std::thread producer([&] {
    pthread_sigmask(SIG_UNBLOCK, &usr1, nullptr);
    for (int r = 0; r < rounds; r++) {
      syscall(SYS_tgkill, getpid(), gettid_(), SIGUSR1);
      for (int f = 0; f < feeds; f++) xsig_feed(SIGUSR1);
    }
    done = true;
  });
  while (!done) xsig_dispatch(nullptr);
  producer.join();
  xsig_dispatch(nullptr);
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  // Delivery i (1-based) is a kill when (i - 1) % (feeds + 1) == 0.
  uint64_t first = 1, total = 0;
  int wrong = 0;
  for (const Ev &e : evs) {
    uint64_t last = first + e.count - 1;
    bool has_kill = false, has_feed = false;
    for (uint64_t i = first; i <= last && !(has_kill && has_feed); i++)
      ((i - 1) % (feeds + 1) == 0 ? has_kill : has_feed) = true;
    if (e.source == XSIG_SRC_KERNEL ? !has_kill : !has_feed) wrong++;
    first = last + 1;
    total += e.count;
  }
#ifndef XSIG_TEST_TSAN // TSan may run a handler late or drop it: the order is then unknown
  ASSERT_EQ((uint64_t)rounds * (feeds + 1), total);
  EXPECT_EQ(0, wrong) << "of " << evs.size() << " events";
#else
  EXPECT_LE(total, (uint64_t)rounds * (feeds + 1));
#endif
}
