/* The $NOTIFY_SOCKET and $WATCHDOG_USEC/$WATCHDOG_PID readers (notify.c)
 * on the input's first three lines, against what sd_notify(3) says they
 * mean: a socket is "/path" (with room for its NUL in sun_path) or
 * "@abstract" (the '@' becomes a NUL byte, the name has none), two bytes at
 * least; the watchdog variables are plain unsigned decimals, the interval
 * above 0, the pid above 0 and this process's for the watchdog to apply.
 * fuzz-sources: */
#include "fuzz.h"
#include "notify_int.h"
#include "xsig/lifecycle.h"
#include <stddef.h>

static int ref_u64(const char *s, uint64_t *out) {
  unsigned __int128 v = 0;
  if (!*s) return -1;
  for (; *s; s++) {
    if (*s < '0' || *s > '9') return -1;
    v = v * 10 + (unsigned)(*s - '0');
    if (v > UINT64_MAX) return -1;
  }
  *out = (uint64_t)v;
  return 0;
}

static void check_socket(const char *e) {
  struct sockaddr_un a;
  socklen_t len = 0;
  memset(&a, 0x5a, sizeof a);
  int r = xsig__notify_addr(e, &a, &len);
  size_t n = strlen(e);
  int path = e[0] == '/', abstract = e[0] == '@';
  int fits = n >= 2 && (path || abstract) && n + (size_t)path <= sizeof a.sun_path;
  FUZZ_CHECK(r == (n == 0 ? 0 : fits ? 1 : XSIG_EINVAL));
  if (r != 1) return;
  FUZZ_CHECK(a.sun_family == AF_UNIX);
  FUZZ_CHECK(len == offsetof(struct sockaddr_un, sun_path) + n + (size_t)path);
  FUZZ_CHECK(len <= sizeof a);
  FUZZ_CHECK(a.sun_path[0] == (path ? '/' : '\0'));
  FUZZ_CHECK(memcmp(a.sun_path + 1, e + 1, n - 1) == 0);
  if (path) FUZZ_CHECK(a.sun_path[n] == '\0');
}

static void check_watchdog(const char *usec, const char *pid) {
  uint64_t self = (uint64_t)getpid(), got = 77, want = 0, u, p;
  int r = xsig__watchdog_parse(*usec ? usec : NULL, *pid ? pid : NULL, self, &got);
  int ok_u = ref_u64(usec, &u) == 0 && u > 0, ok_p = ref_u64(pid, &p) == 0 && p > 0;
  int expect;
  if (!*usec)
    expect = 0;
  else if (!ok_u || (*pid && !ok_p))
    expect = XSIG_EINVAL;
  else if (*pid && p != self)
    expect = 0;
  else
    expect = 1, want = u;
  FUZZ_CHECK(r == expect);
  FUZZ_CHECK(got == want);
  /* An empty variable reads as unset; the public call agrees through the
   * real environment. */
  FUZZ_CHECK(xsig__watchdog_parse(usec, pid, self, &got) == r && got == want);
  FUZZ_CHECK(setenv("WATCHDOG_USEC", usec, 1) == 0 && setenv("WATCHDOG_PID", pid, 1) == 0);
  got = 77;
  FUZZ_CHECK(xsig_watchdog_interval(&got) == r && got == want);
  FUZZ_CHECK(xsig_watchdog_interval(NULL) == r);
  /* The same digits as this process's pid always apply. */
  if (ok_u) {
    char me[32];
    snprintf(me, sizeof me, "%llu", (unsigned long long)self);
    FUZZ_CHECK(xsig__watchdog_parse(usec, me, self, &got) == 1 && got == u);
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n) {
  if (n > 4096) return 0;
  char *s = fuzz_str(data, n), *line[3] = {s, "", ""};
  for (int i = 1; i < 3; i++) {
    char *nl = strchr(line[i - 1], '\n');
    if (!nl) break;
    *nl = '\0';
    line[i] = nl + 1;
  }
  check_socket(line[0]);
  check_watchdog(line[1], line[2]);
  free(s);
  return 0;
}
