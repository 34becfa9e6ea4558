/* Windows backend, services: xsig_service_start connects the process to the
 * Service Control Manager, service controls become signals, and what the
 * lifecycle says to systemd on Linux becomes SERVICE_STATUS reports here.
 *
 * The SCM's dispatcher (StartServiceCtrlDispatcherW) holds its thread for the
 * service's whole life and runs the control handler on it, so it gets a
 * thread of xsig's own. The program's main thread waits only until
 * ServiceMain has registered the handler and reported START_PENDING, then
 * goes on as the service's main; ServiceMain itself only waits for the end.
 *
 * The handler follows the console handler's rule: it counts the control as a
 * signal and returns, so it never holds the dispatcher for long (the SCM gives
 * it 30 s). Status only moves forward (START_PENDING, RUNNING or PAUSED,
 * STOP_PENDING, STOPPED), and STOPPED is reported once. */
#include "win32_int.h"
#include "../common/xsig_int.h"
#include <string.h>
#include <wchar.h>
#include <winsvc.h>
#include <winternl.h>

#define NAME_MAX_W    256   /* the SCM's limit on a service name */
#define TICK_MS       1000  /* a pending state's checkpoint moves this often */
#define WAIT_HINT_MS  5000  /* and the SCM is told to expect the next within this */
#define START_WAIT_MS 60000 /* the dispatcher connects within 30 s; ServiceMain follows */

static SRWLOCK lock = SRWLOCK_INIT;
/* NOT_SERVICE: no SCM started this process, which no later call can change
 * (and Wine's dispatcher refuses a second try with 1056). */
static enum { IDLE, STARTING, CONNECTED, ENDED, NOT_SERVICE } phase; /* under lock */
static xsig__aint active; /* connected to the SCM: the process is a service */
static SERVICE_STATUS_HANDLE status_handle;
static SERVICE_STATUS st; /* under lock */
static DWORD preshutdown_ms;
static wchar_t wname[NAME_MAX_W + 1];
static HANDLE started; /* ServiceMain registered the handler, or failed to */
static HANDLE ended;   /* STOPPED was reported */
static DWORD start_error;

/* How far along a state is: a report never moves back, except between
 * RUNNING and PAUSED. */
static int rank(DWORD state) {
  switch (state) {
  case SERVICE_START_PENDING:
    return 1;
  case SERVICE_RUNNING:
  case SERVICE_PAUSED:
    return 2;
  case SERVICE_STOP_PENDING:
    return 3;
  default:
    return 4;
  }
}

static int pending(DWORD state) {
  return state == SERVICE_START_PENDING || state == SERVICE_STOP_PENDING;
}

/* Controls are accepted while their signals are watched; STOP and SHUTDOWN
 * always are (unwatched, they end the process, as an unhandled stop does). A
 * service that is stopping accepts nothing more: it has its request. */
static DWORD accepts(void) {
  if (rank(st.dwCurrentState) >= 3) return 0;
  DWORD a = SERVICE_ACCEPT_STOP | SERVICE_ACCEPT_SHUTDOWN;
  if (preshutdown_ms) a |= SERVICE_ACCEPT_PRESHUTDOWN;
  if (xsig__win32_installed(SIGHUP)) a |= SERVICE_ACCEPT_PARAMCHANGE;
  if (xsig__win32_installed(SIGTSTP) && xsig__win32_installed(SIGCONT))
    a |= SERVICE_ACCEPT_PAUSE_CONTINUE;
  return a;
}

/* Under lock. */
static void report(void) {
  if (phase != CONNECTED) return;
  st.dwControlsAccepted = accepts();
  st.dwWaitHint = pending(st.dwCurrentState) ? WAIT_HINT_MS : 0;
  if (!pending(st.dwCurrentState)) st.dwCheckPoint = 0;
  SetServiceStatus(status_handle, &st);
}

/* 1 when the service was in a state it may leave for `to` (and now is in it);
 * only_from, when not 0, is the one state it may leave. */
static int move_to(DWORD to, DWORD only_from) {
  AcquireSRWLockExclusive(&lock);
  DWORD from = st.dwCurrentState;
  int ok = phase == CONNECTED && to != SERVICE_STOPPED && (!only_from || from == only_from) &&
           (rank(to) > rank(from) || (rank(to) == 2 && rank(from) == 2));
  if (ok && to != from) {
    st.dwCurrentState = to;
    st.dwCheckPoint = pending(to) ? 1 : 0;
    report();
  }
  ReleaseSRWLockExclusive(&lock);
  return ok;
}

