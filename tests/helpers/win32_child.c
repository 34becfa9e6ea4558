/* Child program for tests/win32_*_test.cc. It shares (or not) its parent's
 * console, reports on stdout, and ends when the parent closes its stdin.
 *
 *   win32_child watch     watch SIGINT, report each callback until stdin closes
 *   win32_child enable    xsig_default(SIGINT) first (undoing the flag a new
 *                         process group inherits), then as watch
 *   win32_child nowatch   no watch: report "survived" and exit 3 if it lives
 *                         until stdin closes
 *   win32_child raise     xsig_raise(SIGINT) with no watch: must not return
 *   win32_child close     watch SIGTERM, deliver CTRL_CLOSE_EVENT from a new
 *                         thread as Windows does, and exit(42) from the
 *                         callback while that thread is still held
 *   win32_child close-shutdown
 *                         as close, but the callback calls xsig_shutdown()
 *                         first and then saves its state; the close thread
 *                         ends the process with 43, as Windows would, if the
 *                         handler ever returns
 *   win32_child endsession
 *                         load user32 (as a program with windows has it),
 *                         watch SIGTERM, and exit(42) from the callback when
 *                         logoff or shutdown comes (wineboot --end-session)
 *   win32_child ctrlc     on the console it was started with (ci/test-wine.sh
 *                         runs it under a pseudo-terminal): watch SIGINT,
 *                         generate a real Ctrl+C, exit 0 once the callback ran */
#include "xsig/xsig.h"
#include "../../src/win32/win32_int.h"
#include "win32_helper.h"
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

static unsigned sigints;

static void on_sigint(const xsig_event_t *ev, void *user) {
  (void)user;
  sigints += ev->count;
  say("SIGINT count=%u source=%u native=%u\n", ev->count, (unsigned)ev->source, ev->native);
}

static HANDLE close_thread;

static DWORD WINAPI send_close(void *arg) {
  (void)arg;
  BOOL r = xsig__win32_console_handler(CTRL_CLOSE_EVENT);
  say("handler returned\n");
  if (r) TerminateProcess(GetCurrentProcess(), 43);
  return 0;
}

static void on_sigterm(const xsig_event_t *ev, void *user) {
  (void)user;
  /* The handler thread is held while this process runs its cleanup. */
  for (int i = 0; i < 10000 && !xsig__win32_held(); i++) Sleep(1);
  say("SIGTERM native=%u held=%d\n", ev->native, xsig__win32_held());
  exit(42);
}

/* Portable cleanup: xsig goes first, then the state is saved. A handler that
 * xsig_shutdown let go would end the process within this wait. */
static void on_sigterm_shutdown(const xsig_event_t *ev, void *user) {
  (void)ev, (void)user;
  for (int i = 0; i < 10000 && !xsig__win32_held(); i++) Sleep(1);
  xsig_shutdown();
  WaitForSingleObject(close_thread, 3000);
  say("saved held=%d\n", xsig__win32_held());
  exit(42);
}

static int run_watch(int enable) {
  int ignored = xsig_disposition(SIGINT) == XSIG_DISP_IGNORED;
  if (enable && xsig_default(SIGINT) != 0) return 5;
  if (xsig_watch(NULL, SIGINT, on_sigint, NULL, 0, NULL) != 0) return 6;
  say("ready ignored=%d\n", ignored);
  while (!stdin_closed()) xsig_wait(NULL, 50);
  xsig_dispatch(NULL);
  say("done sigint=%u\n", sigints);
  return 0;
}

static int run_ctrlc(void) {
  if (xsig_watch(NULL, SIGINT, on_sigint, NULL, 0, NULL) != 0) return 6;
  if (!GenerateConsoleCtrlEvent(CTRL_C_EVENT, 0)) {
    say("GenerateConsoleCtrlEvent failed: %lu\n", GetLastError());
    return 8;
  }
  for (int i = 0; i < 200 && !sigints; i++) xsig_wait(NULL, 100);
  say("alive sigint=%u\n", sigints);
  return sigints ? 0 : 9;
}

int main(int argc, char **argv) {
  const char *mode = argc > 1 ? argv[1] : "";
  if (xsig_init() != 0) return 2;
  if (!strcmp(mode, "ctrlc")) return run_ctrlc();
  if (!helper_watch_stdin()) return 2;
  if (!strcmp(mode, "watch")) return run_watch(0);
  if (!strcmp(mode, "enable")) return run_watch(1);
  if (!strcmp(mode, "nowatch")) {
    say("ready\n");
    while (!stdin_closed()) Sleep(10);
    say("survived\n");
    return 3;
  }
  if (!strcmp(mode, "raise")) {
    int r = xsig_raise(SIGINT);
    say("raise returned %d\n", r);
    return 4;
  }
  if (!strcmp(mode, "close") || !strcmp(mode, "close-shutdown")) {
    xsig_cb cb = !strcmp(mode, "close") ? on_sigterm : on_sigterm_shutdown;
    if (xsig_watch(NULL, SIGTERM, cb, NULL, 0, NULL) != 0) return 6;
    if (!(close_thread = CreateThread(NULL, 0, send_close, NULL, 0, NULL))) return 2;
    while (!stdin_closed()) xsig_wait(NULL, 50);
    return 7;
  }
  if (!strcmp(mode, "endsession")) {
    if (!LoadLibraryW(L"user32.dll")) return 10;
    int r = xsig_watch(NULL, SIGTERM, on_sigterm, NULL, 0, NULL);
    if (r != 0) {
      say("watch failed %d %d\n", r, xsig_os_error());
      return 6;
    }
    say("ready\n");
    while (!stdin_closed()) xsig_wait(NULL, 50);
    return 7;
  }
  return 2;
}
