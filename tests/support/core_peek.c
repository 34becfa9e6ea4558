/* White-box access for the core tests: adds to a signal's process-wide
 * delivery counter as if that many deliveries had happened, so that a test can
 * reach counter values (2^32 and beyond) that real deliveries would take an
 * hour to reach. */
#define _POSIX_C_SOURCE 200809L /* sigset_t, as the library itself is built */
#include "common/xsig_int.h"
#include "support/core_peek.h"

void xsigtest_add_deliveries(int sig, uint64_t n) {
  xsig__au64_add(&xsig__sigs[sig].count, n);
}

uint64_t xsigtest_deliveries(int sig) {
  return xsig__au64_load(&xsig__sigs[sig].count);
}

void xsigtest_count_only(int sig) {
  xsig__au64_add(&xsig__sigs[sig].count, 1);
}

void xsigtest_describe(int sig, int64_t pid, int source) {
  uint64_t tag = (uint64_t)(uint32_t)xsig__au64_load(&xsig__sigs[sig].count) << 32;
  xsig__au64_store(&xsig__sigs[sig].who, tag | (uint32_t)pid);
  xsig__au64_store(&xsig__sigs[sig].how, tag | (uint64_t)source);
}
