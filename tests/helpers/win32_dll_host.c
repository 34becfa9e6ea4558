/* A plug-in host for tests/win32_console_test.cc: loads the DLL build of xsig
 * named by argv[1], watches SIGINT through it, shuts it down, FreeLibrary()s
 * it, then takes a real Ctrl+C on a console of its own. It also watches
 * SIGUSR1, so the mailbox runs, and checks that its pipe goes at shutdown. Its own handler,
 * registered first and so called last, keeps it alive; a routine left behind
 * in unmapped memory would crash it first. Exit 0: it survived. */
#include <windows.h>
#include "xsig/xsig.h"
#include <stdio.h>
#include <wchar.h>

static HANDLE got;

static BOOL WINAPI host_handler(DWORD type) {
  (void)type;
  SetEvent(got);
  return TRUE;
}

static void say(const char *s) {
  fputs(s, stdout);
  fflush(stdout);
}

static void noop(const xsig_event_t *ev, void *user) {
  (void)ev, (void)user;
}

typedef int (*init_fn)(void);
typedef void (*shutdown_fn)(void);
typedef int (*watch_fn)(xsig_ctx_t *, int, xsig_cb, void *, unsigned, xsig_watch_t **);

int main(int argc, char **argv) {
  if (argc < 2) return 2;
  FreeConsole();
  if (!AllocConsole() || !(got = CreateEventW(NULL, TRUE, FALSE, NULL)) ||
      !SetConsoleCtrlHandler(host_handler, TRUE))
    return 3;
  HMODULE m = LoadLibraryA(argv[1]);
  if (!m) return 4;
  init_fn init = (init_fn)(void (*)(void))GetProcAddress(m, "xsig_init");
  shutdown_fn shut = (shutdown_fn)(void (*)(void))GetProcAddress(m, "xsig_shutdown");
  watch_fn watch = (watch_fn)(void (*)(void))GetProcAddress(m, "xsig_watch");
  /* SIGUSR1 too: its mailbox thread runs code of the DLL, and must be gone
   * (with its pipe) once xsig is shut down. */
  if (!init || !shut || !watch || init() != 0 || watch(NULL, SIGINT, noop, NULL, 0, NULL) != 0 ||
      watch(NULL, SIGUSR1, noop, NULL, 0, NULL) != 0)
    return 5;
  wchar_t pipe[64];
  _snwprintf(pipe, 64, L"\\\\.\\pipe\\xsig-%lu", (unsigned long)GetCurrentProcessId());
  if (!WaitNamedPipeW(pipe, 1) && GetLastError() == ERROR_FILE_NOT_FOUND) return 9;
  shut();
  if (WaitNamedPipeW(pipe, 1) || GetLastError() != ERROR_FILE_NOT_FOUND) return 10;
  if (!FreeLibrary(m)) return 6;
  say("unloaded\n");
  if (!GenerateConsoleCtrlEvent(CTRL_C_EVENT, 0)) return 7;
  if (WaitForSingleObject(got, 60000) != WAIT_OBJECT_0) return 8;
  say("survived ctrl-c\n");
  return 0;
}