static void report_stopped(DWORD win32, DWORD specific) {
  AcquireSRWLockExclusive(&lock);
  if (phase == CONNECTED) {
    st.dwCurrentState = SERVICE_STOPPED;
    st.dwWin32ExitCode = win32;
    st.dwServiceSpecificExitCode = specific;
    st.dwControlsAccepted = st.dwCheckPoint = st.dwWaitHint = 0;
    SetServiceStatus(status_handle, &st);
    phase = ENDED; /* the handle is the SCM's again: nothing more is reported */
    SetEvent(ended);
  }
  ReleaseSRWLockExclusive(&lock);
}

/* ---------------------------------------------------------------- controls */

/* An ignored signal (xsig_ignore of SIGHUP or SIGUSR1) is taken and dropped,
 * as the mailbox takes it. */
static DWORD to_signal(int sig, uint32_t native) {
  if (xsig__deliver(sig, -1, XSIG_SRC_SERVICE, native, NULL) || xsig__win32_mbox_ignored(sig))
    return NO_ERROR;
  return ERROR_CALL_NOT_IMPLEMENTED;
}

static int stopping(void) {
  AcquireSRWLockExclusive(&lock);
  int r = phase == CONNECTED && rank(st.dwCurrentState) >= 3;
  ReleaseSRWLockExclusive(&lock);
  return r;
}

/* STOP, SHUTDOWN and PRESHUTDOWN are one request: the first of them is
 * delivered, and later ones (SHUTDOWN after a STOP or a PRESHUTDOWN) are that
 * same request, which a second SIGTERM would turn into a forced exit. So a
 * later one is answered before the look for a watch: the first may have been
 * taken by a one-shot watch, or the program may have unwatched SIGTERM (or
 * called xsig_shutdown) while it stops, and no watch then is no reason to end
 * it. A state never moves back from STOP_PENDING, so the answer stays true. */
static DWORD on_stop(DWORD control) {
  if (stopping()) return NO_ERROR;
  if (!xsig__win32_installed(SIGTERM)) xsig__os_exit_by_signal(SIGTERM);
  if (!move_to(SERVICE_STOP_PENDING, 0)) return NO_ERROR;
  if (!xsig__deliver(SIGTERM, -1, XSIG_SRC_SERVICE, control, NULL))
    xsig__os_exit_by_signal(SIGTERM); /* the watch went meanwhile */
  return NO_ERROR;
}

DWORD WINAPI xsig__win32_service_handler(DWORD control, DWORD type, void *data, void *ctx) {
  (void)type, (void)data, (void)ctx;
  DWORD r;
  switch (control) {
  case SERVICE_CONTROL_INTERROGATE:
    AcquireSRWLockExclusive(&lock);
    report();
    ReleaseSRWLockExclusive(&lock);
    return NO_ERROR;
  case SERVICE_CONTROL_PRESHUTDOWN:
    if (!preshutdown_ms) return ERROR_CALL_NOT_IMPLEMENTED;
    return on_stop(control);
  case SERVICE_CONTROL_STOP:
  case SERVICE_CONTROL_SHUTDOWN:
    return on_stop(control);
  case SERVICE_CONTROL_PARAMCHANGE:
    return to_signal(SIGHUP, control);
  case SERVICE_CONTROL_PAUSE:
  case SERVICE_CONTROL_CONTINUE: {
    int pause = control == SERVICE_CONTROL_PAUSE;
    if (!xsig__win32_installed(SIGTSTP) || !xsig__win32_installed(SIGCONT))
      return ERROR_CALL_NOT_IMPLEMENTED;
    r = to_signal(pause ? SIGTSTP : SIGCONT, control);
    /* The program has been told; the callback does the pausing. */
    if (r == NO_ERROR) move_to(pause ? SERVICE_PAUSED : SERVICE_RUNNING, 0);
    return r;
  }
  default:
    if (control >= 128 && control <= 255) return to_signal(SIGUSR1, control);
    return ERROR_CALL_NOT_IMPLEMENTED;
  }
}

/* ---------------------------------------------------------------- connecting */

static DWORD ask_preshutdown(const wchar_t *name) {
  SERVICE_PRESHUTDOWN_INFO info = {preshutdown_ms};
  DWORD e = 0;
  SC_HANDLE m = OpenSCManagerW(NULL, NULL, SC_MANAGER_CONNECT);
  SC_HANDLE s = m ? OpenServiceW(m, name, SERVICE_CHANGE_CONFIG) : NULL;
  if (!s || !ChangeServiceConfig2W(s, SERVICE_CONFIG_PRESHUTDOWN_INFO, &info)) e = GetLastError();
  if (s) CloseServiceHandle(s);
  if (m) CloseServiceHandle(m);
  return e ? e : 0;
}

