// The Windows backend's console side, with real console control events where
// Wine can generate them (Ctrl+C) and the backend's handler routine called from
// a new thread, as Windows calls it, where Wine cannot (Break, close, logoff,
// shutdown).
//
// Console: GenerateConsoleCtrlEvent needs one, and a process that Wine starts
// with piped stdio (as ctest starts tests) has none. Each test that needs one
// makes its own with FreeConsole + AllocConsole: Wine's conhost then runs
// without a window, like a console under a pseudo-terminal, and every test
// process has a console of its own, so parallel tests never see each other's
// events. Children share it unless created with a flag that says otherwise.
#include "support/support.h"
#include "support/win32_proc.h"
#include "win32/win32_int.h"
#include "xsig/xsig.h"
#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace {

void own_console() {
  FreeConsole();
  ASSERT_TRUE(AllocConsole()) << GetLastError();
}

struct Seen {
  std::atomic<int> calls{0};
  std::atomic<int> signum{0};
  std::atomic<uint32_t> count{0};
  std::atomic<uint32_t> native{0xffffffffu};
  std::atomic<int> source{-1};
  std::atomic<int64_t> pid{0};
};

void record(const xsig_event_t *ev, void *user) {
  auto *s = static_cast<Seen *>(user);
  s->signum = ev->signum;
  s->count += ev->count;
  s->native = ev->native;
  s->source = ev->source;
  s->pid = ev->sender_pid;
  s->calls++;
}

// Wine starts a conhost for each new console; on a loaded machine with a
// fresh prefix the first ones have taken over 20 s. Waits end on success.
constexpr int kWaitMs = 60000;

// Dispatches the default context until pred holds.
bool dispatch_until(const std::function<bool()> &pred) {
  return xsigtest::wait_until(
      [&] {
        xsig_wait(nullptr, 20);
        return pred();
      },
      kWaitMs);
}

// A helper process whose stdin stays open until finish(): closing it tells
// the helper to report and end.
class Child : public xsigtest::WinProc {
public:
  Child(const char *mode, DWORD flags)
      : WinProc("\"" + xsigtest::helper_path("win32_child") + "\" " + mode, flags, true, kWaitMs) {}
};

// Windows' default handler ends a process with STATUS_CONTROL_C_EXIT; Wine's
// with 0 (its default_ctrl_handler). Either way it is not the helper's own 3.
bool ended_by_console_default(long long code) {
  return code == (long long)STATUS_CONTROL_C_EXIT || code == 0;
}

struct InitGuard {
  InitGuard() {
    EXPECT_EQ(xsig_init(), 0);
  }
  ~InitGuard() {
    xsig_shutdown();
  }
};

DWORD WINAPI call_handler(void *arg) {
  return xsig__win32_console_handler((DWORD)(uintptr_t)arg) ? 1 : 0;
}

HANDLE handler_thread(DWORD type) {
  return CreateThread(nullptr, 0, call_handler, (void *)(uintptr_t)type, 0, nullptr);
}

// 1 or 0 as the handler returned, or -1 while the thread is still running.
int thread_result(HANDLE t, DWORD wait_ms) {
  if (WaitForSingleObject(t, wait_ms) != WAIT_OBJECT_0) return -1;
  DWORD code = 0;
  GetExitCodeThread(t, &code);
  return (int)code;
}

} // namespace

// ---------------------------------------------------------------- real Ctrl+C

TEST(Win32Console, RealCtrlCReachesTheSigintCallbackAndTheProcessLivesOn) {
  own_console();
  InitGuard g;
  Seen seen;
  ASSERT_EQ(xsig_watch(nullptr, SIGINT, record, &seen, 0, nullptr), 0);
  EXPECT_EQ(xsig_disposition(SIGINT), XSIG_DISP_XSIG);
  ASSERT_TRUE(GenerateConsoleCtrlEvent(CTRL_C_EVENT, 0)) << GetLastError();
  ASSERT_TRUE(dispatch_until([&] { return seen.calls > 0; }));
  EXPECT_EQ(seen.signum, SIGINT);
  EXPECT_EQ(seen.source, XSIG_SRC_CONSOLE);
  EXPECT_EQ(seen.native, (uint32_t)CTRL_C_EVENT);
  EXPECT_EQ(seen.pid, -1);
  // Still alive and still watching: a second Ctrl+C is a second event.
  ASSERT_TRUE(GenerateConsoleCtrlEvent(CTRL_C_EVENT, 0)) << GetLastError();
  ASSERT_TRUE(dispatch_until([&] { return seen.count >= 2; }));
}

