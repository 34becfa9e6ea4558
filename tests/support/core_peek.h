// White-box access to the core's counters (tests/support/core_peek.c).
#pragma once
#include <stdint.h>
#ifdef __cplusplus
extern "C" {
#endif
void xsigtest_add_deliveries(int sig, uint64_t n);
#ifdef __cplusplus
}
#endif
