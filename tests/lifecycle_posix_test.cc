// The lifecycle's exits as a parent sees them: real child processes, real
// signals, wait statuses.
#include <gtest/gtest.h>

#include "helpers/lc_posix.h"
#include "xsig/lifecycle.h"

namespace {

using lc::after;

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
  EXPECT_EQ(after(c, SIGTERM), "on_stop " + std::to_string(SIGTERM));
  EXPECT_EQ(c.line(), "cleanup " + std::to_string(SIGTERM));
  expect_killed_by(c, SIGTERM);
}

TEST(LifecyclePosix, ExitBySignalDiesBySigintAfterCtrlC) {
  lc::Child c({child_path(), "exit", "signal"});
  ASSERT_EQ(c.line(), "ready");
  EXPECT_EQ(after(c, SIGINT), "on_stop " + std::to_string(SIGINT));
  EXPECT_EQ(c.line(), "cleanup " + std::to_string(SIGINT));
  expect_killed_by(c, SIGINT);
}

TEST(LifecyclePosix, GracefulExitWithAStatusRunsAtexit) {
  lc::Child c({child_path(), "exit", "3"});
  ASSERT_EQ(c.line(), "ready");
  EXPECT_EQ(after(c, SIGTERM), "on_stop " + std::to_string(SIGTERM));
  EXPECT_EQ(c.line(), "cleanup " + std::to_string(SIGTERM));
  EXPECT_EQ(c.line(), "atexit");
  expect_exit(c, 3);
}

TEST(LifecyclePosix, SecondSignalForcesASpinningProcess) {
  lc::Child c({child_path(), "spin"});
  ASSERT_EQ(c.line(), "ready");
  // The spinning thread sees the request without ever dispatching...
  EXPECT_EQ(after(c, SIGTERM), "stop seen " + std::to_string(SIGTERM));
  // ...and a second one ends it, on_force first.
  EXPECT_EQ(lc::press_until_line(c, SIGTERM), "forced " + std::to_string(SIGTERM));
  expect_killed_by(c, SIGTERM);
}

// The watchdog alone sees the requests of a process that never dispatches:
// once "stop seen" is out, it has counted the first. Presses every 50 ms
// after that are the same request until merge_ms has passed since it.
void expect_force_after(const std::string &merge_ms, long long at_least_ms) {
  lc::Child c({child_path(), "spin", merge_ms});
  ASSERT_EQ(c.line(), "ready");
  long long first = xsigtest::now_ms();
  EXPECT_EQ(after(c, SIGTERM), "stop seen " + std::to_string(SIGTERM));
  EXPECT_EQ(lc::press_until_line(c, SIGTERM), "forced " + std::to_string(SIGTERM));
  EXPECT_GE(xsigtest::now_ms() - first, at_least_ms) << "forced within the window";
  expect_killed_by(c, SIGTERM);
}

TEST(LifecyclePosix, ARequestAfterTheDefaultWindowForces) {
  expect_force_after("0", XSIG_MERGE_MS_DEFAULT);
}

TEST(LifecyclePosix, MergeMsSetsTheWindow) {
  expect_force_after("2000", 2000);
}

TEST(LifecyclePosix, MergeMsMinusOneCountsEveryDelivery) {
  lc::Child c({child_path(), "spin", "-1"});
  ASSERT_EQ(c.line(), "ready");
  EXPECT_EQ(after(c, SIGTERM), "stop seen " + std::to_string(SIGTERM));
  // Counted by the watchdog already, so this one is a delivery of its own.
  EXPECT_EQ(after(c, SIGTERM), "forced " + std::to_string(SIGTERM));
  expect_killed_by(c, SIGTERM);
}

TEST(LifecyclePosix, GraceTimerForcesABlockedProcess) {
  lc::Child c({child_path(), "block", "200"});
  ASSERT_EQ(c.line(), "ready");
  EXPECT_EQ(after(c, SIGTERM), "forced " + std::to_string(SIGTERM));
  expect_killed_by(c, SIGTERM);
}

TEST(LifecyclePosix, GraceTimerKeepsTheFirstSignal) {
  lc::Child c({child_path(), "block", "200"});
  ASSERT_EQ(c.line(), "ready");
  EXPECT_EQ(after(c, SIGINT), "forced " + std::to_string(SIGINT));
  expect_killed_by(c, SIGINT);
}

