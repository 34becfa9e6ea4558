// The lifecycle's exits as a parent sees them: real child processes, real
// signals, wait statuses.
#include <gtest/gtest.h>

#include "helpers/lc_posix.h"
#include "xsig/lifecycle.h"

namespace {

std::string child_path() {
  return xsigtest::helper_path("posix_lc_child");
}

void expect_killed_by(lc::Child &c, int sig) {
  ASSERT_TRUE(c.wait());
  ASSERT_TRUE(WIFSIGNALED(c.status)) << "status " << c.status;
  EXPECT_EQ(WTERMSIG(c.status), sig);
}

void expect_exit(lc::Child &c, int code) {
  ASSERT_TRUE(c.wait());
  ASSERT_TRUE(WIFEXITED(c.status)) << "status " << c.status;
  EXPECT_EQ(WEXITSTATUS(c.status), code);
}

TEST(LifecyclePosix, ExitBySignalDiesBySigterm) {
  lc::Child c({child_path(), "exit", "signal"});
  ASSERT_EQ(c.line(), "ready");
  c.signal(SIGTERM);
  EXPECT_EQ(c.line(), "on_stop " + std::to_string(SIGTERM));
  EXPECT_EQ(c.line(), "cleanup " + std::to_string(SIGTERM));
  expect_killed_by(c, SIGTERM);
}

TEST(LifecyclePosix, ExitBySignalDiesBySigintAfterCtrlC) {
  lc::Child c({child_path(), "exit", "signal"});
  ASSERT_EQ(c.line(), "ready");
  c.signal(SIGINT);
  EXPECT_EQ(c.line(), "on_stop " + std::to_string(SIGINT));
  EXPECT_EQ(c.line(), "cleanup " + std::to_string(SIGINT));
  expect_killed_by(c, SIGINT);
}

TEST(LifecyclePosix, GracefulExitWithAStatusRunsAtexit) {
  lc::Child c({child_path(), "exit", "3"});
  ASSERT_EQ(c.line(), "ready");
  c.signal(SIGTERM);
  EXPECT_EQ(c.line(), "on_stop " + std::to_string(SIGTERM));
  EXPECT_EQ(c.line(), "cleanup " + std::to_string(SIGTERM));
  EXPECT_EQ(c.line(), "atexit");
  expect_exit(c, 3);
}

TEST(LifecyclePosix, SecondSignalForcesASpinningProcess) {
  lc::Child c({child_path(), "spin"});
  ASSERT_EQ(c.line(), "ready");
  c.signal(SIGTERM);
  // The spinning thread sees the request without ever dispatching...
  EXPECT_EQ(c.line(), "stop seen " + std::to_string(SIGTERM));
  c.signal(SIGTERM);
  // ...and the second one ends it, on_force first.
  EXPECT_EQ(c.line(), "forced " + std::to_string(SIGTERM));
  expect_killed_by(c, SIGTERM);
}

TEST(LifecyclePosix, GraceTimerForcesABlockedProcess) {
  lc::Child c({child_path(), "block", "200"});
  ASSERT_EQ(c.line(), "ready");
  c.signal(SIGTERM);
  EXPECT_EQ(c.line(), "forced " + std::to_string(SIGTERM));
  expect_killed_by(c, SIGTERM);
}

TEST(LifecyclePosix, GraceTimerKeepsTheFirstSignal) {
  lc::Child c({child_path(), "block", "200"});
  ASSERT_EQ(c.line(), "ready");
  c.signal(SIGINT);
  EXPECT_EQ(c.line(), "forced " + std::to_string(SIGINT));
  expect_killed_by(c, SIGINT);
}

TEST(LifecyclePosix, WithoutSecondForcesRequestsOnlyCount) {
  lc::Child c({child_path(), "nosecond"});
  ASSERT_EQ(c.line(), "ready");
  c.signal(SIGTERM);
  EXPECT_EQ(c.line(), "on_stop " + std::to_string(SIGTERM));
  EXPECT_EQ(c.line(), "term 1");
  c.signal(SIGTERM);
  EXPECT_EQ(c.line(), "term 2");
  c.signal(SIGTERM);
  EXPECT_EQ(c.line(), "term 3") << "on_stop runs once; the process lives on";
  c.signal(SIGUSR1);
  EXPECT_EQ(c.line(), "stop " + std::to_string(SIGTERM));
  expect_exit(c, 0);
}

TEST(LifecyclePosix, ExitBySignalWithoutARequestUsesSigterm) {
  // EXPECT_EXIT forks: the child ends through the same path a program takes.
  EXPECT_EXIT(
      {
        xsig_init();
        xsig_graceful_exit(XSIG_EXIT_BY_SIGNAL);
      },
      testing::KilledBySignal(SIGTERM), "");
}

TEST(LifecyclePosix, ExitBySignalEvenWhenTheSignalIsBlocked) {
  EXPECT_EXIT(
      {
        sigset_t s;
        sigemptyset(&s);
        sigaddset(&s, SIGTERM);
        pthread_sigmask(SIG_BLOCK, &s, nullptr);
        xsig_graceful_exit(XSIG_EXIT_BY_SIGNAL);
      },
      testing::KilledBySignal(SIGTERM), "");
}

TEST(LifecyclePosix, AForkChildStopsAndExitsWithoutTheParentsWatchdog) {
  ASSERT_EQ(xsig_init(), 0);
  xsig_graceful_opts_t o = {};
  ASSERT_EQ(xsig_graceful_start(nullptr, &o), 0);
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    // The parent's watchdog thread did not come along: neither stop nor exit
    // may wait for it. (Starting a new one here is allowed, but ThreadSanitizer
    // refuses new threads after a multi-threaded fork, so it is not done here.)
    if (xsig_graceful_stop() != 0) _exit(3);
    xsig_graceful_exit(XSIG_EXIT_BY_SIGNAL);
  }
  int status = 0;
  bool ended = xsigtest::wait_until([&] { return waitpid(pid, &status, WNOHANG) == pid; });
  if (!ended) kill(pid, SIGKILL);
  ASSERT_TRUE(ended);
  ASSERT_TRUE(WIFSIGNALED(status)) << status;
  EXPECT_EQ(WTERMSIG(status), SIGTERM);
  EXPECT_EQ(xsig_stop_requested(), 0) << "the parent saw nothing";
  EXPECT_EQ(xsig_graceful_stop(), 0);
  xsig_shutdown();
}

} // namespace
