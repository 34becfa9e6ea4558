/* Names, numbers, and what each signal can do here: pure tables, no state
 * beyond the lazily formatted realtime names. */
#include "xsig_int.h"
#include <ctype.h>
#include <stdio.h>
#include <string.h>

struct signame {
  int num;
  const char *name; /* without "SIG"; the first entry of a number is canonical */
};

static const struct signame names[] = {
#ifdef SIGHUP
    {SIGHUP, "HUP"},
#endif
    {SIGINT, "INT"},
#ifdef SIGQUIT
    {SIGQUIT, "QUIT"},
#endif
    {SIGILL, "ILL"},
#ifdef SIGTRAP
    {SIGTRAP, "TRAP"},
#endif
    {SIGABRT, "ABRT"},
#ifdef SIGIOT
    {SIGIOT, "IOT"},
#endif
#ifdef SIGEMT
    {SIGEMT, "EMT"},
#endif
#ifdef SIGBUS
    {SIGBUS, "BUS"},
#endif
    {SIGFPE, "FPE"},
#ifdef SIGKILL
    {SIGKILL, "KILL"},
#endif
#ifdef SIGUSR1
    {SIGUSR1, "USR1"},
#endif
    {SIGSEGV, "SEGV"},
#ifdef SIGUSR2
    {SIGUSR2, "USR2"},
#endif
#ifdef SIGPIPE
    {SIGPIPE, "PIPE"},
#endif
#ifdef SIGALRM
    {SIGALRM, "ALRM"},
#endif
    {SIGTERM, "TERM"},
#ifdef SIGSTKFLT
    {SIGSTKFLT, "STKFLT"},
#endif
#ifdef SIGCHLD
    {SIGCHLD, "CHLD"},
#endif
#ifdef SIGCLD
    {SIGCLD, "CLD"},
#endif
#ifdef SIGCONT
    {SIGCONT, "CONT"},
#endif
#ifdef SIGSTOP
    {SIGSTOP, "STOP"},
#endif
#ifdef SIGTSTP
    {SIGTSTP, "TSTP"},
#endif
#ifdef SIGBREAK
    {SIGBREAK, "BREAK"},
#endif
#ifdef SIGTTIN
    {SIGTTIN, "TTIN"},
#endif
#ifdef SIGTTOU
    {SIGTTOU, "TTOU"},
#endif
#ifdef SIGURG
    {SIGURG, "URG"},
#endif
#ifdef SIGXCPU
    {SIGXCPU, "XCPU"},
#endif
#ifdef SIGXFSZ
    {SIGXFSZ, "XFSZ"},
#endif
#ifdef SIGVTALRM
    {SIGVTALRM, "VTALRM"},
#endif
#ifdef SIGPROF
    {SIGPROF, "PROF"},
#endif
#ifdef SIGWINCH
    {SIGWINCH, "WINCH"},
#endif
#ifdef SIGIO
    {SIGIO, "IO"},
#endif
#ifdef SIGPOLL
    {SIGPOLL, "POLL"},
#endif
#ifdef SIGPWR
    {SIGPWR, "PWR"},
#endif
#ifdef SIGINFO
    {SIGINFO, "INFO"},
#endif
#ifdef SIGLOST
    {SIGLOST, "LOST"},
#endif
#ifdef SIGSYS
    {SIGSYS, "SYS"},
#endif
#ifdef SIGTHR
    {SIGTHR, "THR"},
#endif
#ifdef SIGLIBRT
    {SIGLIBRT, "LIBRT"},
#endif
};
#define NNAMES (sizeof names / sizeof names[0])

static const char *canonical[XSIG__NSIG]; /* "SIGTERM" */
static char fullnames[NNAMES][12];
static char rtnames[XSIG__NSIG][24]; /* room for any int, so no truncation warning */
static xsig__once_t names_once = XSIG__ONCE_INIT;

static void build_names(void) {
  for (size_t i = 0; i < NNAMES; i++) {
    snprintf(fullnames[i], sizeof fullnames[i], "SIG%s", names[i].name);
    int s = names[i].num;
    if (s > 0 && s < XSIG__NSIG && !canonical[s]) canonical[s] = fullnames[i];
  }
  int lo, hi;
  if (!xsig__os_rt_range(&lo, &hi)) return;
  int mid = lo + (hi - lo) / 2; /* bash and procps name the upper half from SIGRTMAX down */
  for (int s = lo; s <= hi && s < XSIG__NSIG; s++) {
    if (s == lo)
      snprintf(rtnames[s], sizeof rtnames[s], "SIGRTMIN");
    else if (s == hi)
      snprintf(rtnames[s], sizeof rtnames[s], "SIGRTMAX");
    else if (s <= mid)
      snprintf(rtnames[s], sizeof rtnames[s], "SIGRTMIN+%d", s - lo);
    else
      snprintf(rtnames[s], sizeof rtnames[s], "SIGRTMAX-%d", hi - s);
    if (!canonical[s]) canonical[s] = rtnames[s];
  }
}

