// The Windows wakeup handle is a SOCKET that select() and WSAPoll() can wait
// on, one per context, and each context sees every delivery of what it
// watches. Events come through the console handler routine, called from a new
// thread as Windows calls it.
#include "support/support.h"
#include "win32/win32_int.h"
#include "xsig/xsig.h"
#include <gtest/gtest.h>

#include <iphlpapi.h>

#include <atomic>
#include <set>
#include <thread>
#include <utility>
#include <vector>

namespace {

struct Winsock {
  Winsock() {
    WSADATA wd;
    EXPECT_EQ(WSAStartup(MAKEWORD(2, 2), &wd), 0);
  }
  ~Winsock() {
    WSACleanup();
  }
};

// 1 when readable within timeout_ms, 0 when not, -1 on a select error.
int readable(xsig_handle_t h, int timeout_ms) {
  fd_set set;
  FD_ZERO(&set);
  FD_SET((SOCKET)h, &set);
  timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
  int r = select(0, &set, nullptr, nullptr, &tv);
  return r == SOCKET_ERROR ? -1 : r;
}

void count_cb(const xsig_event_t *ev, void *user) {
  *static_cast<std::atomic<unsigned> *>(user) += ev->count;
}

DWORD WINAPI call_handler(void *arg) {
  return xsig__win32_console_handler((DWORD)(uintptr_t)arg) ? 1 : 0;
}

void console_event(DWORD type) {
  HANDLE t = CreateThread(nullptr, 0, call_handler, (void *)(uintptr_t)type, 0, nullptr);
  ASSERT_TRUE(t);
  ASSERT_EQ(WaitForSingleObject(t, 10000), WAIT_OBJECT_0);
  CloseHandle(t);
}

} // namespace

TEST(Win32Wakeup, SocketBecomesReadableForSelectAndDispatchDrainsIt) {
  Winsock ws;
  ASSERT_EQ(xsig_init(), 0);
  std::atomic<unsigned> n{0};
  ASSERT_EQ(xsig_watch(nullptr, SIGBREAK, count_cb, &n, 0, nullptr), 0);
  xsig_handle_t h = xsig_wakeup_handle(nullptr);
  ASSERT_NE(h, (xsig_handle_t)INVALID_SOCKET);
  EXPECT_EQ(readable(h, 0), 0);
  console_event(CTRL_BREAK_EVENT);
  ASSERT_EQ(readable(h, 10000), 1);
  EXPECT_EQ(xsig_pending(nullptr, SIGBREAK), 1u);
  EXPECT_EQ(xsig_dispatch(nullptr), 1);
  EXPECT_EQ(n, 1u);
  EXPECT_EQ(readable(h, 0), 0);
  // WSAPoll sees the same socket.
  console_event(CTRL_BREAK_EVENT);
  WSAPOLLFD pfd = {(SOCKET)h, POLLRDNORM, 0};
  ASSERT_EQ(WSAPoll(&pfd, 1, 10000), 1);
  EXPECT_TRUE(pfd.revents & POLLRDNORM);
  EXPECT_EQ(xsig_dispatch(nullptr), 1);
  EXPECT_EQ(n, 2u);
  xsig_shutdown();
}

TEST(Win32Wakeup, EachContextGetsItsOwnEvents) {
  Winsock ws;
  xsig_ctx_t *a, *b;
  ASSERT_EQ(xsig_ctx_new(&a), 0);
  ASSERT_EQ(xsig_ctx_new(&b), 0);
  std::atomic<unsigned> na{0}, nb{0};
  ASSERT_EQ(xsig_watch(a, SIGINT, count_cb, &na, 0, nullptr), 0);
  ASSERT_EQ(xsig_watch(b, SIGINT, count_cb, &nb, 0, nullptr), 0);
  ASSERT_NE(xsig_wakeup_handle(a), xsig_wakeup_handle(b));
  console_event(CTRL_C_EVENT);
  ASSERT_EQ(readable(xsig_wakeup_handle(a), 10000), 1);
  ASSERT_EQ(readable(xsig_wakeup_handle(b), 10000), 1);
  // Dispatching a consumes nothing of b's.
  EXPECT_EQ(xsig_dispatch(a), 1);
  EXPECT_EQ(na, 1u);
  EXPECT_EQ(nb, 0u);
  EXPECT_EQ(xsig_pending(b, SIGINT), 1u);
  EXPECT_EQ(xsig_wait(b, 10000), 1);
  EXPECT_EQ(nb, 1u);
  // A context that does not watch the signal is not woken.
  ASSERT_EQ(xsig_watch(a, SIGTERM, count_cb, &na, 0, nullptr), 0);
  ASSERT_EQ(xsig_raise(SIGTERM), 0);
  ASSERT_EQ(readable(xsig_wakeup_handle(a), 10000), 1);
  EXPECT_EQ(readable(xsig_wakeup_handle(b), 0), 0);
  xsig_ctx_free(a);
  xsig_ctx_free(b);
}

TEST(Win32Wakeup, WaitReturnsOnAnEventFromAnotherThreadAndTimesOutWithout) {
  ASSERT_EQ(xsig_init(), 0);
  std::atomic<unsigned> n{0};
  ASSERT_EQ(xsig_watch(nullptr, SIGTERM, count_cb, &n, 0, nullptr), 0);
  EXPECT_EQ(xsig_wait(nullptr, 30), 0);
  HANDLE t =
      CreateThread(nullptr, 0, call_handler, (void *)(uintptr_t)CTRL_CLOSE_EVENT, 0, nullptr);
  ASSERT_TRUE(t);
  EXPECT_EQ(xsig_wait(nullptr, 10000), 1);
  EXPECT_EQ(n, 1u);
  xsig_shutdown();
  xsig__win32_release_held(); // the test seam: the held close handler returns
  EXPECT_EQ(WaitForSingleObject(t, 10000), WAIT_OBJECT_0);
  CloseHandle(t);
}

