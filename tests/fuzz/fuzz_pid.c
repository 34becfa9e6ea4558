/* cli_parse_pid (xsig send PID) against a reference: non-empty, digits only,
 * a value from 1 to INT64_MAX; nothing else is a pid.
 * fuzz-sources: tools/xsig/args.c */
#include "fuzz.h"
#include "xsig/cli.h"

static int ref_pid(const char *s, int64_t *out) {
  unsigned __int128 v = 0;
  if (!*s) return -1;
  for (; *s; s++) {
    if (*s < '0' || *s > '9') return -1;
    v = v * 10 + (unsigned)(*s - '0');
    if (v > (unsigned __int128)INT64_MAX) return -1;
  }
  if (v == 0) return -1;
  *out = (int64_t)v;
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n) {
  if (n > 4096) return 0;
  char *s = fuzz_str(data, n);
  int64_t got = -7, want = -7;
  int r = cli_parse_pid(s, &got), rr = ref_pid(s, &want);
  FUZZ_CHECK(r == 0 || r == -1);
  FUZZ_CHECK(r == rr);
  if (r == 0)
    FUZZ_CHECK(got == want && got > 0);
  else
    FUZZ_CHECK(got == -7); /* a refused pid leaves *out alone */
  free(s);
  return 0;
}
