// The portable contract: names, support, errors, contexts, watches, dispatch.
// Runs natively and under Wine; POSIX-only behaviour is in posix_*_test.cc.
#include <gtest/gtest.h>

#include <xsig/xsig.h>

#include <atomic>
#include <cstring>
#include <mutex>
#include <condition_variable>
#include <string>
#include <thread>
#include <vector>

#ifdef _WIN32
#include <winsock2.h>
#else
#include <poll.h>
#include <unistd.h>
#endif

#include "support/core_peek.h"
#include "support/support.h"

namespace {

using xsigtest::readable;
using xsigtest::Rec;
using xsigtest::record;

// Waits (generously) until the context has dispatched at least `want` events.
int wait_for(xsig_ctx_t *ctx, Rec &rec, size_t want, int timeout_ms = 10000) {
  int ran = 0;
  long long end = xsigtest::now_ms() + timeout_ms;
  while (rec.events.size() < want && xsigtest::now_ms() < end) {
    int r = xsig_wait(ctx, 200);
    if (r < 0) return r;
    ran += r;
  }
  return ran;
}

class Core : public ::testing::Test {
protected:
  void SetUp() override {
    ASSERT_EQ(0, xsig_init());
  }
  void TearDown() override {
    xsig_shutdown();
  }
};

} // namespace

// ------------------------------------------------------------------ names

TEST(Names, StandardNamesRoundTrip) {
  EXPECT_STREQ("SIGINT", xsig_name(SIGINT));
  EXPECT_STREQ("SIGTERM", xsig_name(SIGTERM));
  EXPECT_STREQ("SIGHUP", xsig_name(SIGHUP));
  EXPECT_STREQ("SIGKILL", xsig_name(SIGKILL));
  EXPECT_STREQ("SIGUSR1", xsig_name(SIGUSR1));
  EXPECT_STREQ("SIGWINCH", xsig_name(SIGWINCH));
  int sigs[128];
  int n = xsig_signals(sigs, 128);
  ASSERT_GT(n, 10);
  for (int i = 0; i < n; i++) {
    const char *name = xsig_name(sigs[i]);
    ASSERT_NE(nullptr, name) << sigs[i];
    EXPECT_EQ(sigs[i], xsig_from_name(name)) << name;
    EXPECT_EQ(sigs[i], xsig_from_name(name + 3)) << name;
    EXPECT_EQ(sigs[i], xsig_from_name(std::to_string(sigs[i]).c_str()));
  }
}

TEST(Names, ParsingAcceptsCaseAndPrefix) {
  EXPECT_EQ(SIGTERM, xsig_from_name("SIGTERM"));
  EXPECT_EQ(SIGTERM, xsig_from_name("TERM"));
  EXPECT_EQ(SIGTERM, xsig_from_name("term"));
  EXPECT_EQ(SIGTERM, xsig_from_name("sigTerm"));
  EXPECT_EQ(SIGTERM, xsig_from_name("15"));
  EXPECT_EQ(SIGINT, xsig_from_name("int"));
}

TEST(Names, GarbageIsRejected) {
  const char *bad[] = {"",
                       "SIG",
                       "SIGFOO",
                       "TERMX",
                       "15x",
                       " 15",
                       "15 ",
                       "+15",
                       "-15",
                       "0",
                       "00",
                       "9999",
                       "99999999999999999999",
                       "SIG15",
                       "SIGSIGTERM",
                       "TERM\n",
                       "0x0f",
                       "1.5"};
  for (const char *s : bad) EXPECT_EQ(XSIG_EINVAL, xsig_from_name(s)) << '"' << s << '"';
  EXPECT_EQ(XSIG_EINVAL, xsig_from_name(nullptr));
  EXPECT_EQ(nullptr, xsig_name(0));
  EXPECT_EQ(nullptr, xsig_name(-1));
  EXPECT_EQ(nullptr, xsig_name(100000));
}

TEST(Names, SignalListIsSortedUniqueAndCounted) {
  int total = xsig_signals(nullptr, 0);
  ASSERT_GT(total, 0);
  std::vector<int> v(total);
  ASSERT_EQ(total, xsig_signals(v.data(), v.size()));
  for (int i = 1; i < total; i++) EXPECT_LT(v[i - 1], v[i]);
  int few[3] = {-7, -7, -7};
  EXPECT_EQ(total, xsig_signals(few, 2));
  EXPECT_EQ(v[0], few[0]);
  EXPECT_EQ(v[1], few[1]);
  EXPECT_EQ(-7, few[2]);
  EXPECT_EQ(XSIG_EINVAL, xsig_signals(nullptr, 4));
}

// ------------------------------------------------------------------ support