TEST(Win32Console, SendGroupZeroIsCtrlCToEveryProcessOnTheConsole) {
  own_console();
  InitGuard g;
  Seen seen;
  ASSERT_EQ(xsig_watch(nullptr, SIGINT, record, &seen, 0, nullptr), 0);
  ASSERT_EQ(xsig_send_group(0, SIGINT), 0) << xsig_os_error();
  ASSERT_TRUE(dispatch_until([&] { return seen.calls > 0; }));
  EXPECT_EQ(seen.source, XSIG_SRC_CONSOLE);
}

TEST(Win32Console, ChildWithASigintWatchSurvivesCtrlCAndReportsIt) {
  own_console();
  InitGuard g;
  Seen seen; // this process shares the console, so it gets the Ctrl+C too
  ASSERT_EQ(xsig_watch(nullptr, SIGINT, record, &seen, 0, nullptr), 0);
  Child c("watch", 0);
  ASSERT_TRUE(c.started());
  ASSERT_TRUE(c.wait_output("ready ignored=0\n")) << c.output();
  ASSERT_TRUE(GenerateConsoleCtrlEvent(CTRL_C_EVENT, 0)) << GetLastError();
  ASSERT_TRUE(c.wait_output("SIGINT count=1 source=1 native=0\n")) << c.output();
  ASSERT_TRUE(dispatch_until([&] { return seen.calls > 0; }));
  c.finish();
  EXPECT_EQ(c.wait_exit(), 0) << c.output();
  EXPECT_NE(c.output().find("done sigint=1\n"), std::string::npos) << c.output();
}

TEST(Win32Console, ChildWithoutAWatchIsEndedByCtrlC) {
  own_console();
  InitGuard g;
  Seen seen;
  ASSERT_EQ(xsig_watch(nullptr, SIGINT, record, &seen, 0, nullptr), 0);
  Child c("nowatch", 0);
  ASSERT_TRUE(c.started());
  ASSERT_TRUE(c.wait_output("ready\n")) << c.output();
  ASSERT_TRUE(GenerateConsoleCtrlEvent(CTRL_C_EVENT, 0)) << GetLastError();
  long long code = c.wait_exit(); // stdin still open: only the event can end it
  EXPECT_TRUE(ended_by_console_default(code)) << code << " " << c.output();
  EXPECT_EQ(c.output().find("survived"), std::string::npos) << c.output();
  ASSERT_TRUE(dispatch_until([&] { return seen.calls > 0; }));
}

TEST(Win32Console, NewProcessGroupChildDoesNotGetCtrlC) {
  own_console();
  InitGuard g;
  Seen seen;
  ASSERT_EQ(xsig_watch(nullptr, SIGINT, record, &seen, 0, nullptr), 0);
  // Same console, same moment: the child in our group is the proof that the
  // Ctrl+C went out; the one in a new group must not see it.
  Child same("watch", 0);
  Child apart("watch", CREATE_NEW_PROCESS_GROUP);
  ASSERT_TRUE(same.started() && apart.started());
  ASSERT_TRUE(same.wait_output("ready ignored=0\n")) << same.output();
  // Windows disables Ctrl+C in a new group; xsig reports it and leaves it so.
  ASSERT_TRUE(apart.wait_output("ready ignored=1\n")) << apart.output();
  ASSERT_TRUE(GenerateConsoleCtrlEvent(CTRL_C_EVENT, 0)) << GetLastError();
  ASSERT_TRUE(same.wait_output("SIGINT count=1")) << same.output();
  ASSERT_TRUE(dispatch_until([&] { return seen.calls > 0; }));
  same.finish();
  apart.finish();
  EXPECT_EQ(same.wait_exit(), 0);
  EXPECT_EQ(apart.wait_exit(), 0) << apart.output();
  EXPECT_NE(apart.output().find("done sigint=0\n"), std::string::npos) << apart.output();
}

