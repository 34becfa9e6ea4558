/* xsig_from_name against a reference, and the round trips between names and
 * numbers: whatever a name parses to has a canonical name that parses back to
 * it, in any case and with or without "SIG".
 * fuzz-sources: */
#include "fuzz.h"
#include "xsig/xsig.h"
#include <ctype.h>
#include <signal.h>

/* The spellings Linux and glibc accept besides the canonical names. */
static const struct {
  const char *alias;
  int sig;
} aliases[] = {
#ifdef SIGIOT
    {"IOT", SIGIOT},
#endif
#ifdef SIGCLD
    {"CLD", SIGCLD},
#endif
#ifdef SIGPOLL
    {"POLL", SIGPOLL},
#endif
};

static int strict_uint(const char *p, long *out) {
  long v = 0;
  if (!*p) return -1;
  for (; *p; p++) {
    if (!isdigit((unsigned char)*p)) return -1;
    v = v * 10 + (*p - '0');
    if (v > 100000) return -1; /* no signal is near this; keeps v small */
  }
  *out = v;
  return 0;
}

/* An independent reading of the rules in xsig.h and names.c: a decimal
 * number of a known signal; or, case-insensitively, an optional "SIG" then a
 * canonical name (less its "SIG"), an alias, or RTMIN/RTMAX with an optional
 * +N/-N inside the realtime range. */
enum { MAXSIG = 200 };            /* above any signal number here */
static const char *canon[MAXSIG]; /* xsig_name(), asked once */

static int ref_lookup(const char *p) {
  for (int sig = 1; sig < MAXSIG; sig++)
    if (canon[sig] && strcmp(canon[sig] + 3, p) == 0 && strncmp(p, "RT", 2) != 0) return sig;
  for (size_t i = 0; i < sizeof aliases / sizeof aliases[0]; i++)
    if (strcmp(p, aliases[i].alias) == 0) return aliases[i].sig;
#ifdef SIGRTMIN
  int base;
  long v;
  if (strncmp(p, "RTMIN", 5) == 0)
    base = SIGRTMIN;
  else if (strncmp(p, "RTMAX", 5) == 0)
    base = SIGRTMAX;
  else
    return -1;
  long sig = base;
  if (p[5]) {
    if ((p[5] != '+' && p[5] != '-') || strict_uint(p + 6, &v) < 0) return -1;
    sig = p[5] == '+' ? base + v : base - v;
  }
  return sig >= SIGRTMIN && sig <= SIGRTMAX ? (int)sig : -1;
#else
  return -1;
#endif
}

static int ref_from_name(const char *s) {
  size_t len = strlen(s);
  long v;
  if (!len) return -1;
  if (isdigit((unsigned char)s[0]))
    return strict_uint(s, &v) == 0 && v < MAXSIG && canon[v] ? (int)v : -1;
  char *up = malloc(len + 1);
  if (!up) abort();
  for (size_t i = 0; i <= len; i++) up[i] = (char)toupper((unsigned char)s[i]);
  int r = ref_lookup(len > 3 && strncmp(up, "SIG", 3) == 0 ? up + 3 : up);
  free(up);
  return r;
}

static void check_round_trip(int sig) {
  const char *name = xsig_name(sig);
  FUZZ_CHECK(name != NULL);
  FUZZ_CHECK(strncmp(name, "SIG", 3) == 0);
  FUZZ_CHECK(xsig_from_name(name) == sig);
  FUZZ_CHECK(xsig_from_name(name + 3) == sig);
  char low[32];
  size_t len = strlen(name);
  FUZZ_CHECK(len < sizeof low);
  for (size_t i = 0; i <= len; i++) low[i] = (char)tolower((unsigned char)name[i]);
  FUZZ_CHECK(xsig_from_name(low) == sig);
  char num[16];
  snprintf(num, sizeof num, "%d", sig);
  FUZZ_CHECK(xsig_from_name(num) == sig);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n) {
  static int checked_all;
  if (!checked_all) {
    /* Every number: either it has a name that round-trips, or no name. */
    fuzz_in = data, fuzz_in_n = 0;
    for (int sig = -5; sig < MAXSIG; sig++)
      if (xsig_name(sig)) check_round_trip(sig);
    for (int sig = 1; sig < MAXSIG; sig++) canon[sig] = xsig_name(sig);
    FUZZ_CHECK(xsig_name(MAXSIG) == NULL && xsig_name(64) != NULL);
    FUZZ_CHECK(xsig_name(0) == NULL && xsig_name(-1) == NULL);
    checked_all = 1;
  }
  if (n > 4096) return 0;
  char *s = fuzz_str(data, n);
  int r = xsig_from_name(s);
  FUZZ_CHECK(r == XSIG_EINVAL || (r > 0 && xsig_name(r) != NULL));
  FUZZ_CHECK((r > 0 ? r : -1) == ref_from_name(s));
  if (r > 0) check_round_trip(r);
  FUZZ_CHECK(xsig_from_name(s) == r); /* no hidden state */
  free(s);
  return 0;
}
