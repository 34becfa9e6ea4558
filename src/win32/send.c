/* Windows backend, sending: xsig_send and xsig_send_group.
 *
 * Only SIGKILL (TerminateProcess) and the two console events that
 * GenerateConsoleCtrlEvent can make, Ctrl+C and Ctrl+Break, go to another
 * process. That call takes a process group id, reaches only processes on the
 * caller's console, and reports success whether or not anybody received the
 * event; group id 0, or an id that leads no group, means the caller's whole
 * console. So every target is checked first: nothing is sent that could not
 * arrive, and nothing reaches the whole console unless group 0 was asked for. */
#include "win32_int.h"
#include "../common/xsig_int.h"
#include "../common/mailbox_msg.h"
#include <winternl.h>

/* OpenProcess fails with ERROR_INVALID_PARAMETER for an unknown id. */
static int open_error(void) {
  DWORD e = GetLastError();
  if (e == ERROR_INVALID_PARAMETER) return XSIG_ESRCH;
  if (e == ERROR_ACCESS_DENIED) return XSIG_EPERM;
  xsig__set_os_error((int)e);
  return XSIG_ESYS;
}

/* The live process whose id is exactly pid, or NULL and *err. OpenProcess
 * ignores the low two bits of an id, so pid + 1 would open pid: ask the handle
 * for its id. */
static HANDLE open_exact(int64_t pid, DWORD access, int *err) {
  *err = XSIG_ESRCH;
  if (pid <= 0 || pid > (int64_t)MAXDWORD) return NULL;
  HANDLE h =
      OpenProcess(access | PROCESS_QUERY_LIMITED_INFORMATION | SYNCHRONIZE, FALSE, (DWORD)pid);
  if (!h) {
    *err = open_error();
    return NULL;
  }
  if (GetProcessId(h) == (DWORD)pid && WaitForSingleObject(h, 0) == WAIT_TIMEOUT) return h;
  CloseHandle(h);
  return NULL;
}

/* Signal 0: the process exists and has not exited. */
static int check_alive(int64_t pid) {
  int r;
  HANDLE h = open_exact(pid, 0, &r);
  if (!h) return r;
  CloseHandle(h);
  return 0;
}

static int kill_process(int64_t pid) {
  int r;
  HANDLE h = open_exact(pid, PROCESS_TERMINATE, &r);
  if (!h) return r;
  /* Exit code 1, as taskkill /F and Go's Process.Kill give. One that exits
   * meanwhile fails with ERROR_ACCESS_DENIED: that is ESRCH. */
  r = TerminateProcess(h, 1) ? 0 : xsig__win32_sys_error();
  if (r < 0 && WaitForSingleObject(h, 0) == WAIT_OBJECT_0) r = XSIG_ESRCH;
  CloseHandle(h);
  return r;
}

/* 1 when pid is attached to the caller's console. */
static int on_my_console(DWORD pid) {
  DWORD small[64], *list = small, cap = 64, n;
  int found = 0;
  for (;;) {
    n = GetConsoleProcessList(list, cap);
    if (n <= cap) break;
    if (list != small) HeapFree(GetProcessHeap(), 0, list);
    cap = n + 16; /* it may grow meanwhile */
    list = HeapAlloc(GetProcessHeap(), 0, cap * sizeof *list);
    if (!list) return 0;
  }
  for (DWORD i = 0; i < n && !found; i++) found = list[i] == pid;
  if (list != small) HeapFree(GetProcessHeap(), 0, list);
  return found;
}

/* Where the process parameters keep the console process group id (Windows 10
 * and later; older ones have shorter parameters). */
#ifdef _WIN64
#define PARAMS_IN_PEB   0x20
#define GROUP_IN_PARAMS 0x408
#else
#define PARAMS_IN_PEB   0x10
#define GROUP_IN_PARAMS 0x29c
#endif

static int read_at(HANDLE h, const void *at, void *buf, SIZE_T n) {
  SIZE_T got = 0;
  return ReadProcessMemory(h, at, buf, n, &got) && got == n;
}

/* The console process group of h: 1 and *group, 0 when this Windows does not
 * record it (Wine leaves it 0), -1 when it cannot be read. */