TEST(Win32Console, NewProcessGroupChildThatReenablesCtrlCGetsItFromSendAndSendGroup) {
  own_console();
  InitGuard g;
  Seen seen;
  ASSERT_EQ(xsig_watch(nullptr, SIGINT, record, &seen, 0, nullptr), 0);
  Child c("enable", CREATE_NEW_PROCESS_GROUP);
  ASSERT_TRUE(c.started());
  ASSERT_TRUE(c.wait_output("ready ignored=1\n")) << c.output();
  // The child leads its own group: its pid is the group's id.
  ASSERT_EQ(xsig_send((int64_t)c.pid(), SIGINT), 0) << xsig_os_error();
  ASSERT_TRUE(c.wait_output("SIGINT count=1 source=1 native=0\n")) << c.output();
  // And xsig_send_group names the group directly.
  ASSERT_EQ(xsig_send_group((int64_t)c.pid(), SIGINT), 0) << xsig_os_error();
  ASSERT_TRUE(c.wait_output("SIGINT count=1 source=1 native=0\nSIGINT count=1")) << c.output();
  c.finish();
  EXPECT_EQ(c.wait_exit(), 0) << c.output();
  EXPECT_NE(c.output().find("done sigint=2\n"), std::string::npos) << c.output();
}

// ---------------------------------------------------------------- the handler routine

TEST(Win32Console, BreakThroughTheHandlerRoutineReachesASigbreakWatch) {
  InitGuard g;
  Seen seen;
  ASSERT_EQ(xsig_watch(nullptr, SIGBREAK, record, &seen, 0, nullptr), 0);
  HANDLE t = handler_thread(CTRL_BREAK_EVENT);
  ASSERT_TRUE(t);
  EXPECT_EQ(thread_result(t, 10000), 1); // handled: Windows must not end us
  CloseHandle(t);
  ASSERT_TRUE(dispatch_until([&] { return seen.calls > 0; }));
  EXPECT_EQ(seen.signum, SIGBREAK);
  EXPECT_EQ(seen.source, XSIG_SRC_CONSOLE);
  EXPECT_EQ(seen.native, (uint32_t)CTRL_BREAK_EVENT);
}

TEST(Win32Console, HandlerReturnsFalseWhenNothingWatches) {
  InitGuard g;
  Seen seen;
  xsig_watch_t *w;
  ASSERT_EQ(xsig_watch(nullptr, SIGINT, record, &seen, 0, &w), 0); // registers the handler
  ASSERT_EQ(xsig_unwatch(w), 0);
  for (DWORD type :
       {CTRL_C_EVENT, CTRL_BREAK_EVENT, CTRL_CLOSE_EVENT, CTRL_LOGOFF_EVENT, CTRL_SHUTDOWN_EVENT}) {
    HANDLE t = handler_thread(type);
    ASSERT_TRUE(t);
    EXPECT_EQ(thread_result(t, 10000), 0) << type; // the default handler ends the process
    CloseHandle(t);
  }
  EXPECT_EQ(seen.calls, 0);
}

TEST(Win32Console, IgnoredBreakIsSwallowedByTheHandler) {
  InitGuard g;
  ASSERT_EQ(xsig_ignore(SIGBREAK), 0);
  EXPECT_EQ(xsig_disposition(SIGBREAK), XSIG_DISP_IGNORED);
  HANDLE t = handler_thread(CTRL_BREAK_EVENT);
  ASSERT_TRUE(t);
  EXPECT_EQ(thread_result(t, 10000), 1);
  CloseHandle(t);
  ASSERT_EQ(xsig_default(SIGBREAK), 0);
  EXPECT_EQ(xsig_disposition(SIGBREAK), XSIG_DISP_DEFAULT);
  t = handler_thread(CTRL_BREAK_EVENT);
  ASSERT_TRUE(t);
  EXPECT_EQ(thread_result(t, 10000), 0);
  CloseHandle(t);
}

