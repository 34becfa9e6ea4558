// What the Windows backend says it can do: the support table, the portable
// subset, features and the refusal codes, all asked at run time.
#include "xsig/xsig.h"
#include <gtest/gtest.h>

#include <cstring>

TEST(Win32Support, PlatformIsWindows) {
  EXPECT_STREQ(xsig_platform(), "windows");
}

TEST(Win32Support, ConsoleEventsMapToNativeAndEmulatedSignals) {
  EXPECT_EQ(xsig_support(SIGINT), XSIG_NATIVE);
  EXPECT_EQ(xsig_support(SIGBREAK), XSIG_NATIVE);
  EXPECT_EQ(xsig_support(SIGTERM), XSIG_EMULATED);
  EXPECT_STREQ(xsig_name(SIGBREAK), "SIGBREAK");
  EXPECT_EQ(xsig_from_name("break"), SIGBREAK);
  EXPECT_EQ(xsig_from_name("SIGBREAK"), SIGBREAK);
}

// What only the mailbox carries (another process's xsig_send): emulated,
// watchable, not portable; not ignorable, since no default action of Windows
// would end the process for them.
TEST(Win32Support, MailboxSignalsAreEmulated) {
  ASSERT_EQ(xsig_init(), 0);
  for (int s : {SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2}) {
    SCOPED_TRACE(s);
    EXPECT_EQ(xsig_support(s), XSIG_EMULATED);
    EXPECT_FALSE(xsig_is_portable(s));
    xsig_watch_t *w = nullptr;
    EXPECT_EQ(xsig_watch(
                  nullptr, s, [](const xsig_event_t *, void *) {}, nullptr, 0, &w),
              0);
    EXPECT_EQ(xsig_disposition(s), XSIG_DISP_XSIG);
    EXPECT_EQ(xsig_unwatch(w), 0);
    EXPECT_EQ(xsig_disposition(s), XSIG_DISP_DEFAULT);
    // The mailbox takes and drops an ignored one (Win32Mailbox has the rest).
    EXPECT_EQ(xsig_ignore(s), 0);
    EXPECT_EQ(xsig_disposition(s), XSIG_DISP_IGNORED);
    EXPECT_EQ(xsig_default(s), 0);
    EXPECT_EQ(xsig_disposition(s), XSIG_DISP_DEFAULT);
  }
  xsig_shutdown();
}

TEST(Win32Support, PosixOnlySignalsAreKnownButUnsupported) {
  ASSERT_EQ(xsig_init(), 0);
  const int sigs[] = {SIGALRM, SIGCHLD, SIGPIPE, SIGWINCH, SIGKILL, SIGSTOP};
  for (int s : sigs) {
    SCOPED_TRACE(s);
    ASSERT_NE(xsig_name(s), nullptr);
    EXPECT_EQ(xsig_from_name(xsig_name(s)), s);
    EXPECT_EQ(xsig_support(s), XSIG_UNSUPPORTED);
    EXPECT_EQ(xsig_watch(
                  nullptr, s, [](const xsig_event_t *, void *) {}, nullptr, 0, nullptr),
              XSIG_ENOTSUP);
    EXPECT_EQ(xsig_ignore(s), XSIG_ENOTSUP);
  }
  xsig_shutdown();
}

TEST(Win32Support, FaultSignalsAreRefused) {
  ASSERT_EQ(xsig_init(), 0);
  for (int s : {SIGABRT, SIGSEGV, SIGFPE, SIGILL}) {
    SCOPED_TRACE(s);
    EXPECT_EQ(xsig_support(s), XSIG_UNSUPPORTED);
    EXPECT_EQ(xsig_watch(
                  nullptr, s, [](const xsig_event_t *, void *) {}, nullptr, 0, nullptr),
              XSIG_EFAULTSIG);
  }
  xsig_shutdown();
}

TEST(Win32Support, OnlySigintAndSigtermArePortable) {
  int sigs[64];
  int n = xsig_signals(sigs, 64);
  ASSERT_GT(n, 0);
  ASSERT_LE(n, 64);
  int portable = 0;
  for (int i = 0; i < n; i++) {
    if (xsig_is_portable(sigs[i])) {
      portable++;
      EXPECT_TRUE(sigs[i] == SIGINT || sigs[i] == SIGTERM) << sigs[i];
      EXPECT_NE(xsig_support(sigs[i]), XSIG_UNSUPPORTED);
    }
  }
  EXPECT_EQ(portable, 2);
}

TEST(Win32Support, WatchableExactlyWhereSupported) {
  ASSERT_EQ(xsig_init(), 0);
  int sigs[64];
  int n = xsig_signals(sigs, 64);
  int watchable = 0;
  for (int i = 0; i < n; i++) {
    xsig_watch_t *w = nullptr;
    int r = xsig_watch(
        nullptr, sigs[i], [](const xsig_event_t *, void *) {}, nullptr, 0, &w);
    EXPECT_EQ(r == 0, xsig_support(sigs[i]) != XSIG_UNSUPPORTED) << xsig_name(sigs[i]);
    if (r == 0) {
      watchable++;
      EXPECT_EQ(xsig_unwatch(w), 0);
    }
  }
  EXPECT_EQ(watchable, 7); // SIGINT, SIGBREAK, SIGTERM; SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2
  xsig_shutdown();
}

TEST(Win32Support, FeaturesFollowTheTruth) {
  EXPECT_EQ(xsig_has(XSIG_FEAT_WAKEUP_SOCKET), 1);
  EXPECT_EQ(xsig_has(XSIG_FEAT_WAKEUP_FD), 0);
  EXPECT_EQ(xsig_has(XSIG_FEAT_SIGINFO), 0);
  EXPECT_EQ(xsig_has(XSIG_FEAT_QUEUED), 0);
  EXPECT_EQ(xsig_has(XSIG_FEAT_ALARM), 0);
  EXPECT_EQ(xsig_has(XSIG_FEAT_PROCESS_GROUPS), 1);
}
