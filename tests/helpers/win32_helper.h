/* What the Windows helper programs share: the test tells a helper to report
 * and end by closing its stdin, and the helper's lines must reach the test's
 * pipe at once. Interlocked, not <stdatomic.h>, so that this compiles where
 * the library does (MSVC too). */
#pragma once
#include <windows.h>
#include <stdarg.h>
#include <stdio.h>

static volatile LONG helper_stdin_closed;

static DWORD WINAPI helper_read_stdin(void *arg) {
  char buf[64];
  DWORD n;
  (void)arg;
  while (ReadFile(GetStdHandle(STD_INPUT_HANDLE), buf, sizeof buf, &n, NULL) && n) {
  }
  InterlockedExchange(&helper_stdin_closed, 1);
  return 0;
}

/* Starts the thread that notices the end of stdin; 0 when it could not. */
static int helper_watch_stdin(void) {
  HANDLE t = CreateThread(NULL, 0, helper_read_stdin, NULL, 0, NULL);
  if (!t) return 0;
  CloseHandle(t);
  return 1;
}

static int stdin_closed(void) {
  return InterlockedCompareExchange(&helper_stdin_closed, 0, 0) != 0;
}

static void say(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vprintf(fmt, ap);
  va_end(ap);
  fflush(stdout);
}