// Close, logoff and shutdown: SIGTERM, and the handler thread is held for as
// long as the process lives, because Windows ends the process as soon as it
// returns. xsig_shutdown does not let it go: portable code saves its state
// after that call. (Windows would let no other console event in meanwhile;
// these threads call the routine directly, so they stand for one event each.)
class Win32Terminate : public ::testing::TestWithParam<DWORD> {};

TEST_P(Win32Terminate, IsSigtermAndHoldsTheHandlerThroughShutdown) {
  DWORD type = GetParam();
  ASSERT_EQ(xsig_init(), 0);
  Seen seen;
  ASSERT_EQ(xsig_watch(nullptr, SIGTERM, record, &seen, 0, nullptr), 0);
  EXPECT_EQ(xsig_disposition(SIGTERM), XSIG_DISP_XSIG);
  HANDLE t = handler_thread(type);
  ASSERT_TRUE(t);
  ASSERT_TRUE(dispatch_until([&] { return seen.calls > 0; }));
  EXPECT_EQ(seen.signum, SIGTERM);
  EXPECT_EQ(seen.source, XSIG_SRC_CONSOLE);
  EXPECT_EQ(seen.native, (uint32_t)type);
  ASSERT_TRUE(xsigtest::wait_until([] { return xsig__win32_held() == 1; }));
  // The callback has run and returned: the thread is still held, and stays
  // so through the last xsig_shutdown.
  EXPECT_EQ(thread_result(t, 0), -1);
  xsig_shutdown();
  EXPECT_EQ(thread_result(t, 2000), -1);
  EXPECT_EQ(xsig__win32_held(), 1);
  xsig__win32_release_held(); // the test seam; only the process's end does this for real
  EXPECT_EQ(thread_result(t, 10000), 1);
  CloseHandle(t);
}

INSTANTIATE_TEST_SUITE_P(Events, Win32Terminate,
                         ::testing::Values(CTRL_CLOSE_EVENT, CTRL_LOGOFF_EVENT,
                                           CTRL_SHUTDOWN_EVENT));

TEST(Win32Console, ProgramExitsOnItsOwnWhileTheCloseHandlerIsHeld) {
  Child c("close", 0);
  ASSERT_TRUE(c.started());
  // 42 is the helper's own exit from its SIGTERM callback: Windows did not end
  // it first, and the held thread never returned.
  EXPECT_EQ(c.wait_exit(), 42) << c.output();
  EXPECT_NE(c.output().find("SIGTERM native=2 held=1\n"), std::string::npos) << c.output();
  EXPECT_EQ(c.output().find("handler returned"), std::string::npos) << c.output();
}

TEST(Win32Console, StateSavedAfterShutdownIsNotCutShortByTheHeldClose) {
  Child c("close-shutdown", 0);
  ASSERT_TRUE(c.started());
  // 43 would be Windows ending the process when the handler returned.
  EXPECT_EQ(c.wait_exit(), 42) << c.output();
  EXPECT_NE(c.output().find("saved held=1\n"), std::string::npos) << c.output();
  EXPECT_EQ(c.output().find("handler returned"), std::string::npos) << c.output();
}

