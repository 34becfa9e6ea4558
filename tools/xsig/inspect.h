/* xsig inspect: the facts one OS file (inspect_linux.c, inspect_bsd.c,
 * inspect_win32.c) gathers about a process; inspect.c prints them and draws
 * the diagnoses, once for every OS. */
#ifndef XSIG_CLI_INSPECT_H
#define XSIG_CLI_INSPECT_H

#include <stdint.h>

#define INSPECT_NSIG 128 /* signals 1..128: the widest kernel mask (MIPS) */

/* Bit n-1 is signal n, as in /proc/PID/status. */
typedef struct sigbits {
  uint64_t w[2];
} sigbits_t;

static inline int sigbits_has(const sigbits_t *b, int sig) {
  return sig >= 1 && sig <= INSPECT_NSIG && (b->w[(sig - 1) / 64] >> ((sig - 1) % 64) & 1);
}

struct inspect_thread {
  long tid;
  sigbits_t blocked, pending;
};

/* Tri-state facts: 1 yes, 0 no, -1 not known here. */
struct inspect_facts {
  long pid;
  char name[64];
  int masks;   /* 1 when caught/ignored/blocked/pending below are known */
  long ns_pid; /* the pid in its own (innermost) pid namespace; -1 unknown */
  sigbits_t caught, ignored, shared_pending;
  int nthreads;
  struct inspect_thread *threads; /* malloc()ed, nthreads of them */
  int threads_known;              /* 0: only the process-wide masks are known */
  /* Windows */
  int console, mailbox;
  int accepts[32]; /* mailbox 1: the signals it takes now (xsig_accepts), naccepts of them */
  int naccepts;
  char service[256]; /* the service's name when it is one; "" when not or unknown */
  int service_known;
  const char *note[4]; /* what this OS file could not find out, in words */
  int nnotes;
};

/* Fills f for pid; 0, or XSIG_ESRCH, XSIG_EPERM, XSIG_ENOTSUP, XSIG_ESYS. */
int inspect_os(long pid, struct inspect_facts *f);

#endif
