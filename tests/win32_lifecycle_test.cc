// The lifecycle on Windows (under Wine): graceful_server drained by a real
// Ctrl+C on a console of the test's own, and the close event through the
// backend's test seam, where the cleanup must run before the process ends.
#include "support/support.h"
#include "support/win32_proc.h"
#include "xsig/lifecycle.h"
#include <gtest/gtest.h>
#include <winsock2.h>
#include <windows.h>

#include <fstream>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace {

constexpr int kWaitMs = 60000; // Wine's first conhost can take long to start

// A child sharing our stdin, its output read into a string.
class Proc : public xsigtest::WinProc {
public:
  explicit Proc(const std::string &cmd) : WinProc(cmd, 0, false, kWaitMs) {}
};

// The lifecycle helper; with stdout_stuck its stdout is a pipe nobody reads.
class LcChild : public xsigtest::WinProc {
public:
  LcChild(const std::string &cmd, bool stdout_stuck)
      : WinProc(cmd, 0, false, kWaitMs, stdout_stuck) {}
};

struct Winsock {
  Winsock() {
    WSADATA w;
    EXPECT_EQ(WSAStartup(MAKEWORD(2, 2), &w), 0);
  }
  ~Winsock() {
    WSACleanup();
  }
};

// A blocking TCP client to 127.0.0.1:port; s is INVALID_SOCKET on failure.
struct Client {
  SOCKET s = INVALID_SOCKET;
  int err = 0;
  explicit Client(int port) {
    s = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
    sockaddr_in a = {};
    a.sin_family = AF_INET;
    a.sin_port = htons((u_short)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    DWORD tmo = kWaitMs;
    setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, (const char *)&tmo, sizeof tmo);
    if (connect(s, (sockaddr *)&a, sizeof a) != 0) {
      err = WSAGetLastError();
      closesocket(s);
      s = INVALID_SOCKET;
    }
  }
  ~Client() {
    if (s != INVALID_SOCKET) closesocket(s);
  }
  bool send_line(const std::string &l) {
    std::string t = l + "\n";
    return send(s, t.data(), (int)t.size(), 0) == (int)t.size();
  }
  // One line without its end; "" on close, error or time-out.
  std::string line() {
    std::string r;
    char c;
    while (recv(s, &c, 1, 0) == 1) {
      if (c == '\n') return r;
      r += c;
    }
    return r.empty() ? "" : r + "<cut>";
  }
};

std::string temp_file(const char *name, const std::string &text) {
  char dir[MAX_PATH];
  GetTempPathA(sizeof dir, dir);
  std::string p = std::string(dir) + name + std::to_string(GetCurrentProcessId());
  std::ofstream(p) << text;
  return p;
}

void ignore(const xsig_event_t *, void *) {}

TEST(Win32Lifecycle, RealCtrlCDrainsTheGracefulServer) {
  // A console of our own (ctest gives none): the server shares it, and the
  // Ctrl+C reaches us too, so we watch SIGINT to live through it.
  FreeConsole();
  ASSERT_TRUE(AllocConsole()) << GetLastError();
  ASSERT_EQ(xsig_init(), 0);
  ASSERT_EQ(xsig_watch(nullptr, SIGINT, ignore, nullptr, 0, nullptr), 0);
  Winsock ws;
  std::string conf = temp_file("xsig-lc-server-", "greeting = hi from windows\n");
  Proc srv("\"" XSIG_TEST_BINARY_DIR "/examples/graceful_server.exe\" --port 0 --config \"" + conf +
           "\"");
  ASSERT_TRUE(srv.started());
  const std::string prefix = "listening on 127.0.0.1:";
  // stderr shares the pipe: it may say first that SIGHUP is not here.
  ASSERT_TRUE(srv.wait_output(prefix)) << srv.output();
  ASSERT_TRUE(xsigtest::wait_until([&] {
    std::string o = srv.output();
    return o.find('\n', o.find(prefix)) != std::string::npos;
  }));
  std::string out = srv.output();
  out = out.substr(out.find(prefix));
  int port = atoi(out.c_str() + prefix.size());
  ASSERT_GT(port, 0);
  Client hello(port);
  ASSERT_TRUE(hello.send_line("HELLO"));
  EXPECT_EQ(hello.line(), "hi from windows");
  std::vector<std::unique_ptr<Client>> busy;
  for (int i = 0; i < 3; i++) {
    busy.emplace_back(new Client(port));
    ASSERT_TRUE(busy.back()->send_line("SLEEP 4000"));
  }
  ASSERT_TRUE(GenerateConsoleCtrlEvent(CTRL_C_EVENT, 0)) << GetLastError();
  ASSERT_TRUE(srv.wait_output("SIGINT: draining")) << srv.output();
  EXPECT_TRUE(xsigtest::wait_until(
      [&] {
        Client c(port);
        return c.s == INVALID_SOCKET && c.err == WSAECONNREFUSED;
      },
      kWaitMs));
  for (auto &c : busy) EXPECT_EQ(c->line(), "done 4000");
  EXPECT_EQ(srv.wait_exit(), 0) << srv.output();
  EXPECT_NE(srv.output().find("drained"), std::string::npos) << srv.output();
  DeleteFileA(conf.c_str());
  xsig_shutdown();
}