// The callback of a one-shot watch (or one that unwatches) can run between
// the handler's delivery and its return: the decision to hold must come from
// the delivery, or the handler returns FALSE and Windows ends the process.
//
// The handler counts the delivery before it looks for watchers (it must, so
// that the wakeup it sends finds the count), and a dispatcher that spins can
// take that count and run the one-shot callback in the gap. Contexts made
// after the default one sit ahead of it in the list the handler walks, and
// stay there when freed: they widen the gap from nanoseconds to the
// microseconds that make the race show in a few hundred rounds.
TEST(Win32Console, OneShotSigtermWatchRemovedAtOnceStillHoldsTheClose) {
  InitGuard g;
  constexpr int kRounds = 300, kSpacers = 256;
  ASSERT_TRUE(xsigtest::slots_ahead(kSpacers));
  int let_go = 0, stuck = 0;
  for (int i = 0; i < kRounds && !stuck; i++) {
    Seen seen;
    ASSERT_EQ(xsig_watch(nullptr, SIGTERM, record, &seen, XSIG_ONESHOT, nullptr), 0);
    HANDLE t = handler_thread(CTRL_CLOSE_EVENT);
    ASSERT_TRUE(t);
    // Dispatch as fast as possible, to land between delivery and decision.
    bool ran = xsigtest::wait_until(
        [&] {
          for (int k = 0; k < 1000 && !seen.calls; k++) xsig_dispatch(nullptr);
          return seen.calls > 0;
        },
        kWaitMs);
    bool settled =
        ran && xsigtest::wait_until(
                   [&] { return xsig__win32_held() == 1 || thread_result(t, 0) >= 0; }, kWaitMs);
    if (!settled) stuck++;
    if (thread_result(t, 0) == 0) let_go++;
    xsig__win32_release_held();
    if (thread_result(t, kWaitMs) < 0) stuck++;
    CloseHandle(t);
  }
  EXPECT_EQ(let_go, 0) << "rounds in which the handler returned FALSE";
  EXPECT_EQ(stuck, 0);
}

// ---------------------------------------------------------------- dispositions, raising, sending

TEST(Win32Console, IgnoreSigintSetsTheConsoleFlagAndDefaultClearsIt) {
  own_console();
  InitGuard g;
  ASSERT_EQ(xsig_ignore(SIGINT), 0);
  EXPECT_EQ(xsig_disposition(SIGINT), XSIG_DISP_IGNORED);
  // A child inherits the flag, as with SetConsoleCtrlHandler(NULL, TRUE).
  {
    Child c("watch", 0);
    ASSERT_TRUE(c.started());
    ASSERT_TRUE(c.wait_output("ready ignored=1\n")) << c.output();
  }
  // Ignored here: a raise is dropped, as a real Ctrl+C would be.
  EXPECT_EQ(xsig_raise(SIGINT), 0);
  ASSERT_EQ(xsig_default(SIGINT), 0);
  EXPECT_EQ(xsig_disposition(SIGINT), XSIG_DISP_DEFAULT);
  EXPECT_EQ(xsig_ignore(SIGTERM), XSIG_ENOTSUP);
}

TEST(Win32Console, RaiseOfAWatchedSignalIsDeliveredWithSourceSelf) {
  InitGuard g;
  Seen seen;
  ASSERT_EQ(xsig_watch(nullptr, SIGTERM, record, &seen, 0, nullptr), 0);
  ASSERT_EQ(xsig_raise(SIGTERM), 0);
  ASSERT_TRUE(dispatch_until([&] { return seen.calls > 0; }));
  EXPECT_EQ(seen.signum, SIGTERM);
  EXPECT_EQ(seen.source, XSIG_SRC_SELF);
  EXPECT_EQ(seen.pid, (int64_t)GetCurrentProcessId());
  EXPECT_EQ(xsig_raise(SIGHUP), XSIG_ENOLISTEN); // what our own mailbox would answer
  EXPECT_EQ(xsig_raise(SIGALRM), XSIG_ENOTSUP);
  EXPECT_EQ(xsig_raise(SIGSEGV), XSIG_EFAULTSIG);
}

TEST(Win32Console, RaiseOfAnUnwatchedSigintEndsTheProcessWithControlCExit) {
  Child c("raise", 0);
  ASSERT_TRUE(c.started());
  EXPECT_EQ(c.wait_exit(), (long long)STATUS_CONTROL_C_EXIT) << c.output();
  EXPECT_EQ(c.output().find("raise returned"), std::string::npos) << c.output();
}