TEST(Support, PortableSubsetAndRefusals) {
  EXPECT_TRUE(xsig_is_portable(SIGINT));
  EXPECT_TRUE(xsig_is_portable(SIGTERM));
  EXPECT_FALSE(xsig_is_portable(SIGHUP));
  EXPECT_FALSE(xsig_is_portable(0));
  EXPECT_EQ(XSIG_NATIVE, xsig_support(SIGINT));
  EXPECT_NE(XSIG_UNSUPPORTED, xsig_support(SIGTERM));
  EXPECT_EQ(XSIG_UNSUPPORTED, xsig_support(SIGKILL));
  EXPECT_EQ(XSIG_UNSUPPORTED, xsig_support(SIGSTOP));
  EXPECT_EQ(XSIG_UNSUPPORTED, xsig_support(SIGSEGV));
  EXPECT_EQ(XSIG_UNSUPPORTED, xsig_support(SIGABRT));
  EXPECT_EQ(XSIG_UNSUPPORTED, xsig_support(0));
  EXPECT_EQ(XSIG_UNSUPPORTED, xsig_support(-3));
  EXPECT_NE(nullptr, xsig_platform());
}

// Support says UNSUPPORTED exactly for the signals xsig_watch refuses.
TEST_F(Core, SupportMatchesWatchExactly) {
  int sigs[128];
  int n = xsig_signals(sigs, 128);
  for (int i = 0; i < n; i++) {
    Rec rec;
    xsig_watch_t *w = nullptr;
    int r = xsig_watch(nullptr, sigs[i], record, &rec, 0, &w);
#ifdef SIGRTMAX
    if (sigs[i] == SIGRTMAX && xsigtest::under_valgrind()) {
      // valgrind's own sigaction refuses the signal it keeps: a system error.
      printf("valgrind keeps SIGRTMAX: its watch fails with XSIG_ESYS, as expected there\n");
      EXPECT_EQ(XSIG_ESYS, r);
      EXPECT_EQ(nullptr, w);
      continue;
    }
#endif
    if (xsig_support(sigs[i]) == XSIG_UNSUPPORTED) {
      EXPECT_LT(r, 0) << xsig_name(sigs[i]);
      EXPECT_EQ(nullptr, w);
    } else {
      EXPECT_EQ(0, r) << xsig_name(sigs[i]);
      EXPECT_EQ(0, xsig_unwatch(w));
    }
  }
}

TEST(Errors, EveryCodeHasItsOwnText) {
  int codes[] = {XSIG_EINVAL, XSIG_ENOTSUP, XSIG_EFAULTSIG, XSIG_ESTATE,  XSIG_ENOMEM,   XSIG_ESYS,
                 XSIG_ESRCH,  XSIG_EPERM,   XSIG_EIGNORED,  XSIG_ENOTSVC, XSIG_ENOLISTEN};
  for (int a : codes)
    for (int b : codes)
      if (a != b) EXPECT_STRNE(xsig_strerror(a), xsig_strerror(b));
  EXPECT_NE(nullptr, xsig_strerror(-999));
  EXPECT_NE(nullptr, xsig_strerror(0));
}

// ------------------------------------------------------------------ lifetime

TEST(Lifetime, NothingWorksBeforeInit) {
  Rec rec;
  EXPECT_EQ(XSIG_ESTATE, xsig_watch(nullptr, SIGINT, record, &rec, 0, nullptr));
  EXPECT_EQ(XSIG_ESTATE, xsig_dispatch(nullptr));
  EXPECT_EQ(XSIG_ESTATE, xsig_wait(nullptr, 0));
  xsig_shutdown(); // without init: harmless
  EXPECT_EQ(XSIG_ESTATE, xsig_dispatch(nullptr));
}

TEST(Lifetime, InitIsReferenceCounted) {
  ASSERT_EQ(0, xsig_init());
  ASSERT_EQ(0, xsig_init());
  Rec rec;
  ASSERT_EQ(0, xsig_watch(nullptr, SIGINT, record, &rec, 0, nullptr));
  EXPECT_EQ(XSIG_DISP_XSIG, xsig_disposition(SIGINT));
  xsig_shutdown();
  EXPECT_EQ(XSIG_DISP_XSIG, xsig_disposition(SIGINT));
  EXPECT_EQ(0, xsig_dispatch(nullptr));
  xsig_shutdown();
  EXPECT_EQ(XSIG_DISP_DEFAULT, xsig_disposition(SIGINT));
  EXPECT_EQ(XSIG_ESTATE, xsig_dispatch(nullptr));
}

TEST(Lifetime, ContextsKeepTheEngineAliveAfterShutdown) {
  ASSERT_EQ(0, xsig_init());
  xsig_ctx_t *ctx = nullptr;
  ASSERT_EQ(0, xsig_ctx_new(&ctx));
  xsig_shutdown();
  Rec rec;
  ASSERT_EQ(0, xsig_watch(ctx, SIGINT, record, &rec, 0, nullptr));
  ASSERT_EQ(0, xsig_feed(SIGINT));
  EXPECT_EQ(1, xsig_wait(ctx, 10000));
  xsig_ctx_free(ctx);
  EXPECT_EQ(XSIG_DISP_DEFAULT, xsig_disposition(SIGINT));
  EXPECT_EQ(XSIG_EINVAL, xsig_ctx_new(nullptr));
  xsig_ctx_free(nullptr);
}

// ------------------------------------------------------------------ watch errors

