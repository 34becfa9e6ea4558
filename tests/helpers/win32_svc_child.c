/* A Windows service for the service tests, installed and started by them
 * through the real SCM. It reports as lines appended to LOG (a service has no
 * console), and takes orders as user controls, since nothing else reaches it:
 *
 *   win32_svc_child LOG NAME [--preshutdown MS] [--hang] [--oneshot [--second]]
 *                   [--exit N]
 *
 *   user control 200  calls the backend's control handler with SHUTDOWN, twice
 *                     (Wine never sends it); PRESHUTDOWN first when not asked for
 *   user control 201  the handler with PRESHUTDOWN, then SHUTDOWN
 *   user control 202  the console handler routine with CTRL_SHUTDOWN_EVENT and
 *                     CTRL_LOGOFF_EVENT, each on a thread of its own as
 *                     Windows runs it, and says whether they returned
 *   user control 203  watches SIGTSTP and SIGCONT (PAUSE and CONTINUE)
 *   user control 204  stops watching SIGTSTP
 *   user control 205  xsig_raise(SIGCONT) and xsig_raise(SIGTSTP), logged
 *   other user controls are logged as SIGUSR1
 *
 * On SIGTERM it logs the event and ends by xsig_graceful_exit(N) (N = 7 by
 * default), unless --hang: then the grace time (1 s) forces the exit.
 *
 * --oneshot: no graceful shutdown; SIGTERM's only watch is one-shot, and the
 * main thread dispatches without pause, behind spacer contexts that slow the
 * handler's walk (see Win32Console.OneShotSigtermWatch...), so that the stop
 * request's callback can run, and remove the watch, before the control
 * handler has looked for watchers. --second: then, with the watch gone, the
 * backend's control handler is called with SHUTDOWN (as after a STOP on a
 * shutting-down system) and its answer logged. */
#include "xsig/lifecycle.h"
#include "../../src/win32/win32_int.h"
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *log_path;
static volatile LONG term_seen;
static xsig_watch_t *tstp, *cont;

static void out(const char *fmt, ...) {
  char buf[256];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  FILE *f = fopen(log_path, "a");
  if (!f) return;
  fputs(buf, f);
  fputc('\n', f);
  fclose(f);
}

static void log_event(const xsig_event_t *ev) {
  out("%s count=%u source=%d native=%u", xsig_name(ev->signum), ev->count, (int)ev->source,
      ev->native);
}

static void on_event(const xsig_event_t *ev, void *user) {
  (void)user;
  log_event(ev);
}

static DWORD WINAPI console_event(void *arg) {
  return (DWORD)xsig__win32_console_handler((DWORD)(uintptr_t)arg);
}

/* 1, 0 (what it returned), or -1 when it has not returned within 3 s: held. */
static int call_console_handler(DWORD type) {
  HANDLE t = CreateThread(NULL, 0, console_event, (void *)(uintptr_t)type, 0, NULL);
  DWORD code = 2;
  if (WaitForSingleObject(t, 3000) != WAIT_OBJECT_0) return -1;
  GetExitCodeThread(t, &code);
  CloseHandle(t);
  return (int)code;
}

static void on_user(const xsig_event_t *ev, void *user) {
  (void)user;
  DWORD a, b;
  switch (ev->native) {
  case 200:
    a = xsig__win32_service_handler(SERVICE_CONTROL_PRESHUTDOWN, 0, NULL, NULL);
    out("preshutdown-unasked %lu", (unsigned long)a);
    a = xsig__win32_service_handler(SERVICE_CONTROL_SHUTDOWN, 0, NULL, NULL);
    b = xsig__win32_service_handler(SERVICE_CONTROL_SHUTDOWN, 0, NULL, NULL);
    out("shutdown %lu %lu", (unsigned long)a, (unsigned long)b);
    break;
  case 201:
    a = xsig__win32_service_handler(SERVICE_CONTROL_PRESHUTDOWN, 0, NULL, NULL);
    b = xsig__win32_service_handler(SERVICE_CONTROL_SHUTDOWN, 0, NULL, NULL);
    out("preshutdown %lu %lu", (unsigned long)a, (unsigned long)b);
    break;
  case 202: {
    int s = call_console_handler(CTRL_SHUTDOWN_EVENT);
    int l = call_console_handler(CTRL_LOGOFF_EVENT);
    out("console shutdown=%d logoff=%d pending=%u", s, l, xsig_pending(NULL, SIGTERM));
    break;
  }
  case 203:
    out("watch %d %d", xsig_watch(NULL, SIGTSTP, on_event, NULL, 0, &tstp),
        xsig_watch(NULL, SIGCONT, on_event, NULL, 0, &cont));
    break;
  case 204:
    out("unwatch %d", xsig_unwatch(tstp));
    break;
  case 205:
    a = (DWORD)xsig_raise(SIGCONT);
    b = (DWORD)xsig_raise(SIGTSTP);
    out("raise %d %d", (int)a, (int)b);
    break;
  default:
    log_event(ev);
  }
}

