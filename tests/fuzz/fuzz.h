/* Shared by the libFuzzer targets tests/fuzz/fuzz_*.c (ci/fuzz.sh builds and
 * runs them). A target checks properties, not only "no crash": FUZZ_CHECK
 * prints the failed property and the input, then aborts, so libFuzzer keeps
 * the input as a crash file and CI fails.
 *
 * Each target names what it links beyond the xsig library in a line
 *   fuzz-sources: path/a.c path/b.c
 * and may give libFuzzer options in a line
 *   fuzz-options: -close_fd_mask=2
 * ci/fuzz.sh reads both. */
#ifndef XSIG_FUZZ_H
#define XSIG_FUZZ_H
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The input being run, for the report. */
static const uint8_t *fuzz_in;
static size_t fuzz_in_n;
/* stderr as it was at start: -close_fd_mask=2 closes fd 2 for targets whose
 * code complains there, and libFuzzer's Initialize hook runs before that. */
static int fuzz_err_fd = 2;

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc, (void)argv;
  int fd = dup(2);
  if (fd >= 0) fuzz_err_fd = fd;
  return 0;
}

static inline void fuzz_fail(const char *file, int line, const char *what) {
  FILE *f = fdopen(dup(fuzz_err_fd), "w");
  if (!f) f = stderr;
  fprintf(f, "%s:%d: property failed: %s\ninput (%zu bytes):", file, line, what, fuzz_in_n);
  for (size_t i = 0; i < fuzz_in_n; i++) fprintf(f, " %02x", fuzz_in[i]);
  fputs("\n  \"", f);
  for (size_t i = 0; i < fuzz_in_n; i++) {
    unsigned c = fuzz_in[i];
    if (c >= 32 && c < 127 && c != '"' && c != '\\')
      fputc((int)c, f);
    else
      fprintf(f, "\\x%02x", c);
  }
  fputs("\"\n", f);
  fflush(f);
  abort();
}
#define FUZZ_CHECK(cond)                                                                           \
  do {                                                                                             \
    if (!(cond)) fuzz_fail(__FILE__, __LINE__, #cond);                                             \
  } while (0)

/* The input as a NUL-terminated string (it stops at an embedded NUL, as any
 * C string does); free() it. */
static inline char *fuzz_str(const uint8_t *data, size_t n) {
  fuzz_in = data, fuzz_in_n = n;
  char *s = malloc(n + 1);
  if (!s) abort();
  memcpy(s, data, n);
  s[n] = '\0';
  return s;
}
#endif