TEST_F(Core, WatchRejectsBadArguments) {
  Rec rec;
  xsig_watch_t *w = reinterpret_cast<xsig_watch_t *>(&rec);
  EXPECT_EQ(XSIG_EINVAL, xsig_watch(nullptr, 0, record, &rec, 0, &w));
  EXPECT_EQ(nullptr, w);
  EXPECT_EQ(XSIG_EINVAL, xsig_watch(nullptr, -1, record, &rec, 0, nullptr));
  EXPECT_EQ(XSIG_EINVAL, xsig_watch(nullptr, 4096, record, &rec, 0, nullptr));
  EXPECT_EQ(XSIG_EINVAL, xsig_watch(nullptr, SIGINT, nullptr, &rec, 0, nullptr));
  EXPECT_EQ(XSIG_EINVAL, xsig_watch(nullptr, SIGINT, record, &rec, 0x80, nullptr));
  EXPECT_EQ(XSIG_ENOTSUP, xsig_watch(nullptr, SIGKILL, record, &rec, 0, nullptr));
  EXPECT_EQ(XSIG_ENOTSUP, xsig_watch(nullptr, SIGSTOP, record, &rec, 0, nullptr));
  for (int s : {SIGSEGV, SIGILL, SIGFPE, SIGABRT}) {
    EXPECT_EQ(XSIG_EFAULTSIG, xsig_watch(nullptr, s, record, &rec, 0, nullptr)) << s;
    EXPECT_EQ(XSIG_EFAULTSIG, xsig_ignore(s)) << s;
    EXPECT_EQ(XSIG_EFAULTSIG, xsig_default(s)) << s;
  }
  EXPECT_EQ(XSIG_EINVAL, xsig_unwatch(nullptr));
  EXPECT_EQ(XSIG_EINVAL, xsig_wait(nullptr, -2));
  EXPECT_EQ(XSIG_EINVAL, xsig_feed(0));
  EXPECT_EQ(XSIG_EINVAL, xsig_feed(-5));
}

TEST_F(Core, SendRejectsBadArguments) {
  EXPECT_EQ(XSIG_EINVAL, xsig_send(0, SIGTERM));
  EXPECT_EQ(XSIG_EINVAL, xsig_send(-1, SIGTERM));
  EXPECT_EQ(XSIG_EINVAL, xsig_send(12345, -1));
  EXPECT_EQ(XSIG_EINVAL, xsig_send(12345, 4096));
  EXPECT_EQ(XSIG_EINVAL, xsig_send_group(-2, SIGTERM));
  EXPECT_EQ(XSIG_EINVAL, xsig_raise(0));
  EXPECT_EQ(XSIG_EINVAL, xsig_raise(-1));
  EXPECT_EQ(XSIG_EINVAL, xsig_disposition(0));
  EXPECT_EQ(XSIG_EINVAL, xsig_ignore(0));
}

#ifndef _WIN32
// POSIX has no mailbox to ask, even about a process that watches SIGTERM (this
// one); bad arguments are still XSIG_EINVAL.
TEST_F(Core, AcceptsIsNotSupportedOnPosix) {
  Rec rec;
  xsig_watch_t *w = nullptr;
  ASSERT_EQ(0, xsig_watch(nullptr, SIGTERM, record, &rec, 0, &w));
  int sigs[8];
  EXPECT_EQ(XSIG_ENOTSUP, xsig_accepts(getpid(), sigs, 8));
  EXPECT_EQ(XSIG_ENOTSUP, xsig_accepts(getpid(), nullptr, 0));
  EXPECT_EQ(XSIG_EINVAL, xsig_accepts(0, sigs, 8));
  EXPECT_EQ(XSIG_EINVAL, xsig_accepts(getpid(), nullptr, 1));
  EXPECT_EQ(0, xsig_unwatch(w));
}
#endif

// ------------------------------------------------------------------ delivery

TEST_F(Core, FeedIsDispatchedWithSourceSelf) {
  Rec rec;
  ASSERT_EQ(0, xsig_watch(nullptr, SIGINT, record, &rec, 0, nullptr));
  EXPECT_EQ(0u, xsig_pending(nullptr, SIGINT));
  ASSERT_EQ(0, xsig_feed(SIGINT));
  ASSERT_EQ(0, xsig_feed(SIGINT));
  ASSERT_EQ(0, xsig_feed(SIGINT));
  EXPECT_EQ(3u, xsig_pending(nullptr, SIGINT));
  EXPECT_TRUE(readable(xsig_wakeup_handle(nullptr)));
  EXPECT_EQ(1, xsig_dispatch(nullptr));
  ASSERT_EQ(1u, rec.events.size());
  EXPECT_EQ(SIGINT, rec.events[0].signum);
  EXPECT_EQ(3u, rec.events[0].count);
  EXPECT_EQ(XSIG_SRC_SELF, rec.events[0].source);
  EXPECT_EQ(-1, rec.events[0].sender_pid);
  EXPECT_EQ(0u, xsig_pending(nullptr, SIGINT));
  EXPECT_FALSE(readable(xsig_wakeup_handle(nullptr)));
  EXPECT_EQ(0, xsig_dispatch(nullptr));
}

