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

#ifdef __cplusplus
}
#endif
#endif
