// fork, _Fork, vfork and exec: a child never shares wakeup pipes or pending
// counts with its parent, and never wakes it.
#include <gtest/gtest.h>

#include <xsig/xsig.h>

#include <string>
#include <vector>

#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include "support/support.h"

extern char **environ;

namespace {

using xsigtest::readable;
using xsigtest::Rec;
using xsigtest::record;

int exit_code(pid_t pid) {
  int st = 0;
  if (waitpid(pid, &st, 0) != pid) return -1;
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

class Fork : public ::testing::Test {
protected:
  void SetUp() override {
    ASSERT_EQ(0, xsig_init());
  }
  void TearDown() override {
    xsig_shutdown();
  }
};

// Runs in a child: checks the child's own xsig state; returns an exit code.
int child_checks(int parent_fd, uint32_t own_pending = 0) {
  int fd = xsig_wakeup_handle(nullptr);
  if (fd < 0 || fd == parent_fd) return 10; // must be a new pipe
  if (xsig_pending(nullptr, SIGUSR1) != own_pending) return 11;
  Rec rec;
  if (xsig_watch(nullptr, SIGUSR2, record, &rec, 0, nullptr) != 0) return 12;
  kill(getpid(), SIGUSR1);
  kill(getpid(), SIGUSR2);
  long long end = xsigtest::now_ms() + 20000;
  while (rec.events.empty() && xsigtest::now_ms() < end) xsig_wait(nullptr, 200);
  if (rec.events.empty() || rec.events[0].sender_pid != getpid()) return 13;
  return 0;
}

} // namespace

TEST_F(Fork, ChildGetsItsOwnPipeAndNoPendingCounts) {
  Rec rec;
  ASSERT_EQ(0, xsig_watch(nullptr, SIGUSR1, record, &rec, 0, nullptr));
  int parent_fd = xsig_wakeup_handle(nullptr);
  xsig_feed(SIGUSR1); // pending in the parent, not to be seen by the child
  ASSERT_TRUE(readable(parent_fd));
  char c;
  ASSERT_EQ(1, read(parent_fd, &c, 1)); // empty the parent's pipe
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) _exit(child_checks(parent_fd));
  EXPECT_EQ(0, exit_code(pid));
  // The child's signals did not wake the parent, and the parent's pending
  // delivery is still its own.
  EXPECT_FALSE(readable(parent_fd));
  EXPECT_EQ(1u, xsig_pending(nullptr, SIGUSR1));
  EXPECT_EQ(1, xsig_dispatch(nullptr));
  EXPECT_EQ(1u, rec.events.size());
}

#if defined(__GLIBC__) && (__GLIBC__ > 2 || __GLIBC_MINOR__ >= 34)
// _Fork skips pthread_atfork: a signal the child takes before its first xsig
// call is counted in the child's memory only and wakes nobody, and that first
// call rebuilds the child's state and keeps the count.
TEST_F(Fork, RawForkChildRebuildsOnFirstCallAndNeverWakesTheParent) {
  Rec rec;
  ASSERT_EQ(0, xsig_watch(nullptr, SIGUSR1, record, &rec, 0, nullptr));
  int parent_fd = xsig_wakeup_handle(nullptr);
  pid_t pid = _Fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    kill(getpid(), SIGUSR1); // before any xsig call: must not reach the parent's pipe
    _exit(child_checks(parent_fd, 1));
  }
  EXPECT_EQ(0, exit_code(pid));
  EXPECT_FALSE(readable(parent_fd));
  EXPECT_EQ(0u, xsig_pending(nullptr, SIGUSR1));
}
#endif

// A vfork child shares the parent's memory: a signal it takes must not be
// counted or written into the parent's pipe. It has handlers of its own, so
// the signal acts there as it would without xsig: SIGUSR1's default ends it.
TEST_F(Fork, VforkChildSignalsDoNotReachTheParent) {
  Rec rec;
  ASSERT_EQ(0, xsig_watch(nullptr, SIGUSR1, record, &rec, 0, nullptr));
  int parent_fd = xsig_wakeup_handle(nullptr);
  pid_t pid = vfork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    kill(getpid(), SIGUSR1);
    _exit(0);
  }
#ifdef XSIG_TEST_TSAN
  // ThreadSanitizer turns vfork() into fork(): a fork child that watches
  // SIGUSR1 counts it, as it should, and lives.
  EXPECT_EQ(0, exit_code(pid));
#else
  EXPECT_EQ(128 + SIGUSR1, exit_code(pid)) << "the signal's default action was swallowed";
#endif
  EXPECT_FALSE(readable(parent_fd));
  EXPECT_EQ(0u, xsig_pending(nullptr, SIGUSR1));
  EXPECT_EQ(0, xsig_dispatch(nullptr));
}

TEST_F(Fork, WakeupPipesAreNotInheritedAcrossExec) {
  xsig_ctx_t *ctx;
  ASSERT_EQ(0, xsig_ctx_new(&ctx));
  Rec rec;
  ASSERT_EQ(0, xsig_watch(ctx, SIGUSR1, record, &rec, 0, nullptr));
  std::string a = std::to_string(xsig_wakeup_handle(nullptr));
  std::string b = std::to_string(xsig_wakeup_handle(ctx));
  std::string helper = xsigtest::helper_path("posix_fdcheck");
  char *argv[] = {(char *)helper.c_str(), (char *)a.c_str(), (char *)b.c_str(), nullptr};
  pid_t pid;
  ASSERT_EQ(0, posix_spawn(&pid, helper.c_str(), nullptr, nullptr, argv, environ));
  EXPECT_EQ(0, exit_code(pid));
  pid = fork();
  if (pid == 0) {
    execv(helper.c_str(), argv);
    _exit(99);
  }
  EXPECT_EQ(0, exit_code(pid));
  // The check itself can fail: a plain descriptor is seen.
  int keep = dup(0);
  std::string k = std::to_string(keep);
  char *argv2[] = {(char *)helper.c_str(), (char *)k.c_str(), nullptr};
  ASSERT_EQ(0, posix_spawn(&pid, helper.c_str(), nullptr, nullptr, argv2, environ));
  EXPECT_EQ(1, exit_code(pid));
  close(keep);
  xsig_ctx_free(ctx);
}

// A child forked while the parent dispatches from another thread can still
// dispatch its own context.
TEST_F(Fork, ChildOfACallbackCanDispatch) {
  struct State {
    int child_status = -1;
  } st;
  ASSERT_EQ(0, xsig_watch(
                   nullptr, SIGUSR1,
                   [](const xsig_event_t *, void *u) {
                     auto *s = static_cast<State *>(u);
                     pid_t pid = fork();
                     if (pid == 0) {
                       // Still inside the callback here: the context is being
                       // dispatched by this very thread.
                       _exit(xsig_dispatch(nullptr) == XSIG_ESTATE ? 0 : 1);
                     }
                     s->child_status = exit_code(pid);
                   },
                   &st, 0, nullptr));
  xsig_feed(SIGUSR1);
  EXPECT_EQ(1, xsig_dispatch(nullptr));
  EXPECT_EQ(0, st.child_status);
}