TEST_F(Core, RaiseOfAWatchedSignalReachesTheCallbackAndTheProcessLives) {
  Rec rec;
  ASSERT_EQ(0, xsig_watch(nullptr, SIGINT, record, &rec, 0, nullptr));
  ASSERT_EQ(0, xsig_raise(SIGINT));
  EXPECT_EQ(1, wait_for(nullptr, rec, 1));
  ASSERT_EQ(1u, rec.events.size());
  EXPECT_EQ(SIGINT, rec.events[0].signum);
  EXPECT_GE(rec.events[0].count, 1u);
}

TEST_F(Core, UnwatchedSignalsAreNotCounted) {
  Rec rec;
  ASSERT_EQ(0, xsig_watch(nullptr, SIGINT, record, &rec, 0, nullptr));
  ASSERT_EQ(0, xsig_feed(SIGTERM));
  EXPECT_EQ(0u, xsig_pending(nullptr, SIGTERM));
  EXPECT_FALSE(readable(xsig_wakeup_handle(nullptr)));
  EXPECT_EQ(0, xsig_dispatch(nullptr));
  EXPECT_TRUE(rec.events.empty());
}

TEST_F(Core, WaitTimesOutWithZero) {
  Rec rec;
  ASSERT_EQ(0, xsig_watch(nullptr, SIGINT, record, &rec, 0, nullptr));
  EXPECT_EQ(0, xsig_wait(nullptr, 0));
  EXPECT_EQ(0, xsig_wait(nullptr, 30));
  EXPECT_TRUE(rec.events.empty());
}

TEST_F(Core, WaitIsWokenByAnotherThread) {
  Rec rec;
  ASSERT_EQ(0, xsig_watch(nullptr, SIGINT, record, &rec, 0, nullptr));
  std::atomic<bool> go{false};
  std::thread t([&] {
    while (!go) std::this_thread::yield();
    xsig_feed(SIGINT);
  });
  go = true;
  EXPECT_EQ(1, xsig_wait(nullptr, -1));
  t.join();
  EXPECT_EQ(1u, rec.events.size());
}

TEST_F(Core, WatchesRunInOrderOfAddition) {
  std::vector<int> order;
  auto cb = [](const xsig_event_t *, void *u) {
    auto *p = static_cast<std::pair<std::vector<int> *, int> *>(u);
    p->first->push_back(p->second);
  };
  std::pair<std::vector<int> *, int> a{&order, 1}, b{&order, 2}, c{&order, 3};
  ASSERT_EQ(0, xsig_watch(nullptr, SIGINT, cb, &a, 0, nullptr));
  ASSERT_EQ(0, xsig_watch(nullptr, SIGINT, cb, &b, 0, nullptr));
  ASSERT_EQ(0, xsig_watch(nullptr, SIGINT, cb, &c, 0, nullptr));
  xsig_feed(SIGINT);
  EXPECT_EQ(3, xsig_dispatch(nullptr));
  EXPECT_EQ((std::vector<int>{1, 2, 3}), order);
}

TEST_F(Core, OneshotRunsOnce) {
  Rec once, always;
  ASSERT_EQ(0, xsig_watch(nullptr, SIGINT, record, &once, XSIG_ONESHOT, nullptr));
  ASSERT_EQ(0, xsig_watch(nullptr, SIGINT, record, &always, 0, nullptr));
  xsig_feed(SIGINT);
  EXPECT_EQ(2, xsig_dispatch(nullptr));
  xsig_feed(SIGINT);
  EXPECT_EQ(1, xsig_dispatch(nullptr));
  EXPECT_EQ(1u, once.events.size());
  EXPECT_EQ(2u, always.events.size());
}

TEST_F(Core, LastOneshotRestoresTheDisposition) {
  Rec once;
  ASSERT_EQ(0, xsig_watch(nullptr, SIGINT, record, &once, XSIG_ONESHOT, nullptr));
  EXPECT_EQ(XSIG_DISP_XSIG, xsig_disposition(SIGINT));
  xsig_feed(SIGINT);
  EXPECT_EQ(1, xsig_dispatch(nullptr));
  EXPECT_EQ(XSIG_DISP_DEFAULT, xsig_disposition(SIGINT));
}

namespace {
struct SelfRemover {
  xsig_watch_t *w = nullptr;
  int calls = 0;
  int unwatch_result = 1;
};
void remove_self(const xsig_event_t *, void *u) {
  auto *s = static_cast<SelfRemover *>(u);
  s->calls++;
  s->unwatch_result = xsig_unwatch(s->w);
}
} // namespace

TEST_F(Core, CallbackMayUnwatchItself) {
  SelfRemover s;
  ASSERT_EQ(0, xsig_watch(nullptr, SIGINT, remove_self, &s, 0, &s.w));
  xsig_feed(SIGINT);
  EXPECT_EQ(1, xsig_dispatch(nullptr));
  EXPECT_EQ(0, s.unwatch_result);
  xsig_feed(SIGINT);
  EXPECT_EQ(0, xsig_dispatch(nullptr));
  EXPECT_EQ(1, s.calls);
}

