// sd_notify without libsystemd: real datagrams to a socket the test owns.
#include <gtest/gtest.h>
#include <time.h>

#include "helpers/lc_posix.h"
#include "xsig/lifecycle.h"

namespace {

std::string abstract_name() {
  return "@xsig-notify-test-" + std::to_string(getpid());
}

unsigned long long mono_us() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (unsigned long long)ts.tv_sec * 1000000u + (unsigned long long)ts.tv_nsec / 1000u;
}

TEST(Notify, SendsToAnAbstractSocket) {
  lc::NotifySock s(abstract_name());
  setenv("NOTIFY_SOCKET", s.env.c_str(), 1);
  EXPECT_EQ(xsig_notify("READY=1"), 1);
  EXPECT_EQ(s.recv(), "READY=1");
  EXPECT_EQ(xsig_notify_status("warming up"), 1);
  EXPECT_EQ(s.recv(), "STATUS=warming up");
}

TEST(Notify, SendsToAPathSocket) {
  lc::TempDir d;
  lc::NotifySock s(d.file("notify"));
  setenv("NOTIFY_SOCKET", s.env.c_str(), 1);
  EXPECT_EQ(xsig_notify_ready(), 1);
  EXPECT_EQ(s.recv(), "READY=1");
  EXPECT_EQ(xsig_notify_stopping(), 1);
  EXPECT_EQ(s.recv(), "STOPPING=1");
  EXPECT_EQ(xsig_notifyf("STATUS=%d clients\nERRNO=%d", 3, 0), 1);
  EXPECT_EQ(s.recv(), "STATUS=3 clients\nERRNO=0");
}

TEST(Notify, ReloadingCarriesTheMonotonicClock) {
  lc::NotifySock s(abstract_name());
  setenv("NOTIFY_SOCKET", s.env.c_str(), 1);
  unsigned long long before = mono_us();
  EXPECT_EQ(xsig_notify_reloading(), 1);
  unsigned long long after = mono_us();
  std::string m = s.recv();
  const std::string head = "RELOADING=1\nMONOTONIC_USEC=";
  ASSERT_EQ(m.compare(0, head.size(), head), 0) << m;
  unsigned long long v = strtoull(m.c_str() + head.size(), nullptr, 10);
  EXPECT_LE(before, v);
  EXPECT_LE(v, after);
}

TEST(Notify, LongMessagesGoWhole) {
  lc::NotifySock s(abstract_name());
  setenv("NOTIFY_SOCKET", s.env.c_str(), 1);
  std::string text(3000, 'x');
  EXPECT_EQ(xsig_notifyf("STATUS=%s", text.c_str()), 1);
  EXPECT_EQ(s.recv(), "STATUS=" + text);
}

TEST(Notify, NoSocketMeansZero) {
  unsetenv("NOTIFY_SOCKET");
  EXPECT_EQ(xsig_notify("READY=1"), 0);
  EXPECT_EQ(xsig_notify_ready(), 0);
  setenv("NOTIFY_SOCKET", "", 1);
  EXPECT_EQ(xsig_notify_reloading(), 0);
}

TEST(Notify, AMissingSocketFileIsAnOsError) {
  lc::TempDir d;
  setenv("NOTIFY_SOCKET", d.file("nobody-listens").c_str(), 1);
  EXPECT_EQ(xsig_notify("READY=1"), XSIG_ESYS);
  EXPECT_EQ(xsig_os_error(), ENOENT);
  setenv("NOTIFY_SOCKET", "@xsig-nobody-binds-this-name", 1);
  EXPECT_EQ(xsig_notify("READY=1"), XSIG_ESYS);
  EXPECT_EQ(xsig_os_error(), ECONNREFUSED);
}

TEST(Notify, OverLongOrRelativeAddressesAreInvalid) {
  std::string longest = "/" + std::string(sizeof(((struct sockaddr_un *)0)->sun_path) - 2, 'p');
  setenv("NOTIFY_SOCKET", (longest + "p").c_str(), 1);
  EXPECT_EQ(xsig_notify("READY=1"), XSIG_EINVAL);
  setenv("NOTIFY_SOCKET", ("@" + std::string(200, 'a')).c_str(), 1);
  EXPECT_EQ(xsig_notify("READY=1"), XSIG_EINVAL);
  setenv("NOTIFY_SOCKET", "relative/notify", 1);
  EXPECT_EQ(xsig_notify("READY=1"), XSIG_EINVAL);
  // One byte shorter fits: the error is then only that nobody listens there.
  setenv("NOTIFY_SOCKET", longest.c_str(), 1);
  EXPECT_EQ(xsig_notify("READY=1"), XSIG_ESYS);
  EXPECT_EQ(xsig_notify(nullptr), XSIG_EINVAL);
}

