/* Child program for tests/win32_mailbox_test.cc: a mailbox target, or a
 * squatter on another process's mailbox name. Reports on stdout; ends when
 * the parent closes its stdin.
 *
 *   win32_mbox_child target LIST  watch each signal of LIST (comma-separated
 *                                 names, or "none": xsig_init and no watch),
 *                                 report "ready pid=N", then one line per
 *                                 callback; on stdin's end, xsig_shutdown and
 *                                 exit 0
 *   win32_mbox_child reload       xsig_reload_start; report each reload
 *   win32_mbox_child squat PID    make the pipe \\.\pipe\xsig-PID first and
 *                                 answer every sender "accepted", as a
 *                                 process posing as PID would */
#include "xsig/lifecycle.h"
#include "xsig/xsig.h"
#include "../../src/common/mailbox_msg.h"
#include "win32_helper.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static unsigned long long totals[32];

static void on_signal(const xsig_event_t *ev, void *user) {
  (void)user;
  totals[ev->signum] += ev->count;
  say("got %s count=%u pid=%lld source=%d total=%llu\n", xsig_name(ev->signum), ev->count,
      (long long)ev->sender_pid, (int)ev->source, totals[ev->signum]);
}

static int reloads;

static int on_reload(void *user, char *err, size_t errsize) {
  (void)user, (void)err, (void)errsize;
  say("reloaded %d\n", ++reloads);
  return 0;
}

static int serve(void) {
  while (!stdin_closed()) {
    int r = xsig_wait(NULL, 100);
    if (r < 0) {
      say("wait failed %d\n", r);
      return 1;
    }
  }
  return 0;
}

static int target(const char *list) {
  char buf[256];
  int r = xsig_init();
  if (r < 0) return say("init failed %d\n", r), 1;
  if (strcmp(list, "none") != 0) {
    snprintf(buf, sizeof buf, "%s", list);
    for (char *name = strtok(buf, ","); name; name = strtok(NULL, ",")) {
      int sig = xsig_from_name(name);
      if (sig < 0 || (r = xsig_watch(NULL, sig, on_signal, NULL, 0, NULL)) < 0)
        return say("watch %s failed %d\n", name, sig < 0 ? sig : r), 1;
    }
  }
  say("ready pid=%lu\n", (unsigned long)GetCurrentProcessId());
  r = serve();
  xsig_shutdown();
  say("bye\n");
  return r;
}

static int reload(void) {
  int r = xsig_init();
  if (r == 0) r = xsig_reload_start(NULL, on_reload, NULL);
  if (r < 0) return say("reload_start failed %d\n", r), 1;
  say("ready pid=%lu\n", (unsigned long)GetCurrentProcessId());
  r = serve();
  xsig_reload_stop();
  xsig_shutdown();
  return r;
}

static HANDLE squat_pipe;

static DWORD WINAPI squat_main(void *arg) {
  unsigned char buf[64];
  xsig__mbox_msg_t yes = {XSIG__MBOX_REPLY, 0, XSIG__MBOX_SIGNALS};
  DWORD n;
  (void)arg;
  for (;;) {
    if (!ConnectNamedPipe(squat_pipe, NULL) && GetLastError() != ERROR_PIPE_CONNECTED) continue;
    if (ReadFile(squat_pipe, buf, sizeof buf, &n, NULL)) {
      say("squatter heard %lu bytes\n", (unsigned long)n);
      xsig__mbox_encode(&yes, buf, sizeof buf);
      WriteFile(squat_pipe, buf, XSIG__MBOX_SIZE, &n, NULL);
      FlushFileBuffers(squat_pipe);
    }
    DisconnectNamedPipe(squat_pipe);
  }
  return 0;
}

static int squat(const char *pid) {
  char name[64];
  snprintf(name, sizeof name, "\\\\.\\pipe\\xsig-%s", pid);
  squat_pipe =
      CreateNamedPipeA(name, PIPE_ACCESS_DUPLEX | FILE_FLAG_FIRST_PIPE_INSTANCE,
                       PIPE_TYPE_MESSAGE | PIPE_READMODE_MESSAGE | PIPE_WAIT, 1, 64, 64, 0, NULL);
  if (squat_pipe == INVALID_HANDLE_VALUE) return say("squat failed %lu\n", GetLastError()), 1;
  HANDLE t = CreateThread(NULL, 0, squat_main, NULL, 0, NULL);
  if (!t) return 1;
  say("squatting\n");
  while (!stdin_closed()) Sleep(20);
  return 0;
}

int main(int argc, char **argv) {
  if (!helper_watch_stdin() || argc < 2) return 2;
  if (strcmp(argv[1], "target") == 0 && argc == 3) return target(argv[2]);
  if (strcmp(argv[1], "reload") == 0) return reload();
  if (strcmp(argv[1], "squat") == 0 && argc == 3) return squat(argv[2]);
  return 2;
}
