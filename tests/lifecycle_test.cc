// The lifecycle API in one process, on every platform (also under Wine):
// xsig_raise() sends real stop signals through the same path the OS uses.
#include <gtest/gtest.h>

#include <atomic>
#include <stdlib.h>

#include "support/support.h"
#include "xsig/lifecycle.h"

namespace {

struct Stops {
  int calls = 0;
  int sig = 0;
};

void on_stop(int sig, void *user) {
  auto *s = static_cast<Stops *>(user);
  s->calls++;
  s->sig = sig;
}

xsig_graceful_opts_t opts(Stops *s) {
  xsig_graceful_opts_t o = {};
  o.second_forces = -1; // the process must survive the repeats below
  o.on_stop = on_stop;
  o.user = s;
  return o;
}

TEST(Lifecycle, StopRequestedIsZeroUntilAStopSignal) {
  Stops s;
  ASSERT_EQ(xsig_init(), 0);
  xsig_graceful_opts_t o = opts(&s);
  ASSERT_EQ(xsig_graceful_start(nullptr, &o), 0);
  EXPECT_EQ(xsig_stop_requested(), 0);
  EXPECT_EQ(xsig_dispatch(nullptr), 0);
  EXPECT_EQ(s.calls, 0);
  ASSERT_EQ(xsig_raise(SIGINT), 0);
  // The watchdog sets it without any dispatch by this thread.
  ASSERT_TRUE(xsigtest::wait_until([] { return xsig_stop_requested() != 0; }));
  EXPECT_EQ(xsig_stop_requested(), SIGINT);
  EXPECT_EQ(s.calls, 0) << "on_stop waits for the program's own dispatch";
  EXPECT_EQ(xsig_wait(nullptr, 10000), 1);
  EXPECT_EQ(s.calls, 1);
  EXPECT_EQ(s.sig, SIGINT);
  EXPECT_EQ(xsig_graceful_stop(), 0);
  xsig_shutdown();
}

TEST(Lifecycle, OnStopRunsOnceAndTheFirstSignalStays) {
  Stops s;
  ASSERT_EQ(xsig_init(), 0);
  xsig_graceful_opts_t o = opts(&s);
  ASSERT_EQ(xsig_graceful_start(nullptr, &o), 0);
  ASSERT_EQ(xsig_raise(SIGTERM), 0);
  EXPECT_EQ(xsig_wait(nullptr, 10000), 1);
  ASSERT_EQ(xsig_raise(SIGINT), 0);
  EXPECT_EQ(xsig_wait(nullptr, 10000), 1);
  ASSERT_EQ(xsig_raise(SIGTERM), 0);
  EXPECT_EQ(xsig_wait(nullptr, 10000), 1);
  EXPECT_EQ(s.calls, 1);
  EXPECT_EQ(s.sig, SIGTERM);
  EXPECT_EQ(xsig_stop_requested(), SIGTERM);
  EXPECT_EQ(xsig_graceful_stop(), 0);
  xsig_shutdown();
}

TEST(Lifecycle, WorksOnAContextOfItsOwn) {
  Stops s;
  xsig_ctx_t *ctx = nullptr;
  ASSERT_EQ(xsig_ctx_new(&ctx), 0);
  xsig_graceful_opts_t o = opts(&s);
  ASSERT_EQ(xsig_graceful_start(ctx, &o), 0);
  ASSERT_EQ(xsig_raise(SIGTERM), 0);
  EXPECT_EQ(xsig_wait(ctx, 10000), 1);
  EXPECT_EQ(s.calls, 1);
  EXPECT_EQ(xsig_graceful_stop(), 0);
  xsig_ctx_free(ctx);
}

TEST(Lifecycle, StartIsOnceAtATimeAndStopRearms) {
  Stops s;
  ASSERT_EQ(xsig_init(), 0);
  xsig_graceful_opts_t o = opts(&s);
  ASSERT_EQ(xsig_graceful_start(nullptr, &o), 0);
  EXPECT_EQ(xsig_graceful_start(nullptr, &o), XSIG_ESTATE);
  ASSERT_EQ(xsig_raise(SIGINT), 0);
  EXPECT_EQ(xsig_wait(nullptr, 10000), 1);
  EXPECT_EQ(xsig_stop_requested(), SIGINT);
  EXPECT_EQ(xsig_graceful_stop(), 0);
  EXPECT_EQ(xsig_stop_requested(), SIGINT) << "stop keeps the answer";
  EXPECT_EQ(xsig_graceful_stop(), 0) << "stopping twice is harmless";
  // Stopped: the stop set is no longer watched by the lifecycle.
  EXPECT_NE(xsig_disposition(SIGTERM), XSIG_DISP_XSIG);
  ASSERT_EQ(xsig_graceful_start(nullptr, &o), 0);
  EXPECT_EQ(xsig_stop_requested(), 0) << "a new start asks afresh";
  EXPECT_EQ(xsig_disposition(SIGTERM), XSIG_DISP_XSIG);
  ASSERT_EQ(xsig_raise(SIGTERM), 0);
  EXPECT_EQ(xsig_wait(nullptr, 10000), 1);
  EXPECT_EQ(s.calls, 2);
  EXPECT_EQ(xsig_stop_requested(), SIGTERM);
  EXPECT_EQ(xsig_graceful_stop(), 0);
  xsig_shutdown();
}

TEST(Lifecycle, ShutdownBeforeStopKeepsTheDefaultContextAlive) {
  Stops s;
  ASSERT_EQ(xsig_init(), 0);
  xsig_graceful_opts_t o = opts(&s);
  ASSERT_EQ(xsig_graceful_start(nullptr, &o), 0);
  int reload = xsig_reload_start(
      nullptr, [](void *, char *, size_t) { return 0; }, nullptr);
  EXPECT_TRUE(reload == 0 || reload == XSIG_ENOTSUP) << reload;
  xsig_shutdown(); // the program's reference goes; ours keeps the context
  ASSERT_EQ(xsig_raise(SIGTERM), 0);
  EXPECT_EQ(xsig_wait(nullptr, 10000), 1);
  EXPECT_EQ(s.calls, 1);
  EXPECT_EQ(xsig_reload_stop(), 0);
  EXPECT_EQ(xsig_graceful_stop(), 0);
  // Our reference was the last: the default context is gone.
  EXPECT_EQ(xsig_wait(nullptr, 0), XSIG_ESTATE);
  EXPECT_NE(xsig_disposition(SIGTERM), XSIG_DISP_XSIG);
}

TEST(Lifecycle, RejectsBadArgumentsAndMissingInit) {
  xsig_graceful_opts_t o = {};
  o.grace_ms = -1;
  EXPECT_EQ(xsig_graceful_start(nullptr, &o), XSIG_EINVAL);
  // No xsig_init: there is no default context to give on_stop to.
  EXPECT_EQ(xsig_graceful_start(nullptr, nullptr), XSIG_ESTATE);
  EXPECT_EQ(xsig_reload_start(nullptr, nullptr, nullptr), XSIG_EINVAL);
}

TEST(Lifecycle, RejectsBadMergeAndUnknownFlags) {
  ASSERT_EQ(xsig_init(), 0);
  xsig_graceful_opts_t o = {};
  o.merge_ms = -2;
  EXPECT_EQ(xsig_graceful_start(nullptr, &o), XSIG_EINVAL);
  o.merge_ms = 0;
  o.flags = 2;
  EXPECT_EQ(xsig_graceful_start(nullptr, &o), XSIG_EINVAL);
  EXPECT_NE(xsig_disposition(SIGTERM), XSIG_DISP_XSIG) << "nothing was started";
  EXPECT_EQ(xsig_reload_start_flags(
                nullptr, [](void *, char *, size_t) { return 0; }, nullptr, 2),
            XSIG_EINVAL);
  EXPECT_STRNE(xsig_strerror(XSIG_EIGNORED), xsig_strerror(-999));
  xsig_shutdown();
}

// In one process: the program ignored SIGINT itself before the start, which
// the lifecycle cannot tell from an inherited ignore and treats the same.
TEST(Lifecycle, AnIgnoredSigintStaysIgnoredUnlessTaken) {
  Stops s;
  ASSERT_EQ(xsig_init(), 0);
  ASSERT_EQ(xsig_ignore(SIGINT), 0);
  xsig_graceful_opts_t o = opts(&s);
  ASSERT_EQ(xsig_graceful_start(nullptr, &o), 0);
  EXPECT_EQ(xsig_disposition(SIGINT), XSIG_DISP_IGNORED);
  EXPECT_EQ(xsig_disposition(SIGTERM), XSIG_DISP_XSIG);
  EXPECT_EQ(xsig_graceful_stop(), 0);
  o.flags = XSIG_TAKE_IGNORED;
  ASSERT_EQ(xsig_graceful_start(nullptr, &o), 0);
  EXPECT_EQ(xsig_disposition(SIGINT), XSIG_DISP_XSIG);
  ASSERT_EQ(xsig_raise(SIGINT), 0);
  EXPECT_EQ(xsig_wait(nullptr, 10000), 1);
  EXPECT_EQ(s.calls, 1);
  EXPECT_EQ(xsig_stop_requested(), SIGINT);
  EXPECT_EQ(xsig_graceful_stop(), 0);
  EXPECT_EQ(xsig_disposition(SIGINT), XSIG_DISP_IGNORED) << "the ignore is back after the stop";
  xsig_shutdown();
}

TEST(Lifecycle, OtherContextsStillSeeTheStopSignals) {
  Stops s;
  std::atomic<int> seen{0};
  xsig_ctx_t *other = nullptr;
  ASSERT_EQ(xsig_init(), 0);
  ASSERT_EQ(xsig_ctx_new(&other), 0);
  ASSERT_EQ(
      xsig_watch(
          other, SIGTERM,
          [](const xsig_event_t *, void *u) { static_cast<std::atomic<int> *>(u)->fetch_add(1); },
          &seen, 0, nullptr),
      0);
  xsig_graceful_opts_t o = opts(&s);
  ASSERT_EQ(xsig_graceful_start(nullptr, &o), 0);
  ASSERT_EQ(xsig_raise(SIGTERM), 0);
  EXPECT_EQ(xsig_wait(nullptr, 10000), 1);
  EXPECT_EQ(xsig_wait(other, 10000), 1);
  EXPECT_EQ(s.calls, 1);
  EXPECT_EQ(seen.load(), 1);
  EXPECT_EQ(xsig_graceful_stop(), 0);
  xsig_ctx_free(other);
  xsig_shutdown();
}

int reloads;
int reload_ok(void *user, char *err, size_t errsize) {
  (void)user, (void)err, (void)errsize;
  reloads++;
  return 0;
}

// Windows too: SIGHUP comes through the mailbox (xsig_raise takes the same
// path to the callbacks; win32_mailbox_test.cc sends it from another process).
TEST(Lifecycle, ReloadRunsOnEverySighupAtDispatch) {
  ASSERT_EQ(xsig_init(), 0);
  ASSERT_EQ(xsig_reload_start(nullptr, reload_ok, nullptr), 0);
  EXPECT_EQ(xsig_reload_start(nullptr, reload_ok, nullptr), XSIG_ESTATE);
  ASSERT_EQ(xsig_raise(SIGHUP), 0);
  EXPECT_EQ(reloads, 0) << "never in the handler";
  EXPECT_EQ(xsig_wait(nullptr, 10000), 1);
  EXPECT_EQ(reloads, 1);
  ASSERT_EQ(xsig_raise(SIGHUP), 0);
  EXPECT_EQ(xsig_wait(nullptr, 10000), 1);
  EXPECT_EQ(reloads, 2);
  EXPECT_EQ(xsig_reload_stop(), 0);
  EXPECT_NE(xsig_disposition(SIGHUP), XSIG_DISP_XSIG);
  xsig_shutdown();
}

#ifndef _WIN32
TEST(Lifecycle, AnIgnoredSighupStaysIgnoredUnlessTaken) {
  ASSERT_EQ(xsig_init(), 0);
  ASSERT_EQ(xsig_ignore(SIGHUP), 0);
  EXPECT_EQ(xsig_reload_start(nullptr, reload_ok, nullptr), XSIG_EIGNORED);
  EXPECT_EQ(xsig_disposition(SIGHUP), XSIG_DISP_IGNORED);
  EXPECT_EQ(xsig_reload_stop(), 0) << "nothing was started";
  ASSERT_EQ(xsig_reload_start_flags(nullptr, reload_ok, nullptr, XSIG_TAKE_IGNORED), 0);
  ASSERT_EQ(xsig_raise(SIGHUP), 0);
  EXPECT_EQ(xsig_wait(nullptr, 10000), 1);
  EXPECT_EQ(reloads, 1);
  EXPECT_EQ(xsig_reload_stop(), 0);
  EXPECT_EQ(xsig_disposition(SIGHUP), XSIG_DISP_IGNORED);
  xsig_shutdown();
}

TEST(Lifecycle, BothStopSignalsIgnoredStartsNothing) {
  ASSERT_EQ(xsig_init(), 0);
  ASSERT_EQ(xsig_ignore(SIGINT), 0);
  ASSERT_EQ(xsig_ignore(SIGTERM), 0);
  EXPECT_EQ(xsig_graceful_start(nullptr, nullptr), XSIG_EIGNORED);
  EXPECT_EQ(xsig_disposition(SIGINT), XSIG_DISP_IGNORED);
  EXPECT_EQ(xsig_disposition(SIGTERM), XSIG_DISP_IGNORED);
  EXPECT_EQ(xsig_graceful_stop(), 0) << "nothing was started";
  xsig_shutdown();
}
#endif

TEST(Lifecycle, NotifyWithoutASocketIsZero) {
#ifdef _WIN32
  _putenv("NOTIFY_SOCKET=");
#else
  unsetenv("NOTIFY_SOCKET");
#endif
  EXPECT_EQ(xsig_notify("READY=1"), 0);
  EXPECT_EQ(xsig_notify_ready(), 0);
  EXPECT_EQ(xsig_notify_stopping(), 0);
  EXPECT_EQ(xsig_notify_status("fine"), 0);
  EXPECT_EQ(xsig_notify_reloading(), 0);
  EXPECT_EQ(xsig_notify(nullptr), XSIG_EINVAL);
  uint64_t us = 1;
  EXPECT_EQ(xsig_watchdog_interval(&us), 0);
  EXPECT_EQ(us, 0u);
}

} // namespace
