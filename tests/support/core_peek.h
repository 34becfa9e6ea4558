// White-box access to the core's counters (tests/support/core_peek.c).
#pragma once
#include <stdint.h>
#ifdef __cplusplus
extern "C" {
#endif
void xsigtest_add_deliveries(int sig, uint64_t n);
// The process-wide delivery counter of sig: what was counted at all.
uint64_t xsigtest_deliveries(int sig);
// The two halves of a handler's record(), as another thread's handler that is
// preempted between them leaves it: counted, then described.
void xsigtest_count_only(int sig);
void xsigtest_describe(int sig, int64_t pid, int source);
#ifdef __cplusplus
}
#endif
