/* Windows backend, the process side of the seam: Windows has no fork, no
 * per-thread signal mask and no thread cancellation, so most of this is
 * trivially true here. */
#include "win32_int.h"
#include "../common/xsig_int.h"

int xsig__os_where(void) {
  return XSIG__HERE; /* no fork: every delivery is this process's own */
}

void xsig__os_check_fork(void) {}

/* Never counted: no child is ever made that has not rebuilt. */
xsig__au64 *xsig__os_early(int signum) {
  static xsig__au64 none[XSIG__NSIG];
  return &none[signum];
}

/* Console handlers run on threads of their own, never on top of a thread's
 * code, so nothing can interrupt xsig_feed. */
void xsig__os_block(xsig__mask_t *old) {
  old->unused = 0;
}

void xsig__os_unblock(const xsig__mask_t *old) {
  (void)old;
}

void xsig__os_guarded(void (*fn)(void *), void *arg, void (*undo)(void *)) {
  (void)undo; /* no cancellation to unwind a thread out of fn */
  fn(arg);
}
