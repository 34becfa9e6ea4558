// Shared test helpers: waiting on events without bare sleeps, finding helper
// programs. Portable (POSIX and Windows).
#pragma once
#include <xsig/xsig.h>

// XSIG_TEST_TSAN: built with ThreadSanitizer, which may drop a signal sent
// from another thread or process and runs handlers late.
#if defined(__SANITIZE_THREAD__)
#define XSIG_TEST_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define XSIG_TEST_TSAN 1
#endif
#endif

#include <functional>
#include <string>
#include <vector>

namespace xsigtest {
// Polls pred every few milliseconds until it holds or timeout_ms passes; the
// time-outs are generous and end early on success.
bool wait_until(const std::function<bool()> &pred, int timeout_ms = 10000);
// Full path of a helper program built from tests/helpers/<name>.c.
std::string helper_path(const char *name);
// Full path of the xsig command-line tool.
std::string cli_path();
// Milliseconds on a monotonic clock.
long long now_ms();
// Running under valgrind (ci/valgrind.sh), which keeps SIGRTMAX for itself
// (sigaction refuses it) and does not know SS_AUTODISARM. The few tests that
// need those say so on stdout and leave out that part only.
bool under_valgrind();
// A loop's round count: n, or a tenth of it (at least 1) under valgrind,
// which runs one thread at a time some 50 times slower; the test's property
// is checked the same way either way. Says so on stdout when it cuts.
int rounds_for(int n);

// The events a watch received; `record` is the xsig_cb that fills it.
struct Rec {
  std::vector<xsig_event_t> events;
  uint32_t total() const; // deliveries, folded counts included
};
void record(const xsig_event_t *ev, void *rec);
// The wakeup handle would not block a read now.
bool readable(xsig_handle_t h);
// Makes n contexts and frees them: their slots stay in the list that a
// delivery walks, ahead of every context made before. That widens the gap
// between a delivery's count and its look at those contexts' watches, for
// the tests of what a callback may do in that gap. False when one failed.
bool slots_ahead(int n);
} // namespace xsigtest