TEST_F(Core, CallbackMayUnwatchALaterWatch) {
  SelfRemover first;
  Rec later;
  xsig_watch_t *lw = nullptr;
  ASSERT_EQ(0, xsig_watch(nullptr, SIGINT, remove_self, &first, 0, nullptr));
  ASSERT_EQ(0, xsig_watch(nullptr, SIGINT, record, &later, 0, &lw));
  first.w = lw; // the first callback removes the second watch before it runs
  xsig_feed(SIGINT);
  EXPECT_EQ(1, xsig_dispatch(nullptr));
  EXPECT_EQ(0, first.unwatch_result);
  EXPECT_TRUE(later.events.empty());
}

namespace {
struct Adder {
  Rec added;
  int adds = 0;
};
void add_watch(const xsig_event_t *, void *u) {
  auto *a = static_cast<Adder *>(u);
  if (a->adds++ == 0) xsig_watch(nullptr, SIGINT, record, &a->added, 0, nullptr);
}
} // namespace

TEST_F(Core, WatchAddedByACallbackStartsWithTheNextDelivery) {
  Adder a;
  ASSERT_EQ(0, xsig_watch(nullptr, SIGINT, add_watch, &a, 0, nullptr));
  xsig_feed(SIGINT);
  EXPECT_EQ(1, xsig_dispatch(nullptr));
  EXPECT_TRUE(a.added.events.empty());
  xsig_feed(SIGINT);
  EXPECT_EQ(2, xsig_dispatch(nullptr));
  EXPECT_EQ(1u, a.added.events.size());
}

TEST_F(Core, EveryContextSeesEveryDelivery) {
  xsig_ctx_t *a = nullptr, *b = nullptr;
  ASSERT_EQ(0, xsig_ctx_new(&a));
  ASSERT_EQ(0, xsig_ctx_new(&b));
  EXPECT_NE(xsig_wakeup_handle(a), xsig_wakeup_handle(b));
  Rec ra, rb, rd;
  ASSERT_EQ(0, xsig_watch(a, SIGINT, record, &ra, 0, nullptr));
  ASSERT_EQ(0, xsig_watch(b, SIGINT, record, &rb, 0, nullptr));
  ASSERT_EQ(0, xsig_watch(nullptr, SIGTERM, record, &rd, 0, nullptr));
  xsig_feed(SIGINT);
  xsig_feed(SIGINT);
  EXPECT_TRUE(readable(xsig_wakeup_handle(a)));
  EXPECT_TRUE(readable(xsig_wakeup_handle(b)));
  EXPECT_FALSE(readable(xsig_wakeup_handle(nullptr))); // watches only SIGTERM
  EXPECT_EQ(1, xsig_dispatch(a));
  // Dispatching a consumed nothing of b's.
  EXPECT_EQ(2u, xsig_pending(b, SIGINT));
  EXPECT_TRUE(readable(xsig_wakeup_handle(b)));
  EXPECT_EQ(1, xsig_dispatch(b));
  ASSERT_EQ(1u, ra.events.size());
  ASSERT_EQ(1u, rb.events.size());
  EXPECT_EQ(2u, ra.events[0].count);
  EXPECT_EQ(2u, rb.events[0].count);
  EXPECT_EQ(0, xsig_dispatch(nullptr));
  xsig_ctx_free(a);
  xsig_ctx_free(b);
}

TEST_F(Core, ANewWatchDoesNotSeeOlderDeliveries) {
  xsig_ctx_t *a = nullptr, *b = nullptr;
  ASSERT_EQ(0, xsig_ctx_new(&a));
  ASSERT_EQ(0, xsig_ctx_new(&b));
  Rec ra, rb;
  ASSERT_EQ(0, xsig_watch(a, SIGINT, record, &ra, 0, nullptr));
  xsig_feed(SIGINT);
  ASSERT_EQ(0, xsig_watch(b, SIGINT, record, &rb, 0, nullptr));
  EXPECT_EQ(0u, xsig_pending(b, SIGINT));
  EXPECT_EQ(0, xsig_dispatch(b));
  EXPECT_EQ(1, xsig_dispatch(a));
  xsig_ctx_free(a);
  xsig_ctx_free(b);
}

TEST_F(Core, FreeingAContextRemovesItsWatches) {
  xsig_ctx_t *a = nullptr;
  ASSERT_EQ(0, xsig_ctx_new(&a));
  Rec ra;
  ASSERT_EQ(0, xsig_watch(a, SIGTERM, record, &ra, 0, nullptr));
  EXPECT_EQ(XSIG_DISP_XSIG, xsig_disposition(SIGTERM));
  xsig_ctx_free(a);
  EXPECT_EQ(XSIG_DISP_DEFAULT, xsig_disposition(SIGTERM));
}

namespace {
struct Reenter {
  int dispatch_result = 1, wait_result = 1, calls = 0;
  bool feed_again = false;
};
void reenter(const xsig_event_t *, void *u) {
  auto *r = static_cast<Reenter *>(u);
  r->calls++;
  r->dispatch_result = xsig_dispatch(nullptr);
  r->wait_result = xsig_wait(nullptr, 0);
  if (r->feed_again) {
    r->feed_again = false;
    xsig_feed(SIGINT);
  }
}
} // namespace

