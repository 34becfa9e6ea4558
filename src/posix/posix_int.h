/* What the POSIX backend's two files share. */
#ifndef XSIG_POSIX_INT_H
#define XSIG_POSIX_INT_H
#include "../common/xsig_int.h"

/* From the signal handler: when this thread is inside xsig__os_wait(), makes
 * that wait return at once and gives the waiting context's slot; else NULL. */
const xsig__slot_t *xsig__posix_waiter_hit(void);
#endif
