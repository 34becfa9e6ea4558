/* Windows backend, signal side: the console control handler, dispositions,
 * raising, and what this platform supports. Sending is in send.c.
 *
 * Windows has no signals between processes; it has console control events,
 * which it delivers by starting a new thread in the process that runs the
 * registered handler routines, last registered first, until one returns TRUE.
 * When none does, the default routine ends the process. */
#include "win32_int.h"
#include "../common/xsig_int.h"
#include <winternl.h>

static INIT_ONCE handler_once = INIT_ONCE_STATIC_INIT;
static xsig__aint handler_error;         /* GetLastError() of a failed registration */
static xsig__aint installed[XSIG__NSIG]; /* xsig watches the signal */
static xsig__aint swallow_break;         /* xsig_ignore(SIGBREAK) */

/* Threads held for close, logoff or shutdown. Nothing in xsig lets them go:
 * Windows ends the process the moment one returns, so they stay until the
 * program exits or Windows' own time limit ends it. Only the test seam moves
 * the generation. */
static SRWLOCK hold_lock = SRWLOCK_INIT;
static CONDITION_VARIABLE hold_cond = CONDITION_VARIABLE_INIT;
static unsigned hold_gen;
static xsig__aint held;

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
 * thread stays here while the program dispatches SIGTERM, cleans up and exits. */
static void hold(void) {
  AcquireSRWLockExclusive(&hold_lock);
  unsigned gen = hold_gen;
  xsig__aint_add(&held, 1);
  while (gen == hold_gen) SleepConditionVariableSRW(&hold_cond, &hold_lock, INFINITE, 0);
  xsig__aint_add(&held, -1);
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
  /* A service hears of a shutdown from the SCM, whose SHUTDOWN (or PRESHUTDOWN)
   * is its one stop request, and a logoff is any user's. Windows gives a
   * service a default routine that ends the process for neither, so pass
   * both on to it: no delivery, no hold. */
  if ((type == CTRL_LOGOFF_EVENT || type == CTRL_SHUTDOWN_EVENT) && xsig__win32_in_service())
    return FALSE;
  /* Record and wake first, as on POSIX. Whether to hold comes from the same
   * delivery: a later look could miss a watch that a one-shot callback or an
   * unwatch has removed since, and FALSE would let Windows end the process in
   * the middle of the cleanup that watch started. */
  if (!xsig__deliver(sig, -1, XSIG_SRC_CONSOLE, (uint32_t)type, NULL))
    return sig == SIGBREAK && xsig__aint_load(&swallow_break);
  if (sig == SIGTERM) hold();
  return TRUE;
}

int xsig__win32_held(void) {
  return xsig__aint_load(&held);
}

void xsig__win32_release_held(void) {
  AcquireSRWLockExclusive(&hold_lock);
  hold_gen++;
  ReleaseSRWLockExclusive(&hold_lock);
  WakeAllConditionVariable(&hold_cond);
}

/* Two entry points that do the same thing, so that a re-arm can register one
 * before it removes the other: there is never a moment with no routine of ours
 * in the table, and never two. */
static BOOL WINAPI routine_a(DWORD type) {
  return xsig__win32_console_handler(type);
}

static BOOL WINAPI routine_b(DWORD type) {
  return xsig__win32_console_handler(type);
}

static SRWLOCK routine_lock = SRWLOCK_INIT;
static PHANDLER_ROUTINE routine; /* the one in the table; NULL until the first watch */

/* Registered once and never removed: removing a handler while Windows runs
 * the list can deadlock (libuv and Node learnt this), and an unwatched signal
 * costs only a FALSE return. The routine lives in this module, so the module
 * is pinned first: a DLL build that its host unloads must not leave Windows a
 * routine to call in unmapped memory. */
static BOOL CALLBACK register_handler(INIT_ONCE *once, void *param, void **ctx) {
  HMODULE self;
  (void)once, (void)param, (void)ctx;
  if (!GetModuleHandleExW(GET_MODULE_HANDLE_EX_FLAG_FROM_ADDRESS | GET_MODULE_HANDLE_EX_FLAG_PIN,
                          (LPCWSTR)(const void *)&handler_once, &self) ||
      !SetConsoleCtrlHandler(routine_a, TRUE)) {
    xsig__aint_store(&handler_error, (int)GetLastError());
    return TRUE;
  }
  AcquireSRWLockExclusive(&routine_lock);
  routine = routine_a;
  ReleaseSRWLockExclusive(&routine_lock);
  return TRUE;
}

static int ensure_handler(void) {
  InitOnceExecuteOnce(&handler_once, register_handler, NULL, NULL);
  if (xsig__aint_load(&handler_error)) {
    xsig__set_os_error(xsig__aint_load(&handler_error));
    return XSIG_ESYS;
  }
  return 0;
}

/* AllocConsole, AttachConsole and FreeConsole reset the process's table of
 * handler routines on Windows (Wine keeps it). Register the other entry point,
 * then remove the old one, which fails harmlessly where the table was reset. */
int xsig_console_rearm(void) {
  int r = 0;
  AcquireSRWLockExclusive(&routine_lock);
  if (routine) {
    PHANDLER_ROUTINE next = routine == routine_a ? routine_b : routine_a;
    if (SetConsoleCtrlHandler(next, TRUE)) {
      SetConsoleCtrlHandler(routine, FALSE);
      routine = next;
    } else {
      xsig__set_os_error((int)GetLastError());
      r = XSIG_ESYS;
    }
  }
  ReleaseSRWLockExclusive(&routine_lock);
  return r;
}