static void on_term(const xsig_event_t *ev, void *user) {
  (void)user;
  log_event(ev);
  InterlockedExchange(&term_seen, 1);
}

/* Quick, so that the watch is gone while the control handler may still be
 * walking the contexts: the log is written after. */
static xsig_event_t term_event;
static void on_term_quick(const xsig_event_t *ev, void *user) {
  (void)user;
  term_event = *ev;
  InterlockedExchange(&term_seen, 1);
}

static int run_oneshot(int code, int second) {
  xsig_ctx_t *spacers[256];
  if (xsig_init() < 0) return 4;
  for (int i = 0; i < 256; i++)
    if (xsig_ctx_new(&spacers[i]) < 0) return 4;
  for (int i = 0; i < 256; i++) xsig_ctx_free(spacers[i]);
  if (xsig_watch(NULL, SIGTERM, on_term_quick, NULL, XSIG_ONESHOT, NULL) < 0) return 4;
  out("ready %d", xsig_notify_ready());
  while (!term_seen) xsig_dispatch(NULL);
  log_event(&term_event);
  if (second)
    out("second %lu",
        (unsigned long)xsig__win32_service_handler(SERVICE_CONTROL_SHUTDOWN, 0, NULL, NULL));
  out("exiting %d", code);
  xsig_graceful_exit(code);
}

int main(int argc, char **argv) {
  xsig_service_opts_t so = {0};
  xsig_graceful_opts_t go = {0};
  int hang = 0, oneshot = 0, second = 0, code = 7;
  if (argc < 3) return 2;
  log_path = argv[1];
  for (int i = 3; i < argc; i++) {
    if (strcmp(argv[i], "--preshutdown") == 0 && i + 1 < argc)
      so.preshutdown_ms = atoi(argv[++i]);
    else if (strcmp(argv[i], "--hang") == 0)
      hang = 1;
    else if (strcmp(argv[i], "--oneshot") == 0)
      oneshot = 1;
    else if (strcmp(argv[i], "--second") == 0)
      second = 1;
    else if (strcmp(argv[i], "--exit") == 0 && i + 1 < argc)
      code = atoi(argv[++i]);
    else
      return 2;
  }
  int r = xsig_service_start(argv[2], &so);
  out("start %d active=%d", r, xsig_service_active());
  if (r < 0) return 3;
  out("support TERM=%d HUP=%d USR1=%d TSTP=%d CONT=%d USR2=%d", xsig_support(SIGTERM),
      xsig_support(SIGHUP), xsig_support(SIGUSR1), xsig_support(SIGTSTP), xsig_support(SIGCONT),
      xsig_support(SIGUSR2));
  go.grace_ms = hang ? 1000 : 0;
  if (oneshot) return run_oneshot(code, second);
  if (xsig_init() < 0 || xsig_graceful_start(NULL, &go) < 0 ||
      xsig_watch(NULL, SIGTERM, on_term, NULL, 0, NULL) < 0 ||
      xsig_watch(NULL, SIGUSR1, on_user, NULL, 0, NULL) < 0 ||
      xsig_watch(NULL, SIGHUP, on_event, NULL, 0, NULL) < 0)
    return 4;
  out("ready %d", xsig_notify_ready());
  while (!term_seen || hang) xsig_wait(NULL, -1);
  out("exiting %d", code);
  xsig_graceful_exit(code);
}