TEST(Win32Console, SendChecksExistenceKillsAndRefusesTheRest) {
  InitGuard g;
  EXPECT_EQ(xsig_send((int64_t)GetCurrentProcessId(), 0), 0);
  EXPECT_EQ(xsig_send_group(0, 0), 0);
  Child c("nowatch", 0);
  ASSERT_TRUE(c.started());
  ASSERT_TRUE(c.wait_output("ready\n"));
  EXPECT_EQ(xsig_send((int64_t)c.pid(), 0), 0);
  // No mailbox there (tests/win32_mailbox_test.cc has the rest).
  EXPECT_EQ(xsig_send((int64_t)c.pid(), SIGHUP), XSIG_ENOLISTEN);
  EXPECT_EQ(xsig_send((int64_t)c.pid(), SIGTERM), XSIG_ENOLISTEN);
  EXPECT_EQ(xsig_send((int64_t)c.pid(), SIGALRM), XSIG_ENOTSUP);
  EXPECT_EQ(xsig_send_group((int64_t)c.pid(), SIGKILL), XSIG_ENOTSUP);
  ASSERT_EQ(xsig_send((int64_t)c.pid(), SIGKILL), 0);
  EXPECT_EQ(c.wait_exit(), 1); // what taskkill /F gives
  EXPECT_EQ(c.output().find("survived"), std::string::npos);
  EXPECT_EQ(xsig_send((int64_t)c.pid(), 0), XSIG_ESRCH);
  EXPECT_EQ(xsig_send(0x7ffffff0, 0), XSIG_ESRCH);
  EXPECT_EQ(xsig_send((int64_t)1 << 40, SIGINT), XSIG_ESRCH);
}

// OpenProcess ignores the low two bits of a process id.
TEST(Win32Console, SendToAnIdOffByTheLowBitsIsEsrch) {
  InitGuard g;
  Child c("nowatch", 0);
  ASSERT_TRUE(c.started());
  ASSERT_TRUE(c.wait_output("ready\n"));
  int64_t pid = (int64_t)c.pid();
  EXPECT_EQ(xsig_send(pid + 1, SIGKILL), XSIG_ESRCH);
  EXPECT_EQ(xsig_send(pid + 2, 0), XSIG_ESRCH);
  EXPECT_EQ(xsig_send(pid + 3, SIGINT), XSIG_ESRCH);
  EXPECT_EQ(xsig_send_group(pid + 1, SIGINT), XSIG_ESRCH);
  EXPECT_EQ(xsig_send_group(pid + 2, 0), XSIG_ESRCH);
  EXPECT_EQ(xsig_send(pid, 0), 0); // the SIGKILL above did not reach it
  c.finish();
  EXPECT_EQ(c.wait_exit(), 3) << c.output();
}

// GenerateConsoleCtrlEvent reports success for groups that do not exist and
// for processes on other consoles; xsig must not.
TEST(Win32Console, SendGroupToAGroupThatDoesNotExistIsEsrch) {
  own_console();
  InitGuard g;
  Seen seen;
  ASSERT_EQ(xsig_watch(nullptr, SIGINT, record, &seen, 0, nullptr), 0);
  EXPECT_EQ(xsig_send_group(0x7ffffff0, SIGINT), XSIG_ESRCH);
  EXPECT_EQ(xsig_send_group(0x7ffffff0, SIGBREAK), XSIG_ESRCH);
  DWORD gone;
  {
    Child c("watch", CREATE_NEW_PROCESS_GROUP);
    ASSERT_TRUE(c.started());
    ASSERT_TRUE(c.wait_output("ready ignored=1\n")) << c.output();
    gone = c.pid();
    c.finish();
    EXPECT_EQ(c.wait_exit(), 0) << c.output();
  }
  EXPECT_EQ(xsig_send_group((int64_t)gone, SIGINT), XSIG_ESRCH);
  EXPECT_EQ(xsig_send((int64_t)gone, SIGINT), XSIG_ESRCH);
  EXPECT_EQ(xsig_dispatch(nullptr), 0);
  EXPECT_EQ(seen.calls, 0); // and nothing went to our console instead
}