TEST(LifecyclePosix, WithoutSecondForcesRequestsOnlyCount) {
  lc::Child c({child_path(), "nosecond"});
  ASSERT_EQ(c.line(), "ready");
  EXPECT_EQ(after(c, SIGTERM), "on_stop " + std::to_string(SIGTERM));
  EXPECT_EQ(c.line(), "term 1");
  EXPECT_EQ(after(c, SIGTERM), "term 2");
  EXPECT_EQ(after(c, SIGTERM), "term 3") << "on_stop runs once; the process lives on";
  EXPECT_EQ(after(c, SIGUSR1), "stop " + std::to_string(SIGTERM));
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

// Fills ns's receive queue from a non-blocking socket of our own until the
// kernel refuses more, as when systemd's reader stops reading. The returned
// sender must stay open while the queue has to stay full.
int fill_notify_socket(lc::NotifySock &ns, int *queued) {
  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  struct sockaddr_un a;
  socklen_t len = sizeof a;
  memset(&a, 0, sizeof a);
  getsockname(ns.fd, (struct sockaddr *)&a, &len);
  *queued = 0;
  for (;;) {
    ssize_t n = sendto(fd, "STATUS=filler", 13, MSG_NOSIGNAL, (struct sockaddr *)&a, len);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;
    ++*queued;
  }
  EXPECT_TRUE(errno == EAGAIN || errno == EWOULDBLOCK) << strerror(errno);
  return fd;
}

TEST(LifecyclePosix, GraceTimerForcesTheExitWhenTheNotifySocketIsFull) {
  lc::TempDir d;
  lc::NotifySock ns(d.file("notify"));
  int queued = 0, filler = fill_notify_socket(ns, &queued);
  ASSERT_GT(queued, 0);
  lc::Child c({child_path(), "hang-atexit", "300", "-1"}, {"NOTIFY_SOCKET=" + ns.env});
  ASSERT_EQ(c.line(), "ready");
  EXPECT_EQ(after(c, SIGTERM), "on_stop " + std::to_string(SIGTERM));
  EXPECT_EQ(c.line(), "atexit hangs");
  // STOPPING=1 cannot be queued: the watchdog must not wait for room, or the
  // grace timer never starts.
  EXPECT_EQ(c.line(), "forced " + std::to_string(SIGTERM));
  expect_killed_by(c, SIGTERM);
  close(filler);
}

TEST(LifecyclePosix, SecondSignalForcesTheExitWhenTheNotifySocketIsFull) {
  lc::TempDir d;
  lc::NotifySock ns(d.file("notify"));
  int queued = 0, filler = fill_notify_socket(ns, &queued);
  ASSERT_GT(queued, 0);
  lc::Child c({child_path(), "spin"}, {"NOTIFY_SOCKET=" + ns.env});
  ASSERT_EQ(c.line(), "ready");
  EXPECT_EQ(after(c, SIGTERM), "stop seen " + std::to_string(SIGTERM));
  EXPECT_EQ(lc::press_until_line(c, SIGTERM), "forced " + std::to_string(SIGTERM));
  expect_killed_by(c, SIGTERM);
  close(filler);
}

TEST(LifecyclePosix, GraceTimerBoundsAHangingAtexitHandler) {
  lc::Child c({child_path(), "hang-atexit", "300", "-1"});
  ASSERT_EQ(c.line(), "ready");
  EXPECT_EQ(after(c, SIGTERM), "on_stop " + std::to_string(SIGTERM));
  // xsig_graceful_exit(0) ran exit(), whose handler never returns...
  EXPECT_EQ(c.line(), "atexit hangs");
  // ...and the grace timer still ends the process.
  EXPECT_EQ(c.line(), "forced " + std::to_string(SIGTERM));
  expect_killed_by(c, SIGTERM);
}

TEST(LifecyclePosix, SecondSignalBoundsAHangingAtexitHandler) {
  lc::Child c({child_path(), "hang-atexit", "0", "0"});
  ASSERT_EQ(c.line(), "ready");
  EXPECT_EQ(after(c, SIGTERM), "on_stop " + std::to_string(SIGTERM));
  EXPECT_EQ(c.line(), "atexit hangs");
  EXPECT_EQ(lc::press_until_line(c, SIGTERM), "forced " + std::to_string(SIGTERM))
      << "the watchdog, not SIG_DFL";
  expect_killed_by(c, SIGTERM);
}

// The watchdog's pipe must be close-on-exec; when making it so fails, the
// start fails with XSIG_ESYS and both ends are closed. Where pipe2() exists
// the pipe is born close-on-exec and fcntl() is never asked.
TEST(LifecyclePosix, AFailingFcntlLeaksNoDescriptor) {
  lc::Child c({xsigtest::helper_path("posix_lc_fdleak")});
#if defined(__linux__) || defined(__FreeBSD__) || defined(__NetBSD__) || defined(__OpenBSD__)
  EXPECT_EQ(c.line(), "start 0 failures 0 leaked 0");
#else
  EXPECT_EQ(c.line(), "start " + std::to_string(XSIG_ESYS) + " failures 1 leaked 0");
#endif
  expect_exit(c, 0);
}

// ---- signals ignored before the program started

// The child as a shell script starts it after `trap '' SIGS`: ignored before
// exec, as a shell does for `cmd &` (SIGINT) and nohup for SIGHUP.
std::vector<std::string> ignoring(const std::string &sigs, std::vector<std::string> argv) {
  std::vector<std::string> sh = {"sh", "-c", "trap '' " + sigs + "; exec \"$0\" \"$@\""};
  sh.insert(sh.end(), argv.begin(), argv.end());
  return sh;
}

std::string flags_arg(unsigned flags) {
  return std::to_string(flags);
}

TEST(LifecyclePosix, AnInheritedIgnoredSigintStaysIgnored) {
  lc::Child c(ignoring("INT", {child_path(), "ignored", flags_arg(0)}));
  ASSERT_EQ(c.line(), "start 0 INT ign TERM handler");
  ASSERT_EQ(c.line(), "ready");
  c.signal(SIGINT); // nothing: no on_stop, no death
  EXPECT_EQ(after(c, SIGTERM), "on_stop " + std::to_string(SIGTERM));
  EXPECT_EQ(c.line(), "cleanup");
  expect_exit(c, 0);
}

TEST(LifecyclePosix, TakeIgnoredTakesAnInheritedIgnoredSigint) {
  lc::Child c(ignoring("INT", {child_path(), "ignored", flags_arg(XSIG_TAKE_IGNORED)}));
  ASSERT_EQ(c.line(), "start 0 INT handler TERM handler");
  ASSERT_EQ(c.line(), "ready");
  EXPECT_EQ(after(c, SIGINT), "on_stop " + std::to_string(SIGINT));
  EXPECT_EQ(c.line(), "cleanup");
  expect_exit(c, 0);
}

TEST(LifecyclePosix, BothStopSignalsIgnoredIsAnError) {
  lc::Child c(ignoring("INT TERM", {child_path(), "ignored", flags_arg(0)}));
  EXPECT_EQ(c.line(), "start " + std::to_string(XSIG_EIGNORED) + " INT ign TERM ign");
  expect_exit(c, 0);
  lc::Child t(ignoring("INT TERM", {child_path(), "ignored", flags_arg(XSIG_TAKE_IGNORED)}));
  EXPECT_EQ(t.line(), "start 0 INT handler TERM handler");
  ASSERT_EQ(t.line(), "ready");
  EXPECT_EQ(after(t, SIGTERM), "on_stop " + std::to_string(SIGTERM));
  expect_exit(t, 0);
}

// A real shell's `cmd &`: a shell without job control starts it with SIGINT
// (and SIGQUIT) ignored. The shell leads a group of its own, so killpg()
// reaches the child, whose pid the test does not know.
TEST(LifecyclePosix, BackgroundedByAShellSigintStaysIgnored) {
  lc::Child c({"sh", "-c", "\"$0\" \"$@\" & wait $!", child_path(), "ignored", flags_arg(0)}, {},
              lc::Group::Own);
  ASSERT_EQ(c.line(), "start 0 INT ign TERM handler");
  ASSERT_EQ(c.line(), "ready");
  EXPECT_EQ(after(c, [&] { killpg(c.pid, SIGTERM); }), "on_stop " + std::to_string(SIGTERM));
}

TEST(LifecyclePosix, ReloadUnderNohupLeavesSighupIgnored) {
  lc::Child c({"nohup", child_path(), "reload", flags_arg(0)});
  ASSERT_EQ(c.line(), "reload " + std::to_string(XSIG_EIGNORED) + " HUP ign");
  c.signal(SIGHUP); // nothing: no reload, no death
  EXPECT_EQ(after(c, SIGUSR1), "reloads 0");
  expect_exit(c, 0);
}

TEST(LifecyclePosix, ReloadUnderNohupTakesSighupWhenAsked) {
  lc::Child c({"nohup", child_path(), "reload", flags_arg(XSIG_TAKE_IGNORED)});
  ASSERT_EQ(c.line(), "reload 0 HUP handler");
  EXPECT_EQ(after(c, SIGHUP), "reloaded");
  EXPECT_EQ(after(c, SIGUSR1), "reloads 1");
  expect_exit(c, 0);
}

} // namespace
