/* Windows backend, signal side: the console control handler, dispositions,
 * raising and sending, and what this platform supports.
 *
 * Windows has no signals between processes; it has console control events,
 * which it delivers by starting a new thread in the process that runs the
 * registered handler routines, last registered first, until one returns TRUE.
 * When none does, the default routine ends the process. */
#include "win32_int.h"
#include "../common/xsig_int.h"
#include <winternl.h>

static INIT_ONCE handler_once = INIT_ONCE_STATIC_INIT;
static _Atomic int handler_error;         /* GetLastError() of a failed registration */
static _Atomic int installed[XSIG__NSIG]; /* xsig watches the signal */
static _Atomic int swallow_break;         /* xsig_ignore(SIGBREAK) */

/* Threads held for close, logoff or shutdown wait for the generation to move. */
static SRWLOCK hold_lock = SRWLOCK_INIT;
static CONDITION_VARIABLE hold_cond = CONDITION_VARIABLE_INIT;
static unsigned hold_gen;
static _Atomic int held;

static int ctrl_signal(DWORD type) {
  switch (type) {
  case CTRL_C_EVENT:
    return SIGINT;
  case CTRL_BREAK_EVENT:
    return SIGBREAK;
  case CTRL_CLOSE_EVENT:
  case CTRL_LOGOFF_EVENT:
  case CTRL_SHUTDOWN_EVENT:
    return SIGTERM;
  default:
    return 0;
  }
}

/* Windows ends the process as soon as the handler returns from these, so the
 * thread stays here while the program dispatches SIGTERM and exits on its own.
 * Checking for a watch under the lock closes the window where xsig_shutdown has
 * already released everybody and would never release us. */
static void hold(void) {
  AcquireSRWLockExclusive(&hold_lock);
  unsigned gen = hold_gen;
  if (xsig__watched(SIGTERM)) {
    held++;
    while (gen == hold_gen) SleepConditionVariableSRW(&hold_cond, &hold_lock, INFINITE, 0);
    held--;
  }
  ReleaseSRWLockExclusive(&hold_lock);
}

/* Session 0 (services): LOGOFF comes for any user's logoff, and Windows' own
 * handler there ignores it. Taking it as SIGTERM would stop the service. */
static int in_session0(void) {
  DWORD s = 1;
  return ProcessIdToSessionId(GetCurrentProcessId(), &s) && s == 0;
}

BOOL WINAPI xsig__win32_console_handler(DWORD type) {
  int sig = ctrl_signal(type);
  if (!sig || (type == CTRL_LOGOFF_EVENT && in_session0())) return FALSE;
  /* Record and wake first, as on POSIX; the return value only decides whether
   * Windows' default action (ending the process) follows. */
  xsig__deliver(sig, -1, XSIG_SRC_CONSOLE, (uint32_t)type, NULL);
  if (!xsig__watched(sig)) return sig == SIGBREAK && swallow_break;
  if (sig == SIGTERM) hold();
  return TRUE;
}

int xsig__win32_held(void) {
  return held;
}

void xsig__os_release_held(void) {
  AcquireSRWLockExclusive(&hold_lock);
  hold_gen++;
  ReleaseSRWLockExclusive(&hold_lock);
  WakeAllConditionVariable(&hold_cond);
}

/* Registered once and never removed: removing a handler while Windows runs
 * the list can deadlock (libuv and Node learnt this), and an unwatched signal
 * costs only a FALSE return. */
static BOOL CALLBACK register_handler(INIT_ONCE *once, void *param, void **ctx) {
  (void)once, (void)param, (void)ctx;
  if (!SetConsoleCtrlHandler(xsig__win32_console_handler, TRUE))
    handler_error = (int)GetLastError();
  return TRUE;
}

static int ensure_handler(void) {
  InitOnceExecuteOnce(&handler_once, register_handler, NULL, NULL);
  if (handler_error) {
    xsig__set_os_error(handler_error);
    return XSIG_ESYS;
  }
  return 0;
}

