// examples/graceful_server as a real child process: drain, forced exits,
// reload, and what it tells systemd through a $NOTIFY_SOCKET the test owns.
#include <gtest/gtest.h>

#include <functional>
#include <memory>

#include "helpers/lc_posix.h"

namespace {

struct Server {
  lc::TempDir dir;
  std::string config;
  lc::NotifySock notify{dir.file("notify")};
  std::unique_ptr<lc::Child> child;
  int port = 0;

  // wrapper: a command line the server runs under (timeout ...); child is then the wrapper.
  explicit Server(const std::string &greeting, std::vector<std::string> args = {},
                  std::vector<std::string> wrapper = {}, lc::Group group = lc::Group::Inherit) {
    config = dir.write("server.conf", "# test server\ngreeting = " + greeting + "\n");
    std::vector<std::string> argv = wrapper;
    for (const char *a :
         {XSIG_TEST_BINARY_DIR "/examples/graceful_server", "--port", "0", "--config"})
      argv.push_back(a);
    argv.push_back(config);
    argv.insert(argv.end(), args.begin(), args.end());
    child.reset(new lc::Child(argv, {"NOTIFY_SOCKET=" + notify.env}, group));
    std::string first = child->line();
    const std::string prefix = "listening on 127.0.0.1:";
    EXPECT_EQ(first.compare(0, prefix.size(), prefix), 0) << first;
    if (first.size() > prefix.size()) port = atoi(first.c_str() + prefix.size());
  }
  // Waits for the child to end and checks it died by sig.
  void expect_killed_by(int sig) {
    ASSERT_TRUE(child->wait());
    ASSERT_TRUE(WIFSIGNALED(child->status)) << "status " << child->status;
    EXPECT_EQ(WTERMSIG(child->status), sig);
  }
  void expect_exit(int code) {
    ASSERT_TRUE(child->wait());
    ASSERT_TRUE(WIFEXITED(child->status)) << "status " << child->status;
    EXPECT_EQ(WEXITSTATUS(child->status), code);
  }
};

// Opens n connections that each have a SLEEP in flight.
std::vector<std::unique_ptr<lc::Client>> in_flight(int port, int n, int ms) {
  std::vector<std::unique_ptr<lc::Client>> v;
  for (int i = 0; i < n; i++) {
    v.emplace_back(new lc::Client(port));
    EXPECT_GE(v.back()->fd, 0);
    EXPECT_TRUE(v.back()->send("SLEEP " + std::to_string(ms)));
  }
  return v;
}

// Runs send() and waits for STOPPING=1. Under TSan only, which may drop a
// signal from another process, a long silence means it was dropped: again.
bool stopping_after(Server &s, const std::function<void()> &send) {
#ifdef LC_TSAN
  for (int i = 0; i < 5; i++) {
    send();
    std::string m = s.notify.recv(8000);
    if (!m.empty()) return m == "STOPPING=1";
  }
  return false;
#else
  send();
  return s.notify.recv() == "STOPPING=1";
#endif
}

bool starts_with(const std::string &s, const std::string &p) {
  return s.compare(0, p.size(), p) == 0;
}

bool refused(int port) {
  lc::Client c(port);
  return c.fd < 0 && c.err == ECONNREFUSED;
}

TEST(Server, AnswersTheProtocol) {
  Server s("hello from xsig");
  ASSERT_GT(s.port, 0);
  EXPECT_EQ(s.notify.recv(), "READY=1");
  lc::Client c(s.port);
  ASSERT_GE(c.fd, 0);
  EXPECT_EQ(c.ask("HELLO"), "hello from xsig");
  EXPECT_EQ(c.ask("SLEEP 20"), "done 20");
  EXPECT_EQ(c.ask("DANCE").compare(0, 6, "error "), 0);
  EXPECT_TRUE(starts_with(c.ask("SLEEP"), "error ")) << "SLEEP needs its milliseconds";
  EXPECT_EQ(c.ask("HELLO"), "hello from xsig") << "still serving after errors";
  s.child->signal(SIGTERM);
  s.expect_exit(0);
}

TEST(Server, RefusesABadConfigAtStart) {
  lc::TempDir d;
  std::string bad = d.write("bad.conf", "greeting = hi\ncolour = blue\n");
  lc::Child c({XSIG_TEST_BINARY_DIR "/examples/graceful_server", "--port", "0", "--config", bad});
  EXPECT_EQ(c.line(), "");
  ASSERT_TRUE(c.wait());
  ASSERT_TRUE(WIFEXITED(c.status));
  EXPECT_EQ(WEXITSTATUS(c.status), 2);
}

TEST(Server, SigtermDrainsInFlightRequestsAndExitsZero) {
  Server s("hi");
  ASSERT_GT(s.port, 0);
  EXPECT_EQ(s.notify.recv(), "READY=1");
  // Long enough that the refusal below is seen while the server still lives.
  auto clients = in_flight(s.port, 3, 5000);
  ASSERT_TRUE(stopping_after(s, [&] { s.child->signal(SIGTERM); }));
  ASSERT_TRUE(xsigtest::wait_until([&] { return refused(s.port); }));
  EXPECT_TRUE(s.child->alive()) << "refusal must come from the draining server";
  for (auto &c : clients) EXPECT_EQ(c->line(), "done 5000");
  for (auto &c : clients) EXPECT_EQ(c->line(), "") << "the server closes after the drain";
  s.expect_exit(0);
}

// A person who means a second request presses again when the first seems to
// do nothing: send sig every 50 ms until the child has ended. Returns the ms
// from the first send, or -1 when it never ended.
long long press_until_gone(lc::Child &c, int sig) {
  long long start = xsigtest::now_ms(), last = -1000;
  bool gone = xsigtest::wait_until(
      [&] {
        if (!c.alive()) return true;
        if (xsigtest::now_ms() - last >= 50) {
          c.signal(sig);
          last = xsigtest::now_ms();
        }
        return false;
      },
      lc::kLong);
  return gone ? xsigtest::now_ms() - start : -1;
}

// The lifecycle's default: deliveries within 500 ms after the counted request
// belong to it.
const long long kMergeMs = 500;

TEST(Server, SecondSigtermForcesTheExit) {
  Server s("hi");
  ASSERT_GT(s.port, 0);
  EXPECT_EQ(s.notify.recv(), "READY=1");
  auto clients = in_flight(s.port, 3, 60000);
  long long first = xsigtest::now_ms();
  // Seen once before the second is sent, so that the kernel cannot merge them.
  ASSERT_TRUE(stopping_after(s, [&] { s.child->signal(SIGTERM); }));
  ASSERT_GE(press_until_gone(*s.child, SIGTERM), 0) << "a second request must force the exit";
  // The presses within the window after the first request were part of it.
  EXPECT_GE(xsigtest::now_ms() - first, kMergeMs);
  s.expect_killed_by(SIGTERM);
  for (auto &c : clients) EXPECT_EQ(c->line(), "") << "no request was finished";
}

TEST(Server, SigintThenSigtermForcesTheExit) {
  Server s("hi");
  ASSERT_GT(s.port, 0);
  EXPECT_EQ(s.notify.recv(), "READY=1");
  auto clients = in_flight(s.port, 1, 60000);
  ASSERT_TRUE(stopping_after(s, [&] { s.child->signal(SIGINT); }));
  ASSERT_GE(press_until_gone(*s.child, SIGTERM), 0);
  s.expect_killed_by(SIGTERM);
}

// One stop request sent twice, the way supervisors and scripts do it: to the
// process and to its process group, which holds it. The first is seen
// (STOPPING=1) before the second is sent, so the kernel cannot merge them:
// the lifecycle must.
TEST(Server, SigtermToTheProcessThenToItsGroupDrains) {
  Server s("hi", {}, {}, lc::Group::Own);
  ASSERT_GT(s.port, 0);
  EXPECT_EQ(s.notify.recv(), "READY=1");
  // Long enough that a forced exit, which comes at once, cannot hide behind it.
  auto clients = in_flight(s.port, 2, 1500);
  ASSERT_TRUE(stopping_after(s, [&] { kill(s.child->pid, SIGTERM); }));
  ASSERT_EQ(killpg(s.child->pid, SIGTERM), 0);
  for (auto &c : clients) EXPECT_EQ(c->line(), "done 1500") << "drained, not forced";
  s.expect_exit(0);
}

// Runs the server under coreutils timeout(1), which sends its signal to the
// server and then to its own process group (the server's too): two deliveries
// for one time-out, the second coming a moment after the first. `fire` makes
// timeout act; the server must drain, not count two requests and force.
// --preserve-status: timeout's own status is then the server's.
void expect_drain_under_timeout(const std::function<void(pid_t)> &fire) {
  for (int run = 0; run < 20; run++) {
    SCOPED_TRACE("run " + std::to_string(run));
    Server s("hi", {}, {"timeout", "--preserve-status", "600"});
    ASSERT_GT(s.port, 0);
    ASSERT_EQ(s.notify.recv(), "READY=1");
    auto clients = in_flight(s.port, 2, 300);
    ASSERT_TRUE(stopping_after(s, [&] { fire(s.child->pid); }));
    for (auto &c : clients) ASSERT_EQ(c->line(), "done 300") << "drained, not forced";
    s.expect_exit(0);
    if (testing::Test::HasFailure()) return;
  }
}

// SIGALRM is how timeout learns that its time is up: sending it one runs the
// real time-out path at a moment the test chooses.
TEST(Server, TimeoutsTimeOutDrains) {
  expect_drain_under_timeout([](pid_t timeout) { kill(timeout, SIGALRM); });
}

// Ctrl+C: the terminal sends SIGINT to the foreground process group, timeout
// and the server alike (timeout leads the group it made; killpg reaches the
// same processes the terminal would), and timeout forwards its copy to the
// server and to the group again: three deliveries for one key press.
TEST(Server, CtrlCUnderTimeoutDrains) {
  expect_drain_under_timeout([](pid_t timeout) { killpg(timeout, SIGINT); });
}

TEST(Server, GraceTimeoutForcesTheExit) {
  Server s("hi", {"--grace-ms", "300"});
  ASSERT_GT(s.port, 0);
  EXPECT_EQ(s.notify.recv(), "READY=1");
  auto clients = in_flight(s.port, 3, 60000);
  s.child->signal(SIGTERM);
  EXPECT_EQ(s.notify.recv(), "STOPPING=1");
  s.expect_killed_by(SIGTERM);
  for (auto &c : clients) EXPECT_EQ(c->line(), "");
}

TEST(Server, GraceTimerDoesNotCutAShortDrain) {
  Server s("hi", {"--grace-ms", "60000"});
  ASSERT_GT(s.port, 0);
  EXPECT_EQ(s.notify.recv(), "READY=1");
  auto clients = in_flight(s.port, 2, 200);
  s.child->signal(SIGTERM);
  for (auto &c : clients) EXPECT_EQ(c->line(), "done 200");
  s.expect_exit(0);
}

TEST(Server, SighupWithAGoodConfigChangesTheGreeting) {
  Server s("old greeting");
  ASSERT_GT(s.port, 0);
  EXPECT_EQ(s.notify.recv(), "READY=1");
  lc::Client c(s.port);
  EXPECT_EQ(c.ask("HELLO"), "old greeting");
  s.dir.write("server.conf", "greeting = new greeting\n");
  s.child->signal(SIGHUP);
  std::string m = s.notify.recv();
  EXPECT_TRUE(starts_with(m, "RELOADING=1\nMONOTONIC_USEC=")) << m;
  EXPECT_GT(atoll(m.c_str() + strlen("RELOADING=1\nMONOTONIC_USEC=")), 0);
  EXPECT_EQ(s.notify.recv(), "READY=1\nSTATUS=reloaded");
  EXPECT_EQ(c.ask("HELLO"), "new greeting");
  s.child->signal(SIGTERM);
  EXPECT_EQ(s.notify.recv(), "STOPPING=1");
  s.expect_exit(0);
}

TEST(Server, SighupWithABrokenConfigKeepsTheOldGreeting) {
  Server s("old greeting");
  ASSERT_GT(s.port, 0);
  EXPECT_EQ(s.notify.recv(), "READY=1");
  s.dir.write("server.conf", "greeting = half written\ncolour = blue\n");
  s.child->signal(SIGHUP);
  EXPECT_TRUE(starts_with(s.notify.recv(), "RELOADING=1\n"));
  std::string m = s.notify.recv();
  EXPECT_TRUE(starts_with(m, "READY=1\nSTATUS=reload failed: ")) << m;
  EXPECT_NE(m.find("unknown key 'colour'"), std::string::npos) << m;
  lc::Client c(s.port);
  EXPECT_EQ(c.ask("HELLO"), "old greeting");
  EXPECT_EQ(c.ask("SLEEP 10"), "done 10");

  s.dir.write("server.conf", "# greeting forgotten\n");
  s.child->signal(SIGHUP);
  EXPECT_TRUE(starts_with(s.notify.recv(), "RELOADING=1\n"));
  m = s.notify.recv();
  EXPECT_NE(m.find("no greeting"), std::string::npos) << m;
  EXPECT_EQ(c.ask("HELLO"), "old greeting");

  s.dir.write("server.conf", "greeting = fixed\n");
  s.child->signal(SIGHUP);
  EXPECT_TRUE(starts_with(s.notify.recv(), "RELOADING=1\n"));
  EXPECT_EQ(s.notify.recv(), "READY=1\nSTATUS=reloaded");
  EXPECT_EQ(c.ask("HELLO"), "fixed");
  s.child->signal(SIGTERM);
  s.expect_exit(0);
}

// n greeting requests as one string, without the last newline (send adds it).
std::string hellos(int n) {
  std::string s;
  for (int i = 0; i < n; i++) s += i ? "\nHELLO" : "HELLO";
  return s;
}

TEST(Server, AnswersARequestFollowedByAHalfClose) {
  Server s("hi");
  ASSERT_GT(s.port, 0);
  EXPECT_EQ(s.notify.recv(), "READY=1");
  lc::Client c(s.port);
  ASSERT_GE(c.fd, 0);
  ASSERT_TRUE(c.send("SLEEP 100"));
  ASSERT_EQ(shutdown(c.fd, SHUT_WR), 0);
  EXPECT_EQ(c.line(), "done 100");
  EXPECT_EQ(c.line(), "") << "then the server closes";
  s.child->signal(SIGTERM);
  s.expect_exit(0);
}

TEST(Server, AnswersARequestFollowedByAHalfCloseDuringTheDrain) {
  Server s("hi");
  ASSERT_GT(s.port, 0);
  EXPECT_EQ(s.notify.recv(), "READY=1");
  lc::Client c(s.port);
  ASSERT_GE(c.fd, 0);
  ASSERT_TRUE(c.send("SLEEP 300"));
  ASSERT_EQ(shutdown(c.fd, SHUT_WR), 0);
  s.child->signal(SIGTERM);
  EXPECT_EQ(c.line(), "done 300");
  EXPECT_EQ(c.line(), "");
  s.expect_exit(0);
}

TEST(Server, AnswersPipelinedRequestsBeyondItsBuffer) {
  Server s("hi");
  ASSERT_GT(s.port, 0);
  EXPECT_EQ(s.notify.recv(), "READY=1");
  lc::Client c(s.port);
  ASSERT_GE(c.fd, 0);
  ASSERT_TRUE(c.send(hellos(200))); // 1200 bytes in one write, the buffer holds 1024
  for (int i = 0; i < 200; i++) ASSERT_EQ(c.line(), "hi") << "reply " << i;
  EXPECT_EQ(c.ask("SLEEP 10"), "done 10") << "the connection still serves";
  s.child->signal(SIGTERM);
  s.expect_exit(0);
}

TEST(Server, PipelinedRequestsBeyondItsBufferWaitBehindASleep) {
  Server s("hi");
  ASSERT_GT(s.port, 0);
  EXPECT_EQ(s.notify.recv(), "READY=1");
  lc::Client c(s.port);
  ASSERT_GE(c.fd, 0);
  ASSERT_TRUE(c.send("SLEEP 300\n" + hellos(200)));
  EXPECT_EQ(c.line(), "done 300");
  for (int i = 0; i < 200; i++) ASSERT_EQ(c.line(), "hi") << "reply " << i;
  EXPECT_EQ(c.ask("SLEEP 10"), "done 10");
  s.child->signal(SIGTERM);
  s.expect_exit(0);
}

} // namespace