static DWORD WINAPI tick_main(void *arg) {
  (void)arg;
  while (WaitForSingleObject(ended, TICK_MS) == WAIT_TIMEOUT) {
    AcquireSRWLockExclusive(&lock);
    if (phase == CONNECTED && pending(st.dwCurrentState)) {
      st.dwCheckPoint++;
      report();
    }
    ReleaseSRWLockExclusive(&lock);
  }
  return 0;
}

/* argv[0] is the name the SCM knows the service by: a service of its own
 * process runs the table's first entry, whatever name the program gave. */
static void WINAPI service_main(DWORD argc, LPWSTR *argv) {
  const wchar_t *name = argc > 0 && argv[0] ? argv[0] : wname;
  SERVICE_STATUS_HANDLE h = RegisterServiceCtrlHandlerExW(name, xsig__win32_service_handler, NULL);
  if (!h) {
    start_error = GetLastError();
    SetEvent(started);
    return;
  }
  DWORD e = preshutdown_ms ? ask_preshutdown(name) : 0;
  /* The ticker only looks at the state, so it may start first. */
  HANDLE t = e ? NULL : CreateThread(NULL, 0, tick_main, NULL, 0, NULL);
  if (!e && !t) e = GetLastError();
  if (t) CloseHandle(t);
  AcquireSRWLockExclusive(&lock);
  status_handle = h;
  phase = CONNECTED;
  st = (SERVICE_STATUS){.dwServiceType = SERVICE_WIN32_OWN_PROCESS,
                        .dwCurrentState = SERVICE_START_PENDING,
                        .dwCheckPoint = 1};
  if (!e) xsig__aint_store(&active, 1);
  report();
  ReleaseSRWLockExclusive(&lock);
  if (e) {
    start_error = e;
    report_stopped(e, 0); /* the SCM shows why the service did not start */
  }
  SetEvent(started);
  WaitForSingleObject(ended, INFINITE);
}

static DWORD WINAPI dispatcher_main(void *arg) {
  (void)arg;
  SERVICE_TABLE_ENTRYW table[] = {{wname, service_main}, {NULL, NULL}};
  return StartServiceCtrlDispatcherW(table) ? 0 : GetLastError();
}

static int os_error(DWORD e) {
  xsig__set_os_error((int)e);
  return XSIG_ESYS;
}

/* What the calling thread learns from the dispatcher thread t: 0 connected,
 * XSIG_ENOTSVC when no SCM started this process, else an error. */
static int await_start(HANDLE t) {
  HANDLE hs[2] = {started, t};
  DWORD code = 0, w = WaitForMultipleObjects(2, hs, FALSE, START_WAIT_MS);
  if (w == WAIT_OBJECT_0) return start_error ? os_error(start_error) : 0;
  if (w != WAIT_OBJECT_0 + 1) return os_error(w == WAIT_TIMEOUT ? ERROR_TIMEOUT : GetLastError());
  GetExitCodeThread(t, &code);
  if (code == ERROR_FAILED_SERVICE_CONTROLLER_CONNECT) return XSIG_ENOTSVC;
  return os_error(code ? code : ERROR_SERVICE_NOT_ACTIVE);
}

/* Whether the SCM can have started this process: 0 when it certainly did not
 * (the parent is gone, or is a program other than services.exe, which starts
 * every service process), 1 when it may have. Asked before the dispatcher,
 * because the dispatcher of a process that is no service does not only fail
 * (1063): under Wine it connects to whichever service the SCM is starting at
 * that moment, and takes that service's place. */
static int may_be_service(void) {
  PROCESS_BASIC_INFORMATION pbi;
  ULONG len = 0;
  wchar_t path[MAX_PATH];
  DWORD n = MAX_PATH;
  if (NtQueryInformationProcess(GetCurrentProcess(), ProcessBasicInformation, &pbi, sizeof pbi,
                                &len) != 0)
    return 1;
  HANDLE h = OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, FALSE,
                         (DWORD)pbi.InheritedFromUniqueProcessId);
  if (!h) return GetLastError() != ERROR_INVALID_PARAMETER; /* gone, or not ours to look at */
  int known = QueryFullProcessImageNameW(h, 0, path, &n);
  CloseHandle(h);
  if (!known) return 1;
  const wchar_t *base = wcsrchr(path, L'\\');
  return _wcsicmp(base ? base + 1 : path, L"services.exe") == 0;
}

