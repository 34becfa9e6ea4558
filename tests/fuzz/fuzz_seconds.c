/* cli_parse_seconds (xsig wait --timeout) against a slow reference in 128-bit
 * arithmetic with saturation, plus monotonicity. A signed overflow that wraps
 * (the bug issue 10 recalls) gives a value the reference does not, even in a
 * build where UBSan would not see it.
 * fuzz-sources: tools/xsig/args.c */
#include "fuzz.h"
#include "xsig/cli.h"

typedef unsigned __int128 u128;

/* SECONDS[.FRACTION], at least one digit, to ms rounded up, at most INT64_MAX. */
static int ref_seconds(const char *s, int64_t *out) {
  const u128 cap = (u128)INT64_MAX + 1; /* anything at or above it saturates */
  u128 sec = 0, ms;
  int digits = 0, k = 0, finer = 0;
  for (; *s >= '0' && *s <= '9'; s++, digits++) {
    sec = sec * 10 + (u128)(*s - '0');
    if (sec > cap) sec = cap;
  }
  ms = sec * 1000;
  if (*s == '.') {
    for (s++; *s >= '0' && *s <= '9'; s++, digits++, k++) {
      static const int place[3] = {100, 10, 1};
      if (k < 3)
        ms += (u128)(*s - '0') * (u128)place[k];
      else if (*s != '0')
        finer = 1;
    }
  }
  if (*s || !digits) return -1;
  ms += (u128)finer;
  *out = ms >= (u128)INT64_MAX ? INT64_MAX : (int64_t)ms;
  return 0;
}

static int parse(const char *s, int64_t *v) {
  *v = -12345; /* must be written on success, left alone otherwise: no check on that */
  return cli_parse_seconds(s, v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n) {
  if (n > 4096) return 0;
  char *s = fuzz_str(data, n);
  int64_t got, want;
  int r = parse(s, &got), rr = ref_seconds(s, &want);
  FUZZ_CHECK(r == 0 || r == -1);
  FUZZ_CHECK(r == rr);
  if (r == 0) {
    FUZZ_CHECK(got >= 0);
    FUZZ_CHECK(got == want);
    /* Monotone in the digits: one more digit, anywhere after the last one,
     * never makes the time shorter (and a digit on the integer part
     * multiplies it by ten, up to the cap). */
    size_t len = strlen(s);
    char *t = malloc(len + 2);
    if (!t) abort();
    memcpy(t, s, len);
    t[len + 1] = '\0';
    for (char d = '0'; d <= '9'; d += 9) {
      int64_t more;
      t[len] = d;
      FUZZ_CHECK(parse(t, &more) == 0);
      FUZZ_CHECK(more >= got);
      if (!strchr(s, '.') && got <= (INT64_MAX - 9000) / 10)
        FUZZ_CHECK(more == got * 10 + (d - '0') * 1000);
    }
    free(t);
  }
  free(s);
  return 0;
}