// The close event comes through the backend's test seam: the helper calls the
// handler routine from a new thread, as Windows does, and when the routine
// returns TRUE that thread ends the process with 43, as Windows would. Status
// 43 or "handler returned" therefore means Windows would have cut the program
// short. Windows runs console handlers one at a time: while this close is
// held, no later console event reaches the process.
LcChild lc_child(const char *mode, bool stdout_stuck = false) {
  return LcChild("\"" + xsigtest::helper_path("win32_lc_child") + "\" " + mode, stdout_stuck);
}

const std::string kSigterm = std::to_string(SIGTERM);

TEST(Win32Lifecycle, CloseRunsTheCleanupBeforeTheProcessEnds) {
  auto c = lc_child("close");
  ASSERT_TRUE(c.started());
  // 7 is the program's own status: Windows did not end it first, and the held
  // handler thread never returned.
  EXPECT_EQ(c.wait_exit(), 7) << c.output();
  EXPECT_EQ(c.output(), "on_stop " + kSigterm + "\nheld\ncleanup\n");
}

// A loader lock held by a stuck thread delays an exit that needs it (ExitProcess
// does), so a close thread that xsig let go would end the process first.
TEST(Win32Lifecycle, GracefulExitBySignalNeverLetsTheHeldCloseReturn) {
  auto c = lc_child("close-signal");
  ASSERT_TRUE(c.started());
  EXPECT_EQ(c.wait_exit(), (long long)STATUS_CONTROL_C_EXIT) << c.output();
  EXPECT_EQ(c.output(), "on_stop " + kSigterm + "\nheld\ncleanup\nloader lock held\n");
}

// A second request while a close is held: on Windows it cannot be a console
// event (they are serialised), but it can be xsig_raise.
TEST(Win32Lifecycle, SecondRequestWhileTheCloseIsHeldForcesTheExit) {
  auto c = lc_child("close-raise");
  ASSERT_TRUE(c.started());
  EXPECT_EQ(c.wait_exit(), (long long)STATUS_CONTROL_C_EXIT) << c.output();
  EXPECT_EQ(c.output(), "stop seen " + kSigterm + "\nheld\nforced " + kSigterm + "\n");
}

TEST(Win32Lifecycle, GraceTimeForcesTheExitWhileTheCloseIsHeld) {
  auto c = lc_child("close-grace");
  ASSERT_TRUE(c.started());
  EXPECT_EQ(c.wait_exit(), (long long)STATUS_CONTROL_C_EXIT) << c.output();
  EXPECT_EQ(c.output(), "stop seen " + kSigterm + "\nheld\nforced " + kSigterm + "\n");
}

// ExitProcess would run the C runtime's detach code, whose flush of stdout
// blocks for good on a pipe nobody reads.
TEST(Win32Lifecycle, ForcedExitEndsTheProcessWhateverStdioHolds) {
  auto c = lc_child("stuck-force", true);
  ASSERT_TRUE(c.started());
  EXPECT_EQ(c.wait_exit(), (long long)STATUS_CONTROL_C_EXIT) << c.output();
  EXPECT_EQ(c.output(), "stop requested\nforced " + kSigterm + "\n");
}

} // namespace
