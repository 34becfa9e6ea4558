// POSIX test plumbing shared by the lifecycle tests: a datagram socket standing
// in for systemd's $NOTIFY_SOCKET, child processes with a stdout pipe, and
// line-oriented TCP clients. Every wait has a generous time-out that ends early.
#pragma once
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <functional>
#include <string>
#include <vector>

#include "support/support.h"

extern char **environ;

#if defined(__SANITIZE_THREAD__)
#define LC_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define LC_TSAN 1
#endif
#endif

namespace lc {

const int kLong = 20000; // ms: an event that should come

// A temporary directory, removed with its files.
struct TempDir {
  std::string path;
  TempDir() {
    char tmpl[] = "/tmp/xsig-lc-XXXXXX";
    path = mkdtemp(tmpl);
  }
  ~TempDir() {
    std::string cmd = "rm -rf '" + path + "'";
    if (system(cmd.c_str()) != 0) perror("rm");
  }
  std::string file(const char *name) const {
    return path + "/" + name;
  }
  std::string write(const char *name, const std::string &text) const {
    std::string f = file(name);
    FILE *fp = fopen(f.c_str(), "w");
    fputs(text.c_str(), fp);
    fclose(fp);
    return f;
  }
};

// A bound AF_UNIX datagram socket; env() is the value for $NOTIFY_SOCKET.
struct NotifySock {
  int fd = -1;
  std::string env;
  // path: a file system path, or a name starting with '@' for the abstract namespace.
  explicit NotifySock(const std::string &path) : env(path) {
    fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un a;
    memset(&a, 0, sizeof a);
    a.sun_family = AF_UNIX;
    memcpy(a.sun_path, path.data(), path.size());
    if (path[0] == '@') a.sun_path[0] = '\0';
    socklen_t len =
        (socklen_t)(offsetof(struct sockaddr_un, sun_path) + path.size() + (path[0] == '/'));
    if (bind(fd, (struct sockaddr *)&a, len) != 0) perror("bind notify");
  }
  ~NotifySock() {
    close(fd);
  }
  // The next datagram, or "" after timeout_ms.
  std::string recv(int timeout_ms = kLong) {
    struct pollfd p = {fd, POLLIN, 0};
    long long end = xsigtest::now_ms() + timeout_ms;
    for (;;) {
      int left = (int)(end - xsigtest::now_ms());
      if (left < 0) return "";
      int r = poll(&p, 1, left);
      if (r > 0) break;
      if (r == 0) return "";
    }
    char buf[4096];
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    return n > 0 ? std::string(buf, (size_t)n) : "";
  }
};

// Reads one line from fd (without the newline); "" on EOF or time-out.
inline std::string read_line(int fd, int timeout_ms = kLong) {
  std::string s;
  long long end = xsigtest::now_ms() + timeout_ms;
  for (;;) {
    int left = (int)(end - xsigtest::now_ms());
    struct pollfd p = {fd, POLLIN, 0};
    if (left < 0 || poll(&p, 1, left) == 0) return "";
    char c;
    ssize_t n = read(fd, &c, 1);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return s.empty() ? "" : s + "<cut>"; // a line without its end is not whole
    if (c == '\n') return s;
    s += c;
  }
}

// Whether a child stays in the test's process group or leads one of its own
// (so that killpg() on it reaches it and nothing of the test).
enum class Group { Inherit, Own };

// A child process with its stdout on a pipe. argv[0] is looked up in $PATH
// when it has no slash (timeout, nohup, sh).
struct Child {
  pid_t pid = -1;
  int out = -1;
  int status = 0;
  bool reaped = false;
  Child(const std::vector<std::string> &argv, const std::vector<std::string> &extra_env = {},
        Group group = Group::Inherit) {
    int p[2];
    if (pipe(p) != 0) return;
    std::vector<char *> av, ev;
    for (auto &a : argv) av.push_back(const_cast<char *>(a.c_str()));
    av.push_back(nullptr);
    for (char **e = environ; *e; e++)
      if (strncmp(*e, "NOTIFY_SOCKET=", 14) != 0) ev.push_back(*e);
    for (auto &e : extra_env) ev.push_back(const_cast<char *>(e.c_str()));
    ev.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, p[1], 1);
    posix_spawn_file_actions_addclose(&fa, p[0]);
    posix_spawnattr_t at;
    posix_spawnattr_init(&at);
    if (group == Group::Own) {
      posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP);
      posix_spawnattr_setpgroup(&at, 0);
    }
    if (posix_spawnp(&pid, av[0], &fa, &at, av.data(), ev.data()) != 0) pid = -1;
    posix_spawnattr_destroy(&at);
    posix_spawn_file_actions_destroy(&fa);
    close(p[1]);
    out = p[0];
  }
  ~Child() {
    if (pid > 0 && !reaped) {
      if (getpgid(pid) == pid) killpg(pid, SIGKILL); // a wrapper's command too (timeout)
      kill(pid, SIGKILL);
      waitpid(pid, nullptr, 0);
    }
    if (out >= 0) close(out);
  }
  std::string line(int timeout_ms = kLong) {
    return read_line(out, timeout_ms);
  }
  void signal(int sig) {
    kill(pid, sig);
  }
  // True once the child has ended; status then holds its wait status.
  bool wait(int timeout_ms = kLong) {
    return xsigtest::wait_until(
        [&] {
          if (reaped) return true;
          if (waitpid(pid, &status, WNOHANG) == pid) reaped = true;
          return reaped;
        },
        timeout_ms);
  }
  bool alive() {
    if (reaped) return false;
    if (waitpid(pid, &status, WNOHANG) == pid) reaped = true;
    return !reaped;
  }
};

// Runs send() and returns the child's next line. ThreadSanitizer's runtime
// sometimes never runs the handler of a signal from another process (shown
// without xsig; see posix_signal_test.cc): under TSan only, a long silence
// means the signal was dropped and it is sent again.
inline std::string after(Child &c, const std::function<void()> &send) {
#ifdef LC_TSAN
  for (int i = 0; i < 5; i++) {
    send();
    std::string l = c.line(8000);
    if (!l.empty()) return l;
  }
  return "";
#else
  send();
  return c.line();
#endif
}

inline std::string after(Child &c, int sig) {
  return after(c, [&] { c.signal(sig); });
}

// A person who means a second request presses again while nothing seems to
// happen: sends sig every 50 ms until the child says a line, which is returned
// ("" when none came in timeout_ms).
inline std::string press_until_line(Child &c, int sig, int timeout_ms = kLong) {
  long long end = xsigtest::now_ms() + timeout_ms;
  while (xsigtest::now_ms() < end) {
    c.signal(sig);
    std::string l = c.line(50);
    if (!l.empty()) return l;
  }
  return "";
}

// A TCP connection to 127.0.0.1:port; fd is -1 and err holds errno on failure.
struct Client {
  int fd = -1;
  int err = 0;
  explicit Client(int port) {
    fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((unsigned short)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
      err = errno;
      close(fd);
      fd = -1;
    }
  }
  ~Client() {
    if (fd >= 0) close(fd);
  }
  bool send(const std::string &line) {
    std::string s = line + "\n";
    return ::send(fd, s.data(), s.size(), MSG_NOSIGNAL) == (ssize_t)s.size();
  }
  std::string line(int timeout_ms = kLong) {
    return read_line(fd, timeout_ms);
  }
  std::string ask(const std::string &req) {
    return send(req) ? line() : "";
  }
};

} // namespace lc
