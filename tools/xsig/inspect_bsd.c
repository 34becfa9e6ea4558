/* xsig inspect on the BSDs and macOS: the process table (sysctl KERN_PROC_PID)
 * has the caught, ignored and pending sets and one thread's mask. Threads are
 * not listed one by one here, so "blocked in every thread" is not drawn.
 * Written from the system headers and not run by this project's CI (which is
 * Linux and Wine only): treat it as unverified. Other systems: XSIG_ENOTSUP. */
#include "cli.h"
#include "inspect.h"
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#if defined(__FreeBSD__) || defined(__DragonFly__) || defined(__APPLE__)
#include <sys/types.h>
#include <sys/sysctl.h>
#include <sys/user.h>
#define INSPECT_HAVE_KINFO 1
#endif

#ifdef INSPECT_HAVE_KINFO
static void from_set(const sigset_t *set, sigbits_t *b) {
  memset(b, 0, sizeof *b);
  for (int s = 1; s <= INSPECT_NSIG && s < NSIG; s++)
    if (sigismember(set, s) == 1) b->w[(s - 1) / 64] |= (uint64_t)1 << ((s - 1) % 64);
}

/* macOS keeps the sets as plain masks of 32 bits. */
static void from_u32(uint32_t m, sigbits_t *b) {
  memset(b, 0, sizeof *b);
  b->w[0] = m;
}
#endif

int inspect_os(long pid, struct inspect_facts *f) {
#ifdef INSPECT_HAVE_KINFO
  struct kinfo_proc kp;
  size_t len = sizeof kp;
  int mib[4] = {CTL_KERN, KERN_PROC, KERN_PROC_PID, (int)pid};
  if (sysctl(mib, 4, &kp, &len, NULL, 0) < 0) return errno == EPERM ? XSIG_EPERM : XSIG_ESYS;
  if (len == 0) return XSIG_ESRCH;
  static struct inspect_thread one;
  one.tid = pid;
#if defined(__APPLE__)
  snprintf(f->name, sizeof f->name, "%s", kp.kp_proc.p_comm);
  from_u32(kp.kp_proc.p_sigcatch, &f->caught);
  from_u32(kp.kp_proc.p_sigignore, &f->ignored);
  from_u32(kp.kp_proc.p_siglist, &f->shared_pending);
  f->note[f->nnotes++] = "the blocked set (macOS keeps it per thread, out of reach here)";
#else
  snprintf(f->name, sizeof f->name, "%s", kp.ki_comm);
  from_set(&kp.ki_sigcatch, &f->caught);
  from_set(&kp.ki_sigignore, &f->ignored);
  from_set(&kp.ki_siglist, &f->shared_pending);
  from_set(&kp.ki_sigmask, &one.blocked);
  f->note[f->nnotes++] = "the masks of threads other than the first";
#endif
  f->masks = 1;
  f->note[f->nnotes++] = "whether it is PID 1 of a jail or namespace";
  return 0;
#else
  (void)pid, (void)f;
  return XSIG_ENOTSUP;
#endif
}