static int group_of(HANDLE h, DWORD *group) {
  PROCESS_BASIC_INFORMATION pbi;
  ULONG len = 0;
  const char *params = NULL;
  BOOL wow_me = FALSE, wow_it = FALSE;
  /* A 32-bit caller would read a 64-bit target's structures at 32-bit offsets. */
  if (!IsWow64Process(GetCurrentProcess(), &wow_me) || !IsWow64Process(h, &wow_it) ||
      wow_me != wow_it)
    return -1;
  if (NtQueryInformationProcess(h, ProcessBasicInformation, &pbi, sizeof pbi, &len) != 0 ||
      !read_at(h, (const char *)pbi.PebBaseAddress + PARAMS_IN_PEB, &params, sizeof params) ||
      !read_at(h, params + 4, &len, sizeof len)) /* Length */
    return -1;
  if (len < GROUP_IN_PARAMS + sizeof(DWORD)) return 0;
  if (!read_at(h, params + GROUP_IN_PARAMS, group, sizeof *group)) return -1;
  return *group != 0;
}

/* 0 when a console event to group id pgid reaches the group pgid leads and
 * nobody else; a negative error otherwise. */
static int check_group(int64_t pgid) {
  int r;
  DWORD group = 0;
  HANDLE h = open_exact(pgid, PROCESS_QUERY_INFORMATION | PROCESS_VM_READ, &r);
  if (!h) return r;
  /* Not on our console: the event would reach nobody. */
  r = on_my_console((DWORD)pgid) ? 0 : XSIG_EPERM;
  /* Leading no group, its id would mean our whole console. Where Windows does
   * not record groups this cannot be checked (and Wine then reaches nobody). */
  if (r == 0) {
    int known = group_of(h, &group);
    if (known < 0 || (known > 0 && group != (DWORD)pgid)) r = XSIG_EPERM;
  }
  CloseHandle(h);
  return r;
}

static int console_event(int64_t group, int sig) {
  DWORD ev = sig == SIGINT ? CTRL_C_EVENT : CTRL_BREAK_EVENT;
  return GenerateConsoleCtrlEvent(ev, (DWORD)group) ? 0 : xsig__win32_sys_error();
}

/* Through pid's mailbox (mailbox.c). */
static int mailbox(int64_t pid, int sig) {
  int r;
  HANDLE h = open_exact(pid, 0, &r);
  if (!h) return r;
  r = xsig__win32_mbox_send(h, (DWORD)pid, sig);
  CloseHandle(h);
  return r;
}

int xsig__os_send(int64_t pid, int sig) {
  if (xsig__win32_mbox_signal(sig)) return mailbox(pid, sig);
  if (sig != 0 && sig != SIGKILL && sig != SIGINT && sig != SIGBREAK) return XSIG_ENOTSUP;
  if (sig == SIGKILL) return kill_process(pid);
  if (sig == 0) return check_alive(pid);
  /* To ourselves, only ourselves: not to the group or console we are in. */
  if (pid == (int64_t)GetCurrentProcessId()) return xsig__os_raise(sig);
  /* Console events go to process groups: pid names the group it leads. A
   * target no console event can reach (another console, a service, not a
   * group leader) may still take the signal through its mailbox, if it has
   * one and watches it; otherwise the console's answer stands. */
  int r = check_group(pid);
  if (r == XSIG_EPERM) return mailbox(pid, sig) == 0 ? 0 : XSIG_EPERM;
  return r < 0 ? r : console_event(pid, sig);
}

int xsig__os_send_group(int64_t pgid, int sig) {
  if (sig != 0 && sig != SIGINT && sig != SIGBREAK) return XSIG_ENOTSUP;
  if (pgid == 0) return sig == 0 ? 0 : console_event(0, sig); /* every process on this console */
  if (sig == 0) return check_alive(pgid);
  int r = check_group(pgid);
  return r < 0 ? r : console_event(pgid, sig);
}

/* Asks pid's mailbox which signals it takes: the reply's mask. */
int xsig__os_accepts(int64_t pid, uint32_t *mask) {
  int r;
  HANDLE h = open_exact(pid, 0, &r);
  if (!h) return r;
  xsig__mbox_msg_t msg = {XSIG__MBOX_QUERY, 0, 0}, reply;
  r = xsig__win32_mbox_call(h, (DWORD)pid, &msg, &reply);
  CloseHandle(h);
  if (r < 0) return r;
  if (reply.value < 0) return reply.value;
  *mask = reply.mask & XSIG__MBOX_SIGNALS;
  return 0;
}