/* For the tests: what Windows' reset does to the table. */
int xsig__win32_forget_handler(void) {
  AcquireSRWLockExclusive(&routine_lock);
  int r = routine && SetConsoleCtrlHandler(routine, FALSE);
  ReleaseSRWLockExclusive(&routine_lock);
  return r;
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
  /* What NtCurrentTeb()->ProcessEnvironmentBlock reads, without the segment-
   * relative array access that gcc 12 flags as out of bounds. */
#if defined(__GNUC__) && defined(__x86_64__)
  PEB *peb;
  __asm__("movq %%gs:0x60, %0" : "=r"(peb));
  return peb;
#elif defined(__GNUC__) && defined(__i386__)
  PEB *peb;
  __asm__("movl %%fs:0x30, %0" : "=r"(peb));
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

int xsig__win32_sys_error(void) {
  xsig__set_os_error((int)GetLastError());
  return XSIG_ESYS;
}

/* The numbers the POSIX names in xsig.h use stay below 32. */
int xsig__os_nsig(void) {
  return 32;
}

int xsig__os_install(int sig) {
  int r = ensure_handler();
  if (r == 0 && sig == SIGTERM) r = xsig__win32_session_watch();
  if (r == 0) r = xsig__win32_mbox_watch(sig);
  if (r == 0) xsig__aint_store(&installed[sig], 1);
  xsig__win32_service_changed();
  return r;
}

void xsig__os_uninstall(int sig) {
  xsig__aint_store(&installed[sig], 0);
  xsig__win32_mbox_unwatch(sig);
  xsig__win32_service_changed();
}

int xsig__win32_installed(int sig) {
  return sig > 0 && sig < XSIG__NSIG && xsig__aint_load(&installed[sig]);
}

/* A watch leaves the Ctrl+C flag alone: a process started with
 * CREATE_NEW_PROCESS_GROUP was put out of Ctrl+C's reach by its parent, and
 * only xsig_default(SIGINT) brings it back, as SetConsoleCtrlHandler(NULL,
 * FALSE) does. So the flag wins over a watch here. */
int xsig__os_disposition(int sig) {
  if (sig == SIGINT && ctrl_c_ignored()) return XSIG_DISP_IGNORED;
  if (sig > 0 && sig < XSIG__NSIG && xsig__aint_load(&installed[sig])) return XSIG_DISP_XSIG;
  if (sig == SIGBREAK && xsig__aint_load(&swallow_break)) return XSIG_DISP_IGNORED;
  if (xsig__win32_mbox_ignored(sig)) return XSIG_DISP_IGNORED;
  return XSIG_DISP_DEFAULT;
}

int xsig__os_ignore(int sig) {
  switch (sig) {
  case SIGINT:
    return SetConsoleCtrlHandler(NULL, TRUE) ? 0 : xsig__win32_sys_error();
  case SIGBREAK: {
    /* Windows has no flag for Break: our handler returns TRUE for it. */
    int r = ensure_handler();
    if (r == 0) xsig__aint_store(&swallow_break, 1);
    return r;
  }
  case SIGTERM:
    /* Close, logoff and shutdown end the process whatever a handler returns. */
    return XSIG_ENOTSUP;
  default: {
    /* The mailbox's own: pinned first, since its thread runs our code. */
    int r = xsig__win32_mbox_signal(sig) ? ensure_handler() : XSIG_ENOTSUP;
    return r == 0 ? xsig__win32_mbox_ignore(sig, 1) : r;
  }
  }
}

int xsig__os_default(int sig) {
  switch (sig) {
  case SIGINT:
    return SetConsoleCtrlHandler(NULL, FALSE) ? 0 : xsig__win32_sys_error();
  case SIGBREAK:
    xsig__aint_store(&swallow_break, 0);
    return 0;
  default:
    if (xsig__win32_mbox_ignored(sig)) xsig__win32_mbox_ignore(sig, 0);
    return 0;
  }
}

_Noreturn void xsig__os_exit_by_signal(int sig) {
  /* Windows' default console handler ends the process with this status for
   * every console event, close, logoff and shutdown included. Terminate, not
   * ExitProcess: like a POSIX signal's default action it runs no DLL detach
   * code, whose C runtime flush blocks for good on a pipe nobody reads. */
  (void)sig;
  xsig__win32_service_killed(); /* a service tells the SCM first: STOPPED, once */
  TerminateProcess(GetCurrentProcess(), STATUS_CONTROL_C_EXIT);
  for (;;) Sleep(INFINITE); /* TerminateProcess on ourselves does not return */
}

static int is_console_signal(int sig) {
  return sig == SIGINT || sig == SIGBREAK || sig == SIGTERM;
}

int xsig__os_raise(int sig) {
  if (sig == SIGKILL) {
    TerminateProcess(GetCurrentProcess(), 1);
    return xsig__win32_sys_error();
  }
  /* What a sender to our own mailbox, or the SCM (PAUSE and CONTINUE in a
   * service), would give. */
  if (xsig__os_support(sig) == XSIG_EMULATED && !is_console_signal(sig)) {
    if (!xsig__watched(sig)) return xsig__win32_mbox_ignored(sig) ? 0 : XSIG_ENOLISTEN;
    xsig__deliver(sig, (int64_t)GetCurrentProcessId(), XSIG_SRC_SELF, 0, NULL);
    return 0;
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
  case SIGTERM: /* console close, logoff, shutdown; and the mailbox */
  case SIGHUP:  /* the rest only through the mailbox (mailbox.c) */
  case SIGQUIT:
  case SIGUSR1:
  case SIGUSR2:
    return XSIG_EMULATED; /* in a service also SIGHUP (PARAMCHANGE), SIGUSR1 (user controls) */
  case SIGTSTP:           /* PAUSE */
  case SIGCONT:           /* CONTINUE */
    return xsig__win32_in_service() ? XSIG_EMULATED : XSIG_UNSUPPORTED;
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
