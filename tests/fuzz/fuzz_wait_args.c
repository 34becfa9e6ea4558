/* cli_parse_wait_args (xsig wait SIG... [--timeout SECS]) on argument lists
 * cut from the input at NUL bytes. It either refuses with EXIT_USAGE or gives
 * 1 to CLI_WAIT_MAX distinct known signals, each the reading of one of the
 * arguments, in the order they first appear, and the time-out of the last
 * --timeout as cli_parse_seconds reads it (-1 without one).
 * fuzz-sources: tools/xsig/args.c
 * fuzz-options: -close_fd_mask=2 */
#include "fuzz.h"
#include "xsig/cli.h"

enum { MAXARGS = 200 };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n) {
  if (n > 8192) return 0;
  fuzz_in = data, fuzz_in_n = n;
  char *buf = malloc(n + 1), *argv[MAXARGS + 1];
  if (!buf) abort();
  memcpy(buf, data, n);
  buf[n] = '\0';
  int argc = 0;
  for (size_t i = 0; i <= n && argc < MAXARGS;) {
    argv[argc++] = buf + i;
    i += strlen(buf + i) + 1;
  }
  if (n == 0) argc = 0;
  argv[argc] = NULL;

  int sigs[CLI_WAIT_MAX + 8], nsigs = -1;
  int64_t t = -99;
  for (int i = 0; i < CLI_WAIT_MAX + 8; i++) sigs[i] = -77;
  int r = cli_parse_wait_args(argc, argv, sigs, &nsigs, &t);
  FUZZ_CHECK(r == 0 || r == EXIT_USAGE);
  for (int i = CLI_WAIT_MAX; i < CLI_WAIT_MAX + 8; i++) FUZZ_CHECK(sigs[i] == -77);
  if (r == 0) {
    FUZZ_CHECK(nsigs >= 1 && nsigs <= CLI_WAIT_MAX);
    for (int i = 0; i < nsigs; i++) {
      FUZZ_CHECK(xsig_name(sigs[i]) != NULL);
      for (int j = 0; j < i; j++) FUZZ_CHECK(sigs[i] != sigs[j]);
    }
    /* The model: walk the arguments again. */
    int opts = 1, k = 0;
    int64_t want_t = -1;
    for (int i = 0; i < argc; i++) {
      const char *a = argv[i];
      if (opts && strcmp(a, "--") == 0) {
        opts = 0;
        continue;
      }
      if (opts && (strcmp(a, "--timeout") == 0 || strncmp(a, "--timeout=", 10) == 0)) {
        const char *v = a[9] ? a + 10 : argv[++i];
        FUZZ_CHECK(i < argc && cli_parse_seconds(v, &want_t) == 0);
        continue;
      }
      FUZZ_CHECK(!opts || a[0] != '-' || a[1] == '\0');
      int s = cli_parse_signal(a), seen = 0;
      FUZZ_CHECK(s > 0);
      for (int j = 0; j < k; j++) seen |= sigs[j] == s;
      if (!seen && k < CLI_WAIT_MAX) FUZZ_CHECK(sigs[k++] == s);
    }
    FUZZ_CHECK(k == nsigs);
    FUZZ_CHECK(t == want_t);
    FUZZ_CHECK(t >= -1);
  }
  free(buf);
  return 0;
}