int xsig_service_start(const char *name, const xsig_service_opts_t *opts) {
  xsig_service_opts_t o = opts ? *opts : (xsig_service_opts_t){0};
  wchar_t w[NAME_MAX_W + 1];
  if (!name || o.preshutdown_ms < 0 || o.flags) return XSIG_EINVAL;
  /* 0 for bytes that are not UTF-8 and for a name too long for the SCM. */
  int n = MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, name, -1, w, NAME_MAX_W + 1);
  if (n <= 1 || wcspbrk(w, L"/\\")) return XSIG_EINVAL;
  AcquireSRWLockExclusive(&lock);
  int r = phase == IDLE ? 0 : phase == NOT_SERVICE ? XSIG_ENOTSVC : XSIG_ESTATE;
  if (r == 0) {
    phase = STARTING;
    memcpy(wname, w, (size_t)n * sizeof *w);
    preshutdown_ms = (DWORD)o.preshutdown_ms;
    start_error = 0;
  }
  ReleaseSRWLockExclusive(&lock);
  if (r < 0) return r;
  HANDLE t = NULL;
  if (!may_be_service()) {
    AcquireSRWLockExclusive(&lock);
    phase = NOT_SERVICE;
    ReleaseSRWLockExclusive(&lock);
    return XSIG_ENOTSVC;
  }
  started = CreateEventW(NULL, TRUE, FALSE, NULL);
  ended = CreateEventW(NULL, TRUE, FALSE, NULL);
  if (!started || !ended || !(t = CreateThread(NULL, 0, dispatcher_main, NULL, 0, NULL)))
    r = xsig__win32_sys_error();
  else
    r = await_start(t);
  if (t) CloseHandle(t);
  AcquireSRWLockExclusive(&lock);
  /* Not a service, or the dispatcher could not even start (the process may
   * ask again then). After a time-out the dispatcher may still connect, so
   * nothing is reused. */
  int done = phase == STARTING && (r == XSIG_ENOTSVC || !t);
  if (done) phase = r == XSIG_ENOTSVC ? NOT_SERVICE : IDLE;
  ReleaseSRWLockExclusive(&lock);
  if (done) {
    if (started) CloseHandle(started);
    if (ended) CloseHandle(ended);
    started = ended = NULL;
  }
  return r;
}

int xsig_service_active(void) {
  return xsig__aint_load(&active);
}

/* ---------------------------------------------------------------- the seam */

int xsig__win32_in_service(void) {
  return xsig__aint_load(&active);
}

/* Watches changed: the SCM learns which controls are accepted now. */
void xsig__win32_service_changed(void) {
  if (!xsig__aint_load(&active)) return;
  AcquireSRWLockExclusive(&lock);
  if (phase == CONNECTED && accepts() != st.dwControlsAccepted) report();
  ReleaseSRWLockExclusive(&lock);
}

static DWORD WINAPI report_killed(void *arg) {
  (void)arg;
  report_stopped(ERROR_SERVICE_SPECIFIC_ERROR, (DWORD)STATUS_CONTROL_C_EXIT);
  return 0;
}

/* A forced exit must end the process whatever holds it: the report is an RPC
 * to the SCM and takes our lock, so it gets a thread and a bounded wait. */
#define KILLED_REPORT_MS 3000

void xsig__win32_service_killed(void) {
  if (!xsig__aint_load(&active)) return;
  HANDLE t = CreateThread(NULL, 0, report_killed, NULL, 0, NULL);
  if (!t) return;
  WaitForSingleObject(t, KILLED_REPORT_MS);
  CloseHandle(t);
}

/* One line at a time, as systemd reads them; only READY=1 and STOPPING=1 have
 * an SCM word. */
static int has_line(const char *state, const char *line) {
  size_t n = strlen(line);
  for (const char *p = state; p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
    if (strncmp(p, line, n) == 0 && (p[n] == '\0' || p[n] == '\n')) return 1;
  return 0;
}

int xsig__os_notify(const char *state) {
  if (!xsig__aint_load(&active)) return 0;
  int told = 0;
  if (has_line(state, "READY=1")) {
    /* Only the first: READY=1 also ends a reload, which must not end a pause. */
    move_to(SERVICE_RUNNING, SERVICE_START_PENDING);
    told = 1;
  }
  if (has_line(state, "STOPPING=1")) {
    move_to(SERVICE_STOP_PENDING, 0);
    told = 1;
  }
  return told;
}

void xsig__os_will_exit(int status) {
  if (xsig__aint_load(&active))
    report_stopped(status ? ERROR_SERVICE_SPECIFIC_ERROR : NO_ERROR, (DWORD)status);
}