TEST(Notify, WatchdogIntervalHonoursWatchdogPid) {
  uint64_t us = 7;
  unsetenv("WATCHDOG_USEC");
  unsetenv("WATCHDOG_PID");
  EXPECT_EQ(xsig_watchdog_interval(&us), 0);
  EXPECT_EQ(us, 0u);
  setenv("WATCHDOG_USEC", "3000000", 1);
  EXPECT_EQ(xsig_watchdog_interval(&us), 1);
  EXPECT_EQ(us, 3000000u);
  setenv("WATCHDOG_PID", std::to_string(getpid()).c_str(), 1);
  EXPECT_EQ(xsig_watchdog_interval(&us), 1);
  EXPECT_EQ(us, 3000000u);
  // The service's main process set it, and we inherited it: not ours to ping.
  setenv("WATCHDOG_PID", std::to_string(getppid()).c_str(), 1);
  EXPECT_EQ(xsig_watchdog_interval(&us), 0);
  EXPECT_EQ(us, 0u);
  setenv("WATCHDOG_PID", "12abc", 1);
  EXPECT_EQ(xsig_watchdog_interval(&us), XSIG_EINVAL);
  unsetenv("WATCHDOG_PID");
  setenv("WATCHDOG_USEC", "-5", 1);
  EXPECT_EQ(xsig_watchdog_interval(&us), XSIG_EINVAL);
}

// Every uint64_t value is read, UINT64_MAX included, and one more is refused
// (the fuzz target fuzz_notify found the last six values refused).
TEST(Notify, WatchdogIntervalReadsTheWholeRange) {
  uint64_t us = 7;
  unsetenv("WATCHDOG_PID");
  setenv("WATCHDOG_USEC", "18446744073709551615", 1);
  EXPECT_EQ(xsig_watchdog_interval(&us), 1);
  EXPECT_EQ(us, UINT64_MAX);
  setenv("WATCHDOG_USEC", "18446744073709551610", 1);
  EXPECT_EQ(xsig_watchdog_interval(&us), 1);
  EXPECT_EQ(us, UINT64_MAX - 5);
  setenv("WATCHDOG_USEC", "18446744073709551616", 1);
  EXPECT_EQ(xsig_watchdog_interval(&us), XSIG_EINVAL);
  EXPECT_EQ(us, 0u);
  setenv("WATCHDOG_USEC", "5", 1);
  setenv("WATCHDOG_PID", "18446744073709551615", 1);
  EXPECT_EQ(xsig_watchdog_interval(&us), 0); // a valid pid, not ours
  unsetenv("WATCHDOG_USEC");
  unsetenv("WATCHDOG_PID");
}

TEST(Notify, WatchdogPidIsCheckedInAChildThatInheritsIt) {
  // A real other process: the child gets our pid in WATCHDOG_PID.
  std::string pid_env = "WATCHDOG_PID=" + std::to_string(getpid());
  lc::Child c({xsigtest::helper_path("posix_lc_child"), "watchdog"},
              {"WATCHDOG_USEC=1000000", pid_env});
  EXPECT_EQ(c.line(), "watchdog 0 0");
  ASSERT_TRUE(c.wait());
  lc::Child own({xsigtest::helper_path("posix_lc_child"), "watchdog"}, {"WATCHDOG_USEC=1000000"});
  EXPECT_EQ(own.line(), "watchdog 1 1000000");
  ASSERT_TRUE(own.wait());
}

// Reload tells systemd before and after, and how it went.
int reload_result;
int reload_calls;
int fake_reload(void *user, char *err, size_t errsize) {
  (void)user;
  reload_calls++;
  if (reload_result) snprintf(err, errsize, "line 3: bad value");
  return reload_result;
}

TEST(Notify, ReloadSendsReloadingThenReadyWithStatus) {
  lc::NotifySock s(abstract_name());
  setenv("NOTIFY_SOCKET", s.env.c_str(), 1);
  ASSERT_EQ(xsig_init(), 0);
  ASSERT_EQ(xsig_reload_start(nullptr, fake_reload, nullptr), 0);
  reload_result = 0;
  ASSERT_EQ(xsig_raise(SIGHUP), 0);
  ASSERT_TRUE(xsigtest::wait_until([] { return xsig_dispatch(nullptr) > 0; }));
  EXPECT_EQ(reload_calls, 1);
  EXPECT_EQ(s.recv().compare(0, 26, "RELOADING=1\nMONOTONIC_USEC"), 0);
  EXPECT_EQ(s.recv(), "READY=1\nSTATUS=reloaded");
  reload_result = 1;
  ASSERT_EQ(xsig_raise(SIGHUP), 0);
  ASSERT_TRUE(xsigtest::wait_until([] { return xsig_dispatch(nullptr) > 0; }));
  EXPECT_EQ(reload_calls, 2);
  EXPECT_EQ(s.recv().compare(0, 12, "RELOADING=1\n"), 0);
  EXPECT_EQ(s.recv(), "READY=1\nSTATUS=reload failed: line 3: bad value");
  EXPECT_EQ(xsig_reload_stop(), 0);
  xsig_shutdown();
}

TEST(Notify, FirstStopRequestSendsStopping) {
  lc::NotifySock s(abstract_name());
  setenv("NOTIFY_SOCKET", s.env.c_str(), 1);
  ASSERT_EQ(xsig_init(), 0);
  xsig_graceful_opts_t o = {};
  o.second_forces = -1;
  ASSERT_EQ(xsig_graceful_start(nullptr, &o), 0);
  ASSERT_EQ(xsig_raise(SIGTERM), 0);
  EXPECT_EQ(s.recv(), "STOPPING=1");
  ASSERT_EQ(xsig_raise(SIGTERM), 0);
  EXPECT_EQ(xsig_graceful_stop(), 0);
  EXPECT_EQ(s.recv(0), "")
      << "STOPPING=1 goes once (the watchdog is joined: anything sent is queued)";
  xsig_shutdown();
}

} // namespace
