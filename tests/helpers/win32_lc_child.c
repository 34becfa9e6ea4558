/* Windows child for the lifecycle tests: the close event through the backend's
 * test seam (the handler routine called from a new thread, as Windows calls
 * it; when it returns TRUE the thread ends the process with status 43, as
 * Windows would end it), reported as lines on stderr.
 *
 *   win32_lc_child close         cleanup runs, then xsig_graceful_exit(7)
 *   win32_lc_child close-signal  cleanup runs, then xsig_graceful_exit(XSIG_EXIT_BY_SIGNAL)
 *                                while a thread stuck in its attach callback
 *                                holds the loader lock, as a DLL stuck in
 *                                DllMain would: an exit that needs the lock
 *                                waits, and a released close thread would
 *                                end the process first
 *   win32_lc_child close-raise   never dispatches; while the close is held, a
 *                                second request (xsig_raise: on Windows no
 *                                second console event can come), repeated as a
 *                                person would until it is past the 0.5 s in
 *                                which it counts as the same request, forces
 *                                the exit
 *   win32_lc_child close-grace   never dispatches; grace_ms forces the exit
 *                                while the close is held
 *   win32_lc_child stuck-force   stdout's buffer holds bytes for a pipe nobody
 *                                reads; a stop request's grace time runs out */
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
  WriteFile(GetStdHandle(STD_ERROR_HANDLE), buf, (DWORD)len, &n, NULL);
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
  if (r) TerminateProcess(GetCurrentProcess(), 43);
  return 0;
}

/* The exe's TLS callback runs under the loader lock for each new thread. */
static HANDLE never;
static volatile LONG stick_next;

static void NTAPI tls_callback(PVOID module, DWORD reason, PVOID reserved) {
  (void)module, (void)reserved;
  if (reason == DLL_THREAD_ATTACH && InterlockedExchange(&stick_next, 0))
    WaitForSingleObject(never, INFINITE);
}

__attribute__((section(".CRT$XLB"), used)) const PIMAGE_TLS_CALLBACK lc_tls_callback = tls_callback;

static DWORD WINAPI nothing(void *arg) {
  (void)arg;
  return 0;
}

/* Returns once another thread is stuck holding the loader lock. */
static void hold_loader_lock(void) {
  never = CreateEventW(NULL, TRUE, FALSE, NULL);
  InterlockedExchange(&stick_next, 1);
  CreateThread(NULL, 0, nothing, NULL, 0, NULL);
  while (stick_next) Sleep(1);
  out("loader lock held\n");
}

static void wait_held(void) {
  while (!xsig__win32_held()) Sleep(1);
  out("held\n");
}

int main(int argc, char **argv) {
  const char *mode = argc > 1 ? argv[1] : "";
  xsig_graceful_opts_t o = {.on_stop = on_stop, .on_force = on_force};
  if (!strcmp(mode, "close-grace") || !strcmp(mode, "stuck-force")) o.grace_ms = 500;
  if (xsig_init() < 0 || xsig_graceful_start(NULL, &o) < 0) return 98;
  if (!strcmp(mode, "stuck-force")) {
    static char big[256 * 1024];
    memset(big, 'x', sizeof big);
    /* All of it stays in the buffer until a flush, which can never finish. */
    if (setvbuf(stdout, NULL, _IOFBF, 1 << 20) || fwrite(big, 1, sizeof big, stdout) != sizeof big)
      return 95;
    if (xsig_raise(SIGTERM) != 0) return 94;
    out("stop requested\n");
    for (;;) Sleep(1000); /* never dispatches: only the watchdog can end this */
  }
  if (!CreateThread(NULL, 0, send_close, NULL, 0, NULL)) return 97;
  if (!strcmp(mode, "close") || !strcmp(mode, "close-signal")) {
    while (!stopped) xsig_wait(NULL, -1);
    wait_held();
    out("cleanup\n");
    if (!strcmp(mode, "close")) xsig_graceful_exit(7);
    hold_loader_lock();
    xsig_graceful_exit(XSIG_EXIT_BY_SIGNAL);
  }
  if (!strcmp(mode, "close-raise") || !strcmp(mode, "close-grace")) {
    while (!xsig_stop_requested()) Sleep(1);
    out("stop seen %d\n", xsig_stop_requested());
    wait_held();
    for (;;) { /* never dispatches: only the watchdog can end this */
      if (!strcmp(mode, "close-raise") && xsig_raise(SIGTERM) != 0) return 93;
      Sleep(100);
    }
  }
  return 96;
}