TEST_F(Core, DispatchingFromOwnCallbackIsRefused) {
  Reenter r;
  ASSERT_EQ(0, xsig_watch(nullptr, SIGINT, reenter, &r, 0, nullptr));
  r.feed_again = true; // and a delivery during its own callback is kept for later
  xsig_feed(SIGINT);
  EXPECT_EQ(1, xsig_dispatch(nullptr));
  EXPECT_EQ(XSIG_ESTATE, r.dispatch_result);
  EXPECT_EQ(XSIG_ESTATE, r.wait_result);
  EXPECT_EQ(1, r.calls);
  EXPECT_EQ(1u, xsig_pending(nullptr, SIGINT));
  EXPECT_EQ(1, xsig_dispatch(nullptr));
  EXPECT_EQ(2, r.calls);
}

TEST_F(Core, DispatchingFromASecondThreadIsRefusedAndConsumesNothing) {
  std::mutex m;
  std::condition_variable cv;
  bool inside = false, release = false;
  struct Ctx {
    std::mutex *m;
    std::condition_variable *cv;
    bool *inside, *release;
  } c{&m, &cv, &inside, &release};
  auto block = [](const xsig_event_t *, void *u) {
    auto *c = static_cast<Ctx *>(u);
    std::unique_lock<std::mutex> l(*c->m);
    *c->inside = true;
    c->cv->notify_all();
    c->cv->wait(l, [&] { return *c->release; });
  };
  Rec other;
  ASSERT_EQ(0, xsig_watch(nullptr, SIGINT, block, &c, 0, nullptr));
  ASSERT_EQ(0, xsig_watch(nullptr, SIGTERM, record, &other, 0, nullptr));
  xsig_feed(SIGINT);
  std::thread t([] { xsig_dispatch(nullptr); });
  {
    std::unique_lock<std::mutex> l(m);
    ASSERT_TRUE(cv.wait_for(l, std::chrono::seconds(30), [&] { return inside; }));
  }
  xsig_feed(SIGTERM);
  EXPECT_EQ(XSIG_ESTATE, xsig_dispatch(nullptr));
  EXPECT_EQ(XSIG_ESTATE, xsig_wait(nullptr, 10));
  EXPECT_EQ(1u, xsig_pending(nullptr, SIGTERM));
  EXPECT_TRUE(other.events.empty());
  {
    std::lock_guard<std::mutex> l(m);
    release = true;
  }
  cv.notify_all();
  t.join();
  EXPECT_EQ(1, xsig_dispatch(nullptr));
  EXPECT_EQ(1u, other.events.size());
}

TEST_F(Core, UnwatchFromAnotherThreadWaitsForTheRunningCallback) {
  struct State {
    std::atomic<bool> inside{false}, finished{false}, release{false};
  } st;
  auto slow = [](const xsig_event_t *, void *u) {
    auto *s = static_cast<State *>(u);
    s->inside = true;
    while (!s->release) std::this_thread::yield();
    s->finished = true;
  };
  xsig_watch_t *w = nullptr;
  ASSERT_EQ(0, xsig_watch(nullptr, SIGINT, slow, &st, 0, &w));
  xsig_feed(SIGINT);
  std::thread t([] { xsig_dispatch(nullptr); });
  ASSERT_TRUE(xsigtest::wait_until([&] { return st.inside.load(); }, 30000));
  std::atomic<bool> unwatched{false}, calling{false};
  std::thread u([&] {
    calling = true;
    EXPECT_EQ(0, xsig_unwatch(w));
    // The contract: once unwatch returns, the callback is not running.
    EXPECT_TRUE(st.finished.load());
    unwatched = true;
  });
  ASSERT_TRUE(xsigtest::wait_until([&] { return calling.load(); }, 30000));
  // Not a wait for an event: it only gives the unwatch time to block first.
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_FALSE(unwatched.load());
  st.release = true;
  u.join();
  t.join();
  EXPECT_TRUE(unwatched.load());
  xsig_feed(SIGINT);
  EXPECT_EQ(0, xsig_dispatch(nullptr));
}

TEST_F(Core, FeedsFromManyThreadsAreAllCounted) {
  Rec rec;
  ASSERT_EQ(0, xsig_watch(nullptr, SIGINT, record, &rec, 0, nullptr));
  const int threads = 4, each = 5000;
  std::vector<std::thread> ts;
  for (int i = 0; i < threads; i++)
    ts.emplace_back([] {
      for (int j = 0; j < each; j++) xsig_feed(SIGINT);
    });
  // Dispatch concurrently with the feeders; a full wakeup pair must lose nothing.
  while (rec.total() < (uint32_t)(threads * each)) {
    if (xsig_wait(nullptr, 10000) <= 0) break;
  }
  for (auto &t : ts) t.join();
  xsig_dispatch(nullptr);
  EXPECT_EQ((uint32_t)(threads * each), rec.total());
}