/* The flag SetConsoleCtrlHandler(NULL, TRUE) sets and CREATE_NEW_PROCESS_GROUP
 * children inherit lives in the process parameters (ConsoleFlags bit 0, right
 * after ConsoleHandle). No documented call reads it back. */
struct params_head {
  ULONG MaximumLength, Length, Flags, DebugFlags;
  HANDLE ConsoleHandle;
  ULONG ConsoleFlags;
};

static PEB *current_peb(void) {
#if defined(__GNUC__) && defined(__x86_64__)
  /* What NtCurrentTeb()->ProcessEnvironmentBlock reads, without the gs-relative
   * array access that gcc 12 flags as out of bounds. */
  PEB *peb;
  __asm__("movq %%gs:0x60, %0" : "=r"(peb));
  return peb;
#else
  return NtCurrentTeb()->ProcessEnvironmentBlock;
#endif
}

static int ctrl_c_ignored(void) {
  PEB *peb = current_peb();
  const struct params_head *p = (const struct params_head *)(void *)peb->ProcessParameters;
  return p && (p->ConsoleFlags & 1u);
}

static int sys_error(void) {
  xsig__set_os_error((int)GetLastError());
  return XSIG_ESYS;
}

int xsig__os_install(int sig) {
  int r = ensure_handler();
  if (r == 0) installed[sig] = 1;
  return r;
}

void xsig__os_uninstall(int sig) {
  installed[sig] = 0;
}

/* A watch leaves the Ctrl+C flag alone: a process started with
 * CREATE_NEW_PROCESS_GROUP was put out of Ctrl+C's reach by its parent, and
 * only xsig_default(SIGINT) brings it back, as SetConsoleCtrlHandler(NULL,
 * FALSE) does. So the flag wins over a watch here. */
int xsig__os_disposition(int sig) {
  if (sig == SIGINT && ctrl_c_ignored()) return XSIG_DISP_IGNORED;
  if (sig > 0 && sig < XSIG__NSIG && installed[sig]) return XSIG_DISP_XSIG;
  if (sig == SIGBREAK && swallow_break) return XSIG_DISP_IGNORED;
  return XSIG_DISP_DEFAULT;
}

int xsig__os_ignore(int sig) {
  switch (sig) {
  case SIGINT:
    return SetConsoleCtrlHandler(NULL, TRUE) ? 0 : sys_error();
  case SIGBREAK: {
    /* Windows has no flag for Break: our handler returns TRUE for it. */
    int r = ensure_handler();
    if (r == 0) swallow_break = 1;
    return r;
  }
  default:
    /* Close, logoff and shutdown end the process whatever a handler returns. */
    return XSIG_ENOTSUP;
  }
}

int xsig__os_default(int sig) {
  switch (sig) {
  case SIGINT:
    return SetConsoleCtrlHandler(NULL, FALSE) ? 0 : sys_error();
  case SIGBREAK:
    swallow_break = 0;
    return 0;
  default:
    return 0;
  }
}

_Noreturn void xsig__os_exit_by_signal(int sig) {
  /* Windows' default console handler ends the process with this status for
   * every console event, close, logoff and shutdown included. */
  (void)sig;
  ExitProcess(STATUS_CONTROL_C_EXIT);
}

static int is_console_signal(int sig) {
  return sig == SIGINT || sig == SIGBREAK || sig == SIGTERM;
}

int xsig__os_raise(int sig) {
  if (sig == SIGKILL) {
    TerminateProcess(GetCurrentProcess(), 1);
    return sys_error();
  }
  if (!is_console_signal(sig)) return xsig__is_fault(sig) ? XSIG_EFAULTSIG : XSIG_ENOTSUP;
  /* Windows cannot raise a console event at one process only: deliver it
   * ourselves, or do what the default handler would do. */
  if (xsig__os_disposition(sig) == XSIG_DISP_IGNORED) return 0;
  if (xsig__watched(sig)) {
    xsig__deliver(sig, (int64_t)GetCurrentProcessId(), XSIG_SRC_SELF, 0, NULL);
    return 0;
  }
  xsig__os_exit_by_signal(sig);
}