TEST(Win32Wakeup, WakeupSocketsAreNotInherited) {
  Winsock ws;
  ASSERT_EQ(xsig_init(), 0);
  DWORD flags = 0;
  ASSERT_TRUE(GetHandleInformation((HANDLE)xsig_wakeup_handle(nullptr), &flags));
  EXPECT_EQ(flags & HANDLE_FLAG_INHERIT, 0u);
  xsig_shutdown();
}

namespace {

std::atomic<int> accepted_inheritable{-1};

void check_accepted(int step, SOCKET s) {
  DWORD flags = 0;
  if (step == XSIG__PAIR_ACCEPTED && GetHandleInformation((HANDLE)s, &flags))
    accepted_inheritable = (flags & HANDLE_FLAG_INHERIT) != 0;
}

} // namespace

// A CreateProcess(bInheritHandles=TRUE) on another thread inherits whatever is
// inheritable at that moment: the read end must be so at no moment.
TEST(Win32Wakeup, ReadEndIsNotInheritableEvenJustAfterItsConnectionIsAccepted) {
  xsig__win32_pair_hook = check_accepted;
  xsig_ctx_t *c;
  ASSERT_EQ(xsig_ctx_new(&c), 0);
  xsig__win32_pair_hook = nullptr;
  EXPECT_EQ(accepted_inheritable, 0);
  xsig_ctx_free(c);
}

namespace {

std::vector<SOCKET> strangers;

// Fills the listen backlog before xsig connects: with backlog 1 the host
// queues two connections and drops further SYNs.
void fill_backlog(int step, SOCKET listener) {
  if (step != XSIG__PAIR_LISTENING || !strangers.empty()) return;
  sockaddr_in a = {};
  int len = sizeof a;
  if (getsockname(listener, (sockaddr *)&a, &len)) return;
  for (int i = 0; i < 2; i++) {
    SOCKET s = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
    if (connect(s, (sockaddr *)&a, sizeof a) == 0)
      strangers.push_back(s);
    else
      closesocket(s);
  }
}

} // namespace

// A stranger that fills the backlog must cost a bounded retry, not a connect
// that waits for minutes under the engine lock.
TEST(Win32Wakeup, FullListenBacklogCostsARetryNotAHang) {
  Winsock ws;
  xsig__win32_pair_hook = fill_backlog;
  std::atomic<int> done{0}, r{1};
  xsig_ctx_t *c = nullptr;
  std::thread t([&] {
    r = xsig_ctx_new(&c);
    done = 1;
  });
  bool finished = xsigtest::wait_until([&] { return done.load() == 1; }, 60000);
  if (!finished) {
    // Let the blocked connect fail so the thread can be joined.
    for (SOCKET s : strangers) closesocket(s);
    strangers.clear();
  }
  t.join();
  xsig__win32_pair_hook = nullptr;
  EXPECT_EQ(strangers.size(), 2u);
  ASSERT_TRUE(finished) << "xsig_ctx_new blocked for 60 s";
  ASSERT_EQ(r, 0) << xsig_os_error();
  // A working pair, made on a later try.
  std::atomic<unsigned> n{0};
  ASSERT_EQ(xsig_watch(c, SIGTERM, count_cb, &n, 0, nullptr), 0);
  ASSERT_EQ(xsig_raise(SIGTERM), 0);
  EXPECT_EQ(xsig_wait(c, 10000), 1);
  EXPECT_EQ(n, 1u);
  xsig_ctx_free(c);
  for (SOCKET s : strangers) closesocket(s);
  strangers.clear();
}

namespace {

// Loopback connections in TIME_WAIT, as (local port, remote port).
std::set<std::pair<u_short, u_short>> time_wait() {
  std::set<std::pair<u_short, u_short>> out;
  ULONG size = 0;
  GetTcpTable(nullptr, &size, FALSE);
  std::vector<char> buf(size + 4096);
  size = (ULONG)buf.size();
  if (GetTcpTable((MIB_TCPTABLE *)buf.data(), &size, FALSE) != NO_ERROR) return out;
  auto *t = (MIB_TCPTABLE *)buf.data();
  for (DWORD i = 0; i < t->dwNumEntries; i++)
    if (t->table[i].dwState == MIB_TCP_STATE_TIME_WAIT)
      out.insert(
          {ntohs((u_short)t->table[i].dwLocalPort), ntohs((u_short)t->table[i].dwRemotePort)});
  return out;
}

} // namespace

TEST(Win32Wakeup, ContextChurnLeavesNoTimeWaitBehind) {
  Winsock ws;
  std::set<u_short> ports;
  for (int i = 0; i < 50; i++) {
    xsig_ctx_t *c;
    ASSERT_EQ(xsig_ctx_new(&c), 0);
    sockaddr_in a = {}, b = {};
    int la = sizeof a, lb = sizeof b;
    SOCKET rd = (SOCKET)xsig_wakeup_handle(c);
    ASSERT_EQ(getsockname(rd, (sockaddr *)&a, &la), 0);
    ASSERT_EQ(getpeername(rd, (sockaddr *)&b, &lb), 0);
    ports.insert(ntohs(a.sin_port));
    ports.insert(ntohs(b.sin_port));
    xsig_ctx_free(c);
  }
  int left = 0;
  for (auto &e : time_wait()) left += ports.count(e.first) && ports.count(e.second);
  EXPECT_EQ(left, 0) << "of 50 freed contexts' connections are in TIME_WAIT";
}
