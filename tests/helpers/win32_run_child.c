/* Child program for tests/win32_run_test.cc, run under `xsig run`:
 *
 *   win32_run_child exit N       exit with N
 *   win32_run_child grandchild   start "win32_run_child sleep" (a grandchild in
 *                                the same job), print "grandchild PID", sleep
 *   win32_run_child sleep        print "ready", sleep for good (a Ctrl+C that
 *                                its new process group has turned off, and the
 *                                Ctrl+Break Wine cannot make, never end it)
 *   win32_run_child stoppable    xsig_default(SIGINT) to take Ctrl+C again,
 *                                watch SIGINT, SIGBREAK and SIGTERM, print
 *                                "ready", and exit 5 from the callback
 *   win32_run_child drain MS     as stoppable, but print "draining" and take
 *                                MS ms before it exits 5
 *   win32_run_child drain-int MS as drain, watching SIGINT only: the mailbox
 *                                refuses its SIGTERM, only Ctrl+C reaches it
 *   win32_run_child relay        as stoppable, and watch SIGHUP, SIGQUIT,
 *                                SIGUSR1 and SIGUSR2, printing "got SIG
 *                                count=N source=S pid=P" for each
 *   win32_run_child log FILE ... stdout to FILE, which starts with "pid PID
 *                                console yes|no" (whether it has a console),
 *                                then the rest as above (under a service, which
 *                                has no console to print on) */
#include "xsig/xsig.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <windows.h>

static int drain_ms;

static void on_stop(const xsig_event_t *ev, void *user) {
  (void)user;
  printf("stopped by %s\n", xsig_name(ev->signum));
  if (drain_ms) printf("draining\n");
  fflush(stdout);
  Sleep((DWORD)drain_ms);
  exit(5);
}

static void on_other(const xsig_event_t *ev, void *user) {
  (void)user;
  printf("got %s count=%u source=%d pid=%lld\n", xsig_name(ev->signum), ev->count, (int)ev->source,
         (long long)ev->sender_pid);
  fflush(stdout);
}

static int grandchild(const char *self) {
  char cmd[MAX_PATH + 16];
  snprintf(cmd, sizeof cmd, "\"%s\" sleep", self);
  STARTUPINFOA si;
  PROCESS_INFORMATION pi;
  memset(&si, 0, sizeof si);
  si.cb = sizeof si;
  if (!CreateProcessA(NULL, cmd, NULL, NULL, TRUE, 0, NULL, NULL, &si, &pi)) return 2;
  printf("grandchild %lu\n", (unsigned long)pi.dwProcessId);
  fflush(stdout);
  Sleep(INFINITE);
  return 0;
}

int main(int argc, char **argv) {
  if (argc >= 3 && strcmp(argv[1], "log") == 0) {
    if (!freopen(argv[2], "w", stdout)) return 4;
    DWORD list[4];
    printf("pid %lu console %s\n", (unsigned long)GetCurrentProcessId(),
           GetConsoleProcessList(list, 4) ? "yes" : "no");
    fflush(stdout);
    argv[2] = argv[0];
    argv += 2, argc -= 2;
  }
  if (argc >= 3 && strcmp(argv[1], "exit") == 0) return atoi(argv[2]);
  if (argc >= 2 && strcmp(argv[1], "grandchild") == 0) return grandchild(argv[0]);
  if (argc >= 2 && strcmp(argv[1], "sleep") == 0) {
    printf("ready\n");
    fflush(stdout);
    Sleep(INFINITE);
  }
  int int_only = argc >= 3 && strcmp(argv[1], "drain-int") == 0;
  int relay = argc >= 2 && strcmp(argv[1], "relay") == 0;
  if (argc >= 3 && (strcmp(argv[1], "drain") == 0 || int_only)) drain_ms = atoi(argv[2]);
  if (argc >= 2 && (strcmp(argv[1], "stoppable") == 0 || drain_ms || int_only || relay)) {
    if (xsig_init() < 0 || xsig_default(SIGINT) < 0) return 3;
    if (xsig_watch(NULL, SIGINT, on_stop, NULL, 0, NULL) < 0) return 3;
    if (!int_only && (xsig_watch(NULL, SIGBREAK, on_stop, NULL, 0, NULL) < 0 ||
                      xsig_watch(NULL, SIGTERM, on_stop, NULL, 0, NULL) < 0))
      return 3;
    static const int others[] = {SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};
    for (int i = 0; relay && i < 4; i++)
      if (xsig_watch(NULL, others[i], on_other, NULL, 0, NULL) < 0) return 3;
    printf("ready\n");
    fflush(stdout);
    for (;;) xsig_wait(NULL, -1);
  }
  fprintf(stderr, "usage: win32_run_child [log FILE] exit N|grandchild|sleep|stoppable|drain "
                  "MS|drain-int MS|relay\n");
  return 2;
}