const char *xsig_name(int signum) {
  if (signum <= 0 || signum >= XSIG__NSIG || xsig__os_reserved(signum)) return NULL;
  xsig__os_once(&names_once, build_names);
  return canonical[signum];
}

int xsig__known(int signum) {
  return xsig_name(signum) != NULL;
}

int xsig_signals(int *out, size_t cap) {
  if (!out && cap) return XSIG_EINVAL;
  int total = 0;
  for (int s = 1; s < XSIG__NSIG; s++) {
    if (!xsig__known(s)) continue;
    if ((size_t)total < cap) out[total] = s;
    total++;
  }
  return total;
}

/* Strict decimal: no sign, no blanks, no overflow, nothing after the digits. */
static int parse_uint(const char *p, const char *end, int *out) {
  long v = 0;
  if (p == end) return -1;
  for (; p < end; p++) {
    if (*p < '0' || *p > '9') return -1;
    v = v * 10 + (*p - '0');
    if (v > 100000) return -1;
  }
  *out = (int)v;
  return 0;
}

static int eq_nocase(const char *a, size_t alen, const char *b) {
  size_t blen = strlen(b);
  if (alen != blen) return 0;
  for (size_t i = 0; i < alen; i++)
    if (toupper((unsigned char)a[i]) != b[i]) return 0;
  return 1;
}

static int parse_rt(const char *p, size_t len) {
  int lo, hi, n = 0;
  if (!xsig__os_rt_range(&lo, &hi) || len < 5) return XSIG_EINVAL;
  int base;
  if (eq_nocase(p, 5, "RTMIN"))
    base = lo;
  else if (eq_nocase(p, 5, "RTMAX"))
    base = hi;
  else
    return XSIG_EINVAL;
  int s = base;
  if (len > 5) {
    char op = p[5];
    if ((op != '+' && op != '-') || parse_uint(p + 6, p + len, &n) < 0) return XSIG_EINVAL;
    s = op == '+' ? base + n : base - n;
  }
  return s >= lo && s <= hi ? s : XSIG_EINVAL;
}

int xsig_from_name(const char *name) {
  if (!name || !*name) return XSIG_EINVAL;
  size_t len = strlen(name);
  int n;
  if (name[0] >= '0' && name[0] <= '9')
    return parse_uint(name, name + len, &n) == 0 && xsig__known(n) ? n : XSIG_EINVAL;
  if (len > 3 && eq_nocase(name, 3, "SIG")) name += 3, len -= 3;
  for (size_t i = 0; i < NNAMES; i++)
    if (eq_nocase(name, len, names[i].name)) return names[i].num;
  return parse_rt(name, len);
}

int xsig__is_fault(int s) {
  switch (s) {
  case SIGSEGV:
  case SIGILL:
  case SIGFPE:
  case SIGABRT:
#ifdef SIGBUS
  case SIGBUS:
#endif
#ifdef SIGTRAP
  case SIGTRAP:
#endif
#ifdef SIGSYS
  case SIGSYS:
#endif
    return 1;
  default:
    return 0;
  }
}

xsig_support_t xsig_support(int signum) {
  if (!xsig__known(signum) || xsig__is_fault(signum) || signum == SIGKILL || signum == SIGSTOP)
    return XSIG_UNSUPPORTED;
  return xsig__os_support(signum);
}

int xsig_is_portable(int signum) {
  return signum == SIGINT || signum == SIGTERM;
}

const char *xsig_platform(void) {
  return xsig__os_platform();
}

#define XSIG__STR2(x) #x
#define XSIG__STR(x)  XSIG__STR2(x)
/* Built from the header's macros, so the library's answer is the version it
 * was compiled as; a program compares it with its own XSIG_VERSION_* to see
 * which library it got at run time. */
const char *xsig_version(void) {
  return XSIG__STR(XSIG_VERSION_MAJOR) "." XSIG__STR(XSIG_VERSION_MINOR) "." XSIG__STR(
      XSIG_VERSION_PATCH);
}

int xsig_has(xsig_feature_t f) {
  return xsig__os_has(f);
}

const char *xsig_strerror(int err) {
  switch (err) {
  case 0:
    return "success";
  case XSIG_EINVAL:
    return "invalid argument or not a signal";
  case XSIG_ENOTSUP:
    return "signal cannot be caught on this platform";
  case XSIG_EFAULTSIG:
    return "fault signal: a deferred handler cannot serve it";
  case XSIG_ESTATE:
    return "not initialised, or not allowed in this state";
  case XSIG_ENOMEM:
    return "out of memory";
  case XSIG_ESYS:
    return "operating system call failed (see xsig_os_error)";
  case XSIG_ESRCH:
    return "no such process";
  case XSIG_EPERM:
    return "operation not permitted";
  case XSIG_EIGNORED:
    return "signal is ignored (inherited SIG_IGN) and was left ignored";
  case XSIG_ENOTSVC:
    return "not started by the Service Control Manager";
  case XSIG_ENOLISTEN:
    return "the process does not listen for this signal";
  default:
    return err > 0 ? "success" : "unknown error";
  }
}