TEST_F(Core, WatchedSignalsRefuseDispositionChanges) {
  Rec rec;
  ASSERT_EQ(0, xsig_watch(nullptr, SIGTERM, record, &rec, 0, nullptr));
  EXPECT_EQ(XSIG_ESTATE, xsig_ignore(SIGTERM));
  EXPECT_EQ(XSIG_ESTATE, xsig_default(SIGTERM));
  EXPECT_EQ(XSIG_DISP_XSIG, xsig_disposition(SIGTERM));
  EXPECT_EQ(XSIG_ENOTSUP, xsig_ignore(SIGKILL));
}

TEST_F(Core, IgnoreAndDefaultAreReported) {
  ASSERT_EQ(0, xsig_ignore(SIGINT));
  EXPECT_EQ(XSIG_DISP_IGNORED, xsig_disposition(SIGINT));
  ASSERT_EQ(0, xsig_default(SIGINT));
  EXPECT_EQ(XSIG_DISP_DEFAULT, xsig_disposition(SIGINT));
}

// The last xsig_shutdown wakes a thread blocked in xsig_wait on the default
// context: it returns (0, or ESTATE if the shutdown came first) instead of
// sleeping forever on a context that no longer exists.
TEST(Lifetime, ShutdownWakesAThreadWaitingForever) {
  ASSERT_EQ(0, xsig_init());
  Rec rec;
  ASSERT_EQ(0, xsig_watch(nullptr, SIGINT, record, &rec, 0, nullptr));
  std::atomic<bool> calling{false}, returned{false};
  std::atomic<int> result{1};
  std::thread waiter([&] {
    calling = true;
    result = xsig_wait(nullptr, -1);
    returned = true;
  });
  ASSERT_TRUE(xsigtest::wait_until([&] { return calling.load(); }, 30000));
  // Not a wait for an event: it lets the waiter block first, most of the time.
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  xsig_shutdown();
  bool ok = xsigtest::wait_until([&] { return returned.load(); }, 30000);
  if (!ok) waiter.detach();
  ASSERT_TRUE(ok);
  waiter.join();
  EXPECT_TRUE(result == 0 || result == XSIG_ESTATE) << result;
}

TEST(Lifetime, FreeingAContextWakesItsWaiter) {
  xsig_ctx_t *ctx;
  ASSERT_EQ(0, xsig_ctx_new(&ctx));
  Rec rec;
  ASSERT_EQ(0, xsig_watch(ctx, SIGINT, record, &rec, 0, nullptr));
  std::atomic<bool> returned{false};
  std::atomic<int> result{1};
  std::thread waiter([&] {
    int r;
    // ESTATE only while the main thread's probe below holds the role.
    while ((r = xsig_wait(ctx, -1)) == XSIG_ESTATE) std::this_thread::yield();
    result = r;
    returned = true;
  });
  // A second dispatcher is refused exactly while the waiter holds the role:
  // from then on the context may be freed under it.
  ASSERT_TRUE(xsigtest::wait_until([&] { return xsig_dispatch(ctx) == XSIG_ESTATE; }, 30000));
  xsig_ctx_free(ctx);
  bool ok = xsigtest::wait_until([&] { return returned.load(); }, 30000);
  if (!ok) waiter.detach();
  ASSERT_TRUE(ok);
  waiter.join();
  EXPECT_EQ(0, result.load());
  EXPECT_TRUE(rec.events.empty());
}

// ------------------------------------------------------------------ handle lifetimes and races

// A one-shot handle that was asked for stays the caller's after the watch has
// fired: unwatch then says XSIG_EINVAL and touches no freed memory.
TEST_F(Core, UnwatchOfAFiredOneshotIsEinvalAndSafe) {
  Rec rec;
  xsig_watch_t *w = nullptr;
  ASSERT_EQ(0, xsig_watch(nullptr, SIGINT, record, &rec, XSIG_ONESHOT, &w));
  xsig_feed(SIGINT);
  ASSERT_EQ(1, xsig_dispatch(nullptr));
  EXPECT_EQ(XSIG_EINVAL, xsig_unwatch(w));
}

// Teardown code that cancels "if not fired yet" from another thread while the
// one-shot fires: every order ends with one callback at most and no freed
// memory touched.
TEST_F(Core, UnwatchRacingAFiringOneshotIsSafe) {
  for (int round = 0; round < 300; round++) {
    std::atomic<int> runs{0};
    xsig_watch_t *w = nullptr;
    ASSERT_EQ(0, xsig_watch(
                     nullptr, SIGINT,
                     [](const xsig_event_t *, void *u) { ++*static_cast<std::atomic<int> *>(u); },
                     &runs, XSIG_ONESHOT, &w));
    xsig_feed(SIGINT);
    std::atomic<bool> go{false};
    int r = 1;
    std::thread canceller([&] {
      while (!go) {
      }
      r = xsig_unwatch(w);
    });
    go = true;
    xsig_dispatch(nullptr);
    canceller.join();
    EXPECT_LE(runs.load(), 1);
    EXPECT_TRUE(r == 0 || r == XSIG_EINVAL) << r;
    if (r == XSIG_EINVAL) EXPECT_EQ(1, runs.load()) << "round " << round;
  }
}

