// The Windows wakeup handle is a SOCKET that select() and WSAPoll() can wait
// on, one per context, and each context sees every delivery of what it
// watches. Events come through the console handler routine, called from a new
// thread as Windows calls it.
#include "support/support.h"
#include "win32/win32_int.h"
#include "xsig/xsig.h"
#include <gtest/gtest.h>

#include <atomic>

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
  xsig_shutdown(); // releases the held close handler
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
