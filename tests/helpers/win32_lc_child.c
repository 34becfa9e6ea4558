/* Windows child for the lifecycle tests: the close event through the backend's
 * test seam (the handler routine called from a new thread, as Windows calls
 * it), reported as lines on stdout.
 *
 *   win32_lc_child close        cleanup runs, then xsig_graceful_exit(7)
 *   win32_lc_child close-force  never dispatches; a second close forces the exit */
#include "xsig/lifecycle.h"
#include "../../src/win32/win32_int.h"
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static volatile LONG stopped;

static void out(const char *fmt, ...) {
  char buf[128];
  DWORD n;
  va_list ap;
  va_start(ap, fmt);
  int len = vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  WriteFile(GetStdHandle(STD_OUTPUT_HANDLE), buf, (DWORD)len, &n, NULL);
}

static void on_stop(int sig, void *user) {
  (void)user;
  out("on_stop %d\n", sig);
  InterlockedExchange(&stopped, 1);
}

static void on_force(int sig, void *user) {
  (void)user;
  out("forced %d\n", sig);
}

static DWORD WINAPI send_close(void *arg) {
  (void)arg;
  BOOL r = xsig__win32_console_handler(CTRL_CLOSE_EVENT);
  out("handler returned %d\n", (int)r);
  return 0;
}

int main(int argc, char **argv) {
  const char *mode = argc > 1 ? argv[1] : "";
  xsig_graceful_opts_t o = {.on_stop = on_stop, .on_force = on_force};
  if (xsig_init() < 0 || xsig_graceful_start(NULL, &o) < 0) return 98;
  if (!CreateThread(NULL, 0, send_close, NULL, 0, NULL)) return 97;
  if (strcmp(mode, "close") == 0) {
    while (!stopped) xsig_wait(NULL, -1);
    out("cleanup\n");
    xsig_graceful_exit(7);
  }
  if (strcmp(mode, "close-force") == 0) {
    while (!xsig_stop_requested()) Sleep(1);
    out("stop seen %d\n", xsig_stop_requested());
    if (!CreateThread(NULL, 0, send_close, NULL, 0, NULL)) return 97;
    for (;;) Sleep(1000); /* never dispatches: only the watchdog can end this */
  }
  return 96;
}
