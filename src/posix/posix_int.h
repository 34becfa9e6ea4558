/* What the POSIX backend's two files share. */
#ifndef XSIG_POSIX_INT_H
#define XSIG_POSIX_INT_H
#include "../common/xsig_int.h"

/* From the signal handler, given its ucontext: the slot of the context whose
 * wait this thread was interrupted at the very end of (see wakeup.c), else
 * NULL. That wait returns to dispatch next, so its pipe needs no byte. */
const xsig__slot_t *xsig__posix_waiter_of(void *uc);
/* A jump out of the wait (a foreign handler's siglongjmp) skips the line that
 * puts the thread's cancellation type back: the next xsig call does it. */
void xsig__posix_cancel_type_back(void);
#endif