/* OpenProcess fails with ERROR_INVALID_PARAMETER for an unknown id. */
static int open_error(void) {
  DWORD e = GetLastError();
  if (e == ERROR_INVALID_PARAMETER) return XSIG_ESRCH;
  if (e == ERROR_ACCESS_DENIED) return XSIG_EPERM;
  xsig__set_os_error((int)e);
  return XSIG_ESYS;
}

/* Signal 0: the process exists and has not exited. */
static int check_alive(int64_t pid) {
  if (pid < 0 || pid > (int64_t)MAXDWORD) return XSIG_ESRCH;
  HANDLE h = OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION | SYNCHRONIZE, FALSE, (DWORD)pid);
  if (!h) return open_error();
  int r = WaitForSingleObject(h, 0) == WAIT_OBJECT_0 ? XSIG_ESRCH : 0;
  CloseHandle(h);
  return r;
}

static int kill_process(int64_t pid) {
  if (pid > (int64_t)MAXDWORD) return XSIG_ESRCH;
  HANDLE h = OpenProcess(PROCESS_TERMINATE | SYNCHRONIZE, FALSE, (DWORD)pid);
  if (!h) return open_error();
  /* Exit code 1, as taskkill /F and Go's Process.Kill give. An exited process
   * that someone still holds fails with ERROR_ACCESS_DENIED: that is ESRCH. */
  int r = TerminateProcess(h, 1) ? 0 : sys_error();
  if (r < 0 && WaitForSingleObject(h, 0) == WAIT_OBJECT_0) r = XSIG_ESRCH;
  CloseHandle(h);
  return r;
}

static int console_event(int64_t group, int sig) {
  DWORD ev = sig == SIGINT ? CTRL_C_EVENT : CTRL_BREAK_EVENT;
  return GenerateConsoleCtrlEvent(ev, (DWORD)group) ? 0 : sys_error();
}

int xsig__os_send(int64_t pid, int sig) {
  if (sig != 0 && sig != SIGKILL && sig != SIGINT && sig != SIGBREAK) return XSIG_ENOTSUP;
  if (sig == SIGKILL) return kill_process(pid);
  int r = check_alive(pid);
  if (r < 0 || sig == 0) return r;
  /* To ourselves, only ourselves: as a group id our pid would mean the whole
   * console unless we lead a group. */
  if (pid == (int64_t)GetCurrentProcessId()) return xsig__os_raise(sig);
  /* Console events go to process groups: pid names the group it leads. */
  return console_event(pid, sig);
}

int xsig__os_send_group(int64_t pgid, int sig) {
  if (sig != 0 && sig != SIGINT && sig != SIGBREAK) return XSIG_ENOTSUP;
  if (pgid > (int64_t)MAXDWORD) return XSIG_ESRCH;
  if (sig == 0) return pgid == 0 ? 0 : check_alive(pgid);
  return console_event(pgid, sig); /* 0: every process on this console */
}

/* ---------------------------------------------------------------- what is here */

const char *xsig__os_platform(void) {
  return "windows";
}

int xsig__os_rt_range(int *lo, int *hi) {
  (void)lo, (void)hi;
  return 0;
}

int xsig__os_reserved(int sig) {
  (void)sig;
  return 0;
}

xsig_support_t xsig__os_support(int sig) {
  switch (sig) {
  case SIGINT:
  case SIGBREAK:
    return XSIG_NATIVE;
  case SIGTERM:
    return XSIG_EMULATED;
  default:
    return XSIG_UNSUPPORTED;
  }
}

int xsig__os_has(xsig_feature_t f) {
  switch (f) {
  case XSIG_FEAT_WAKEUP_SOCKET:
  case XSIG_FEAT_PROCESS_GROUPS: /* console process groups, for Ctrl+C and Break */
    return 1;
  default:
    return 0;
  }
}
