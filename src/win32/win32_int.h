/* What the Windows backend's files share, and the test seam: tests call the
 * console handler routine directly for the events Wine never generates. */
#ifndef XSIG_WIN32_INT_H
#define XSIG_WIN32_INT_H
#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#include <winsock2.h>
#include <windows.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The routine registered with SetConsoleCtrlHandler. Windows calls it on a new
 * thread for each event; the test seam does the same. */
BOOL WINAPI xsig__win32_console_handler(DWORD type);
/* Handler threads blocked right now for close, logoff or shutdown. */
int xsig__win32_held(void);
/* Tests only: lets the held threads return, which nothing in xsig does. */
void xsig__win32_release_held(void);
/* Tests only: takes xsig's routine out of the handler table, as Windows'
 * AllocConsole, AttachConsole and FreeConsole do; 1 when it was there. */
int xsig__win32_forget_handler(void);
/* Tests only: called while a wakeup pair is made, with the listening socket
 * before xsig connects to it, and with the read end once it is accepted. */
enum { XSIG__PAIR_LISTENING, XSIG__PAIR_ACCEPTED };
typedef void (*xsig__win32_pair_hook_t)(int step, SOCKET s);
extern xsig__win32_pair_hook_t xsig__win32_pair_hook;
/* On a SIGTERM watch: in a process with user32 or gdi32 loaded, the hidden
 * window that receives logoff and shutdown. */
int xsig__win32_session_watch(void);
/* Services (service.c). The control handler registered with the SCM; tests
 * call it directly for SHUTDOWN and PRESHUTDOWN, which Wine never sends. */
DWORD WINAPI xsig__win32_service_handler(DWORD control, DWORD type, void *data, void *ctx);
/* 1 once xsig_service_start connected the process to the SCM. */
int xsig__win32_in_service(void);
/* After a signal's first watch or last unwatch: the accepted controls follow. */
void xsig__win32_service_changed(void);
/* Before a forced or by-signal exit: a service reports SERVICE_STOPPED. */
void xsig__win32_service_killed(void);
/* 1 while some context watches sig (console.c). */
int xsig__win32_installed(int sig);
/* The mailbox (mailbox.c). The five signals it exists for; starting it on the
 * first watch of one of them, stopping it on the last unwatch (engine lock
 * held). */
int xsig__win32_mbox_signal(int sig);
int xsig__win32_mbox_watch(int sig);
void xsig__win32_mbox_unwatch(int sig);
/* xsig_ignore (on = 1) and xsig_default (on = 0) of SIGHUP, SIGQUIT, SIGUSR1
 * or SIGUSR2: the mailbox takes and drops it (engine lock held); XSIG_ENOTSUP
 * for any other signal. */
int xsig__win32_mbox_ignore(int sig, int on);
int xsig__win32_mbox_ignored(int sig);
/* \\.\pipe\xsig-<pid>, the name the tests use too. */
#define XSIG__MBOX_NAME_MAX 40
void xsig__win32_mbox_name(DWORD pid, wchar_t name[XSIG__MBOX_NAME_MAX]);
/* One exchange with pid's mailbox (proc: a SYNCHRONIZE handle to pid): 0 and
 * *reply, or XSIG_ESRCH, XSIG_ENOLISTEN (no mailbox), XSIG_EPERM (the pipe is
 * not pid's), XSIG_ESYS. The query (`xsig inspect`) asks with a
 * XSIG__MBOX_QUERY message; the reply's mask says what pid takes. */
struct xsig__mbox_msg;
int xsig__win32_mbox_call(HANDLE proc, DWORD pid, const struct xsig__mbox_msg *msg,
                          struct xsig__mbox_msg *reply);
/* Tests only: the mailbox thread's id, 0 while there is none. */
DWORD xsig__win32_mbox_thread(void);
/* Sends sig: 0 once pid took it, XSIG_ENOLISTEN when it does not watch it. */
int xsig__win32_mbox_send(HANDLE proc, DWORD pid, int sig);
/* Records GetLastError() for xsig_os_error() and returns XSIG_ESYS. */
int xsig__win32_sys_error(void);

#ifdef __cplusplus
}
#endif
#endif