TEST(Win32Console, SendToAProcessOnAnotherConsoleIsRefused) {
  own_console();
  InitGuard g;
  Child c("enable", CREATE_NEW_CONSOLE | CREATE_NEW_PROCESS_GROUP);
  ASSERT_TRUE(c.started());
  ASSERT_TRUE(c.wait_output("ready ignored=")) << c.output();
  EXPECT_EQ(xsig_send((int64_t)c.pid(), SIGINT), XSIG_EPERM);
  EXPECT_EQ(xsig_send((int64_t)c.pid(), SIGBREAK), XSIG_EPERM);
  EXPECT_EQ(xsig_send_group((int64_t)c.pid(), SIGINT), XSIG_EPERM);
  EXPECT_EQ(xsig_send((int64_t)c.pid(), 0), 0); // it exists: only the console cannot reach it
  c.finish();
  EXPECT_EQ(c.wait_exit(), 0) << c.output();
  EXPECT_NE(c.output().find("done sigint=0\n"), std::string::npos) << c.output();
}

// ---------------------------------------------------------------- the handler table

// Windows empties the table of handler routines on AllocConsole, AttachConsole
// and FreeConsole; Wine keeps it. The test seam empties it the same way, and a
// real Ctrl+C must still reach the watch after xsig_console_rearm(). Without
// the re-arm it would reach only the test's fallback routine.
std::atomic<int> fallback_calls{0};

// Registered before xsig's routine, so called only when no routine of xsig's
// is in the table (or one returned FALSE): it keeps the test alive to say so.
BOOL WINAPI fallback(DWORD) {
  fallback_calls++;
  return TRUE;
}

TEST(Win32Console, RearmAfterTheHandlerTableIsResetKeepsCtrlCWatched) {
  own_console();
  ASSERT_TRUE(SetConsoleCtrlHandler(fallback, TRUE));
  InitGuard g;
  Seen seen;
  ASSERT_EQ(xsig_watch(nullptr, SIGINT, record, &seen, 0, nullptr), 0);
  ASSERT_EQ(xsig_console_rearm(), 0); // with the table intact: still one routine
  ASSERT_EQ(xsig__win32_forget_handler(), 1);
  ASSERT_EQ(xsig_console_rearm(), 0);
  ASSERT_TRUE(GenerateConsoleCtrlEvent(CTRL_C_EVENT, 0)) << GetLastError();
  ASSERT_TRUE(dispatch_until([&] { return seen.calls > 0 || fallback_calls > 0; }));
  EXPECT_EQ(fallback_calls, 0);
  EXPECT_EQ(seen.count, 1u);
  ASSERT_EQ(xsig__win32_forget_handler(), 1); // and again, from the other entry point
  ASSERT_EQ(xsig_console_rearm(), 0);
  ASSERT_TRUE(GenerateConsoleCtrlEvent(CTRL_C_EVENT, 0)) << GetLastError();
  ASSERT_TRUE(dispatch_until([&] { return seen.count >= 2; }));
  EXPECT_EQ(fallback_calls, 0);
}

TEST(Win32Console, RearmBeforeAnyWatchDoesNothing) {
  EXPECT_EQ(xsig_console_rearm(), 0);
}

// A plug-in host loads the DLL build of xsig, watches, shuts down and unloads
// it; a later Ctrl+C must not call into unmapped code.
TEST(Win32Console, HostThatUnloadsTheXsigDllSurvivesALaterCtrlC) {
  xsigtest::WinProc host("\"" + xsigtest::helper_path("win32_dll_host") +
                             "\" \"" XSIG_TEST_BINARY_DIR "/tests/xsig_dll.dll\"",
                         0, false, kWaitMs);
  ASSERT_TRUE(host.started());
  EXPECT_EQ(host.wait_exit(), 0) << host.output();
  EXPECT_NE(host.output().find("unloaded\n"), std::string::npos) << host.output();
  EXPECT_NE(host.output().find("survived ctrl-c\n"), std::string::npos) << host.output();
}
