/* What the POSIX backend's two files share. */
#ifndef XSIG_POSIX_INT_H
#define XSIG_POSIX_INT_H
#include "../common/xsig_int.h"

/* From the signal handler, given its ucontext: the slot of the context whose
 * wait this thread was interrupted at the very end of (see wakeup.c), else
 * NULL. That wait returns to dispatch next, so its pipe needs no byte. */
const xsig__slot_t *xsig__posix_waiter_of(void *uc);
#endif
