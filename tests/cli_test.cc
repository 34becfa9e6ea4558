// The xsig command-line tool end to end: real child processes, real signals.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#if defined(__linux__)
#include <sys/syscall.h>
#endif

#include <cerrno>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "support/support.h"
#include "xsig/xsig.h"

namespace {

// What a child may be given before exec: dispositions and credentials survive
// exec in the ways the tests rely on.
struct ChildSetup {
  std::vector<int> ignore; // SIG_IGN before exec (inherited)
  bool drop_root = false;  // become 'nobody' before exec when root
};

// One run of the CLI with its stdout and stderr captured through pipes.
class Cli {
public:
  explicit Cli(std::vector<std::string> args, const ChildSetup &setup = ChildSetup()) {
    std::string exe = xsigtest::cli_path();
    std::vector<char *> argv;
    argv.push_back(const_cast<char *>(exe.c_str()));
    for (auto &a : args) argv.push_back(const_cast<char *>(a.c_str()));
    argv.push_back(nullptr);
    int out[2], err[2];
    if (pipe2(out, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0)
      ADD_FAILURE() << "pipe: " << errno;
    pid_ = fork();
    if (pid_ == 0) {
      dup2(out[1], 1);
      dup2(err[1], 2);
      close(out[0]), close(out[1]), close(err[0]), close(err[1]);
      for (int s : setup.ignore) signal(s, SIG_IGN);
      if (setup.drop_root && geteuid() == 0 && (setgid(65534) != 0 || setuid(65534) != 0))
        _exit(99);
      execv(exe.c_str(), argv.data());
      _exit(98);
    }
    close(out[1]), close(err[1]);
    out_ = out[0], err_ = err[0];
    fcntl(out_, F_SETFL, O_NONBLOCK);
    fcntl(err_, F_SETFL, O_NONBLOCK);
  }
  ~Cli() {
    if (!done_ && pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    close(out_), close(err_);
  }
  pid_t pid() const {
    return pid_;
  }

  // Waits until stderr holds a whole line containing text.
  bool wait_stderr(const std::string &text) {
    return xsigtest::wait_until([&] {
      pump();
      size_t at = err_buf_.find(text);
      return at != std::string::npos && err_buf_.find('\n', at) != std::string::npos;
    });
  }
  // Waits for the child to exit; its output is read to the end.
  bool finish() {
    bool ok = xsigtest::wait_until([&] {
      pump();
      if (!done_ && waitpid(pid_, &status_, WNOHANG) == pid_) done_ = true;
      return done_;
    });
    if (ok) drain();
    return ok;
  }
  // Exit status, or -signal when the child was killed by one.
  int code() const {
    if (WIFEXITED(status_)) return WEXITSTATUS(status_);
    if (WIFSIGNALED(status_)) return -WTERMSIG(status_);
    return -1000;
  }
  const std::string &out() const {
    return out_buf_;
  }
  const std::string &err() const {
    return err_buf_;
  }

private:
  static void read_some(int fd, std::string &into) {
    char buf[4096];
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) > 0) into.append(buf, (size_t)n);
  }
  void pump() {
    read_some(out_, out_buf_);
    read_some(err_, err_buf_);
  }
  // After exit the pipes hold everything: read until EOF.
  void drain() {
    fcntl(out_, F_SETFL, 0);
    fcntl(err_, F_SETFL, 0);
    pump();
  }
  pid_t pid_ = -1;
  int out_ = -1, err_ = -1, status_ = 0;
  bool done_ = false;
  std::string out_buf_, err_buf_;
};

// Runs the CLI to completion.
struct Result {
  int code;
  std::string out, err;
};
Result run(std::vector<std::string> args, const ChildSetup &setup = ChildSetup()) {
  Cli c(std::move(args), setup);
  EXPECT_TRUE(c.finish()) << "the CLI did not exit";
  return {c.code(), c.out(), c.err()};
}

std::vector<std::string> lines(const std::string &s) {
  std::vector<std::string> v;
  std::istringstream in(s);
  for (std::string l; std::getline(in, l);) v.push_back(l);
  return v;
}

std::vector<std::string> words(const std::string &s) {
  std::vector<std::string> v;
  std::istringstream in(s);
  for (std::string w; in >> w;) v.push_back(w);
  return v;
}

// 'xsig list' as NAME -> its columns.
std::map<std::string, std::vector<std::string>> table(const std::string &out) {
  std::map<std::string, std::vector<std::string>> t;
  auto ls = lines(out);
  EXPECT_FALSE(ls.empty());
  if (ls.empty()) return t;
  EXPECT_EQ(words(ls[0]),
            (std::vector<std::string>{"NAME", "NUMBER", "SUPPORT", "PORTABLE", "DISPOSITION"}));
  for (size_t i = 1; i < ls.size(); i++) {
    auto w = words(ls[i]);
    EXPECT_EQ(w.size(), 5u) << ls[i];
    if (w.size() == 5) t[w[0]] = w;
  }
  return t;
}

void expect_one_line(const std::string &s) {
  EXPECT_FALSE(s.empty());
  EXPECT_EQ(lines(s).size(), 1u) << s;
}

#if defined(__SANITIZE_THREAD__)
#define CLI_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define CLI_TSAN 1
#endif
#endif

// True once the thread of pid sits in poll()/ppoll().
bool blocked_in_poll(pid_t pid) {
#if defined(__linux__)
  std::ifstream f("/proc/" + std::to_string(pid) + "/syscall");
  long nr = -1;
  if (!(f >> nr)) return false;
#ifdef SYS_poll
  if (nr == SYS_poll) return true;
#endif
  return nr == SYS_ppoll;
#else
  (void)pid;
  return true;
#endif
}

// The readiness line is the contract: once it is out, a signal is never lost.
// ThreadSanitizer's runtime (LLVM 14's and GCC 12's) breaks that for itself: it defers an
// asynchronous signal that lands outside a blocking call and, now and then,
// never runs the handler at all (a bare sigaction+poll program shows it too).
// Signals that land inside poll() run at once, so under TSan the tests also
// wait for the waiter to block there; every other build sends straight away.
void ready_for_signal(Cli &w) {
#ifdef CLI_TSAN
  EXPECT_TRUE(xsigtest::wait_until([&] { return blocked_in_poll(w.pid()); }));
#else
  (void)w;
  (void)blocked_in_poll;
#endif
}

// A pid that belonged to a process that has exited and been reaped.
pid_t dead_pid() {
  pid_t p = fork();
  if (p == 0) _exit(0);
  waitpid(p, nullptr, 0);
  return p;
}

TEST(Cli, ListShowsSupportPortabilityAndDispositions) {
  Result r = run({"list"});
  ASSERT_EQ(r.code, 0) << r.err;
  auto t = table(r.out);
  ASSERT_TRUE(t.count("SIGINT") && t.count("SIGTERM") && t.count("SIGKILL") && t.count("SIGUSR1"));
  EXPECT_EQ(t["SIGINT"][1], std::to_string(SIGINT));
  EXPECT_EQ(t["SIGINT"][2], "native");
  EXPECT_EQ(t["SIGINT"][3], "yes");
  EXPECT_EQ(t["SIGTERM"][1], std::to_string(SIGTERM));
  EXPECT_EQ(t["SIGTERM"][3], "yes");
  EXPECT_EQ(t["SIGKILL"][2], "unsupported");
  EXPECT_EQ(t["SIGKILL"][3], "no");
  EXPECT_EQ(t["SIGSTOP"][2], "unsupported");
  EXPECT_EQ(t["SIGSEGV"][2], "unsupported");
  EXPECT_EQ(t["SIGUSR1"][2], "native");
  EXPECT_EQ(t["SIGUSR1"][3], "no");
  EXPECT_EQ(t["SIGUSR1"][4], "default");
  // Every signal xsig_signals() knows is listed, and nothing else.
  EXPECT_EQ(t.size(), (size_t)xsig_signals(nullptr, 0));
  for (auto &kv : t) {
    EXPECT_EQ(xsig_from_name(kv.first.c_str()), std::stoi(kv.second[1])) << kv.first;
    EXPECT_TRUE(kv.second[4] == "default" || kv.second[4] == "ignored" || kv.second[4] == "handled")
        << kv.first << " " << kv.second[4];
  }
}

TEST(Cli, ListShowsSignalsIgnoredBeforeExecAsIgnored) {
  ChildSetup s;
  s.ignore = {SIGUSR2, SIGHUP};
  Result r = run({"list"}, s);
  ASSERT_EQ(r.code, 0) << r.err;
  auto t = table(r.out);
  ASSERT_TRUE(t.count("SIGUSR2") && t.count("SIGHUP") && t.count("SIGUSR1"));
  EXPECT_EQ(t["SIGUSR2"][4], "ignored");
  EXPECT_EQ(t["SIGHUP"][4], "ignored");
  EXPECT_EQ(t["SIGUSR1"][4], "default");
}

TEST(Cli, NamesMapsEveryNumberToItsName) {
  Result r = run({"names"});
  ASSERT_EQ(r.code, 0) << r.err;
  std::map<int, std::string> m;
  for (auto &l : lines(r.out)) {
    auto w = words(l);
    ASSERT_EQ(w.size(), 2u) << l;
    m[std::stoi(w[0])] = w[1];
  }
  EXPECT_EQ(m.size(), (size_t)xsig_signals(nullptr, 0));
  EXPECT_EQ(m[SIGINT], "SIGINT");
  EXPECT_EQ(m[SIGTERM], "SIGTERM");
  EXPECT_EQ(m[SIGUSR1], "SIGUSR1");
  EXPECT_EQ(m[SIGKILL], "SIGKILL");
  for (auto &kv : m) EXPECT_STREQ(xsig_name(kv.first), kv.second.c_str());
}

TEST(Cli, WaitPrintsTheSignalAndTheSendersPid) {
  Cli w({"wait", "USR1", "--timeout", "60"});
  ASSERT_TRUE(w.wait_stderr("waiting for SIGUSR1 (pid " + std::to_string(w.pid()) + ")"))
      << w.err();
  ready_for_signal(w);
  ASSERT_EQ(kill(w.pid(), SIGUSR1), 0);
  ASSERT_TRUE(w.finish());
  EXPECT_EQ(w.code(), 0) << w.err();
  EXPECT_EQ(w.out(), "SIGUSR1 from pid " + std::to_string(getpid()) + "\n");
}

TEST(Cli, WaitOnSeveralSignalsReportsTheOneThatCame) {
  // Names in any case, with or without SIG, and numbers.
  Cli w({"wait", "usr1", std::to_string(SIGUSR2), "SIGterm", "--timeout=60"});
  ASSERT_TRUE(w.wait_stderr("waiting for SIGUSR1 SIGUSR2 SIGTERM")) << w.err();
  ready_for_signal(w);
  ASSERT_EQ(kill(w.pid(), SIGTERM), 0);
  ASSERT_TRUE(w.finish());
  // Caught, not killed by it.
  EXPECT_EQ(w.code(), 0) << w.err();
  EXPECT_EQ(w.out(), "SIGTERM from pid " + std::to_string(getpid()) + "\n");
}

TEST(Cli, WaitLeavesOtherSignalsAlone) {
  // An unwatched signal keeps its inherited disposition: ignored here, so the
  // wait goes on and reports the watched one that follows.
  ChildSetup s;
  s.ignore = {SIGUSR2};
  Cli w({"wait", "USR1", "--timeout", "60"}, s);
  ASSERT_TRUE(w.wait_stderr("waiting for SIGUSR1")) << w.err();
  ready_for_signal(w);
  ASSERT_EQ(kill(w.pid(), SIGUSR2), 0);
  ASSERT_EQ(kill(w.pid(), SIGUSR1), 0);
  ASSERT_TRUE(w.finish());
  EXPECT_EQ(w.code(), 0) << w.err();
  EXPECT_EQ(w.out(), "SIGUSR1 from pid " + std::to_string(getpid()) + "\n");
}

TEST(Cli, WaitTimesOutWith124) {
  Cli w({"wait", "USR1", "--timeout", "1"});
  ASSERT_TRUE(w.finish());
  EXPECT_EQ(w.code(), 124);
  EXPECT_EQ(w.out(), "");
  EXPECT_NE(w.err().find("timed out"), std::string::npos) << w.err();
}

// Times past what 64 bits of milliseconds hold are "very long", not an error
// and not an overflow (which UBSan reports on the old parser for the first).
TEST(Cli, WaitTakesAHugeTimeoutAsTheLongestOne) {
  for (const char *t : {"9223372036854776", "9223372036854775.9", "9223372036854775.807001",
                        "99999999999999999999", "340282366920938463463374607431768211456.5"}) {
    SCOPED_TRACE(t);
    Cli w({"wait", "USR1", "--timeout", t});
    ASSERT_TRUE(w.wait_stderr("waiting for SIGUSR1")) << w.err();
    ready_for_signal(w);
    ASSERT_EQ(kill(w.pid(), SIGUSR1), 0);
    ASSERT_TRUE(w.finish());
    EXPECT_EQ(w.code(), 0) << w.err();
    EXPECT_EQ(w.out(), "SIGUSR1 from pid " + std::to_string(getpid()) + "\n");
  }
}

TEST(Cli, WaitRefusesSignalsItCannotWatch) {
  for (const char *sig : {"KILL", "STOP", "SEGV"}) {
    Result r = run({"wait", sig, "--timeout", "60"});
    EXPECT_EQ(r.code, 2) << sig;
    expect_one_line(r.err);
    EXPECT_EQ(r.out, "");
  }
}

TEST(Cli, SendReachesAChildRunningWait) {
  Cli w({"wait", "USR2", "--timeout", "60"});
  ASSERT_TRUE(w.wait_stderr("waiting for SIGUSR2")) << w.err();
  ready_for_signal(w);
  Cli s({"send", std::to_string(w.pid()), "sigusr2"});
  ASSERT_TRUE(s.finish());
  EXPECT_EQ(s.code(), 0) << s.err();
  EXPECT_EQ(s.out(), "");
  ASSERT_TRUE(w.finish());
  EXPECT_EQ(w.code(), 0) << w.err();
  // The sender is the 'xsig send' process itself.
  EXPECT_EQ(w.out(), "SIGUSR2 from pid " + std::to_string(s.pid()) + "\n");
}

TEST(Cli, SendByNumberKillsAnUnwatchingChild) {
  Cli w({"wait", "USR1", "--timeout", "60"});
  ASSERT_TRUE(w.wait_stderr("waiting for SIGUSR1")) << w.err();
  ready_for_signal(w);
  Result s = run({"send", std::to_string(w.pid()), std::to_string(SIGTERM)});
  EXPECT_EQ(s.code, 0) << s.err;
  ASSERT_TRUE(w.finish());
  EXPECT_EQ(w.code(), -SIGTERM);
}

TEST(Cli, SendSignalZeroChecksTheProcessExists) {
  Result alive = run({"send", std::to_string(getpid()), "0"});
  EXPECT_EQ(alive.code, 0) << alive.err;
  Result dead = run({"send", std::to_string(dead_pid()), "0"});
  EXPECT_EQ(dead.code, 1);
  expect_one_line(dead.err);
}

TEST(Cli, SendToADeadPidFailsWithNoSuchProcess) {
  pid_t p = dead_pid();
  Result r = run({"send", std::to_string(p), "TERM"});
  EXPECT_EQ(r.code, 1);
  expect_one_line(r.err);
  EXPECT_NE(r.err.find("no such process"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(std::to_string(p)), std::string::npos) << r.err;
}

// The largest pid the parser takes is INT64_MAX itself (no process has it,
// so "no such process"), and one more is a usage error. The fuzz target
// fuzz_pid found the parser refusing the last eight values below the limit.
TEST(Cli, SendTakesPidsUpToInt64Max) {
  Result r = run({"send", "9223372036854775807", "0"});
  EXPECT_EQ(r.code, 1) << r.err;
  EXPECT_NE(r.err.find("no such process"), std::string::npos) << r.err;
  r = run({"send", "9223372036854775808", "0"});
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_NE(r.err.find("bad pid"), std::string::npos) << r.err;
}

TEST(Cli, SendWithoutPermissionFailsWithNotPermitted) {
  // Signal 0, so nothing is delivered even if the check went wrong. As root
  // the CLI becomes 'nobody' and targets this (root's) test process; as an
  // ordinary user it targets init, which belongs to someone else.
  ChildSetup s;
  s.drop_root = true;
  std::string target = geteuid() == 0 ? std::to_string(getpid()) : "1";
  Result r = run({"send", target, "0"}, s);
  EXPECT_EQ(r.code, 1) << r.err;
  expect_one_line(r.err);
  EXPECT_NE(r.err.find("not permitted"), std::string::npos) << r.err;
}

TEST(Cli, BadSignalOrPidIsAOneLineUsageError) {
  std::string me = std::to_string(getpid());
  std::vector<std::vector<std::string>> bad = {
      {"send", me, "NOPE"},
      {"send", me, "SIGUSR1x"},
      {"send", me, ""},
      {"send", "abc", "USR1"},
      {"send", "0", "TERM"},
      {"send", "-1", "TERM"},
      {"send", "12x", "TERM"},
      {"send", me},
      {"wait", "NOPE"},
      {"wait", "0"},
      {"wait"},
      {"wait", "USR1", "--timeout", "soon"},
      {"wait", "USR1", "--timeout"},
      {"wait", "USR1", "--timeout", "99999999999999999999x"},
      {"wait", "USR1", "--timeout", "1.2.3"},
      {"wait", "USR1", "--timeout", "."},
      {"list", "extra"},
      {"run", "-x", "--", "true"},
      {"run", "-gx", "--", "true"},
      {"run", "-ge"},
      {"run", "-ve256", "--", "true"},
      {"frobnicate"},
  };
  for (auto &args : bad) {
    Result r = run(args);
    std::string what;
    for (auto &a : args) what += a + " ";
    EXPECT_EQ(r.code, 2) << what;
    expect_one_line(r.err);
    EXPECT_EQ(r.out, "") << what;
  }
}

// Short options grouped as getopt (and tini) take them: -g and -v, then -e
// with its value in the next word. The child's USR1 to the supervisor comes
// back to the child's group (-g, said on stderr by -v), and its exit 3 is
// mapped to 0 (-e 3). The child sends until the trap runs: ThreadSanitizer's
// runtime in the supervisor may drop a signal that lands outside its poll
// (see ready_for_signal below), and it sent the first one at once.
TEST(Cli, RunTakesGroupedShortOptions) {
  Result r = run({"run", "-gve", "3", "--", "sh", "-c",
                  "trap 'exit 3' USR1; while :; do kill -USR1 $PPID; sleep 0.05; done"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find("forwarded SIGUSR1 x"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(" to process group "), std::string::npos) << r.err;
}

TEST(Cli, HelpOnEveryCommand) {
  for (std::vector<std::string> args : std::vector<std::vector<std::string>>{{"--help"},
                                                                             {"list", "--help"},
                                                                             {"names", "--help"},
                                                                             {"send", "--help"},
                                                                             {"wait", "--help"}}) {
    Result r = run(args);
    EXPECT_EQ(r.code, 0) << args[0];
    EXPECT_EQ(r.out.rfind("usage: xsig", 0), 0u) << r.out;
    EXPECT_EQ(r.err, "");
  }
  Result none = run({});
  EXPECT_EQ(none.code, 2);
  EXPECT_NE(none.err.find("usage: xsig"), std::string::npos);
}

} // namespace