// A delivery that lands while xsig_watch runs, or any time after it returns,
// leaves the wakeup handle readable: a poll loop of the caller's own must
// never sleep through it.
TEST_F(Core, APendingDeliveryAfterWatchAlwaysMakesTheHandleReadable) {
  xsig_ctx_t *keeper, *ctx;
  ASSERT_EQ(0, xsig_ctx_new(&keeper));
  ASSERT_EQ(0, xsig_ctx_new(&ctx));
  Rec krec, rec;
  // Keeps the signal installed, so each watch below takes the fast path that
  // only sets a baseline and an interest bit.
  ASSERT_EQ(0, xsig_watch(keeper, SIGINT, record, &krec, 0, nullptr));
  std::atomic<bool> stop{false}, pause{false}, paused{false};
  std::thread feeder([&] {
    while (!stop) {
      paused = pause.load();
      if (!paused) xsig_feed(SIGINT);
    }
  });
  int silent = 0;
#ifdef _WIN32
  const int rounds = 3000; // each round costs several wineserver calls: about 4 s under Wine
#else
  int rounds = 200000; // the window is a few instructions: 1 or 2 hits in 200,000 before the fix
  if (xsigtest::under_valgrind()) {
    // valgrind runs one thread at a time, about 50 times slower: 200,000
    // rounds take over ten minutes, and the window can hardly be hit there.
    rounds = 2000;
    printf("valgrind: %d rounds only\n", rounds);
  }
#endif
  for (int round = 0; round < rounds && silent == 0; round++) {
    xsig_watch_t *w;
    ASSERT_EQ(0, xsig_watch(ctx, SIGINT, record, &rec, 0, &w));
    if (xsig_pending(ctx, SIGINT) > 0 && !readable(xsig_wakeup_handle(ctx))) {
      // A poke may still be on its way: let the feeder finish the feed it is
      // in and start no other, then look again.
      pause = true;
      ASSERT_TRUE(xsigtest::wait_until([&] { return paused.load(); }));
      if (!readable(xsig_wakeup_handle(ctx))) silent++;
      pause = false;
    }
    xsig_dispatch(ctx);
    ASSERT_EQ(0, xsig_unwatch(w));
    xsig_dispatch(ctx);
    if (round % 64 == 0) xsig_dispatch(keeper);
  }
  stop = true;
  feeder.join();
  EXPECT_EQ(0, silent) << "a pending delivery with nothing to read";
  xsig_ctx_free(ctx);
  xsig_ctx_free(keeper);
}

// 2^32 undispatched deliveries are not none: the count saturates.
TEST_F(Core, FourBillionUndispatchedDeliveriesAreNotNone) {
  Rec rec;
  ASSERT_EQ(0, xsig_watch(nullptr, SIGINT, record, &rec, 0, nullptr));
  xsigtest_add_deliveries(SIGINT, (uint64_t)1 << 32);
  EXPECT_EQ(UINT32_MAX, xsig_pending(nullptr, SIGINT));
  xsig_feed(SIGINT); // wakes the context as a real delivery would
  ASSERT_EQ(1, xsig_dispatch(nullptr));
  ASSERT_EQ(1u, rec.events.size());
  EXPECT_EQ(UINT32_MAX, rec.events[0].count);
  EXPECT_EQ(0u, xsig_pending(nullptr, SIGINT));
}

// A delivery that another thread's handler has counted but not yet described
// is not taken with some other delivery's details, and dispatch does not wait
// for it: it comes, with its own details, once described and announced.
TEST_F(Core, ADeliveryNotYetDescribedWaitsForItsHandler) {
  Rec rec;
  ASSERT_EQ(0, xsig_watch(nullptr, SIGINT, record, &rec, 0, nullptr));
  xsigtest_count_only(SIGINT);
  EXPECT_EQ(1u, xsig_pending(nullptr, SIGINT));
  EXPECT_EQ(0, xsig_dispatch(nullptr));
  EXPECT_TRUE(rec.events.empty()) << "taken with details that are not its own";
  xsigtest_describe(SIGINT, 4242, XSIG_SRC_KERNEL);
  ASSERT_EQ(0, xsig_feed(SIGINT)); // the same handler's wake, and one more delivery
  ASSERT_EQ(1, xsig_dispatch(nullptr));
  ASSERT_EQ(1u, rec.events.size());
  EXPECT_EQ(2u, rec.events[0].count);
  EXPECT_EQ(XSIG_SRC_SELF, rec.events[0].source); // the latest delivery's
}

// xsig_service_start outside a service: POSIX has no SCM (XSIG_ENOTSUP); a
// Windows console program was not started by one (XSIG_ENOTSVC).
TEST(Service, StartOutsideAServiceSaysWhy) {
#ifdef _WIN32
  EXPECT_EQ(xsig_service_start("xsig-core-test", nullptr), XSIG_ENOTSVC);
#else
  EXPECT_EQ(xsig_service_start("xsig-core-test", nullptr), XSIG_ENOTSUP);
#endif
  EXPECT_EQ(xsig_service_active(), 0);
}
