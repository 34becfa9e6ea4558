/* What the POSIX backend's two files share. */
#ifndef XSIG_POSIX_INT_H
#define XSIG_POSIX_INT_H
#include "../common/xsig_int.h"

/* From the signal handler: the slot of the context this thread is waiting
 * for inside xsig__os_wait(), else NULL. */
const xsig__slot_t *xsig__posix_waiter_hit(void);
/* The handler's last step when waiter_hit() gave a slot: ends that wait by
 * jumping back into it (does not return). */
void xsig__posix_waiter_leave(void *uc);
#endif
