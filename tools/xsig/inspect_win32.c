/* xsig inspect on Windows: no process has a signal table another can read,
 * so this tells what Windows does show: whether the process shares this
 * console, whether it is a running service (the SCM's process ids), and
 * whether it has an xsig mailbox and which signals that takes (the mailbox
 * answers, through xsig_accepts). */
#include "cli.h"
#include "inspect.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <windows.h>

static int on_this_console(DWORD pid) {
  DWORD list[256];
  DWORD n = GetConsoleProcessList(list, 256);
  if (n == 0) return 0; /* no console here */
  for (DWORD i = 0; i < n && i < 256; i++)
    if (list[i] == pid) return 1;
  return 0;
}

static void service_of(DWORD pid, struct inspect_facts *f) {
  SC_HANDLE scm = OpenSCManagerA(NULL, NULL, SC_MANAGER_ENUMERATE_SERVICE);
  if (!scm) return;
  DWORD need = 0, count = 0, resume = 0;
  EnumServicesStatusExA(scm, SC_ENUM_PROCESS_INFO, SERVICE_WIN32, SERVICE_ACTIVE, NULL, 0, &need,
                        &count, &resume, NULL);
  BYTE *buf = need ? malloc(need) : NULL;
  resume = 0;
  if (buf && EnumServicesStatusExA(scm, SC_ENUM_PROCESS_INFO, SERVICE_WIN32, SERVICE_ACTIVE, buf,
                                   need, &need, &count, &resume, NULL)) {
    ENUM_SERVICE_STATUS_PROCESSA *s = (ENUM_SERVICE_STATUS_PROCESSA *)buf;
    f->service_known = 1;
    for (DWORD i = 0; i < count; i++)
      if (s[i].ServiceStatusProcess.dwProcessId == pid)
        snprintf(f->service, sizeof f->service, "%s", s[i].lpServiceName);
  }
  free(buf);
  CloseServiceHandle(scm);
}

static void mailbox_of(long pid, struct inspect_facts *f) {
  int n = xsig_accepts(pid, f->accepts, sizeof f->accepts / sizeof f->accepts[0]);
  if (n >= 0) {
    f->mailbox = 1;
    f->naccepts = n < 32 ? n : 32;
  } else if (n == XSIG_ENOLISTEN) {
    f->mailbox = 0;
  } else if (n == XSIG_EPERM) {
    /* Someone else made the pipe named after pid: its answer says nothing. */
    f->note[f->nnotes++] = "whether it has an xsig mailbox (its pipe is held by another process)";
  } else {
    f->note[f->nnotes++] = "whether it has an xsig mailbox (the mailbox did not answer)";
  }
}

int inspect_os(long pid, struct inspect_facts *f) {
  HANDLE h = OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, FALSE, (DWORD)pid);
  if (!h) return GetLastError() == ERROR_ACCESS_DENIED ? XSIG_EPERM : XSIG_ESRCH;
  DWORD code = 0;
  if (!GetExitCodeProcess(h, &code) || code != STILL_ACTIVE) {
    CloseHandle(h);
    return XSIG_ESRCH;
  }
  char path[MAX_PATH];
  DWORD len = MAX_PATH;
  if (QueryFullProcessImageNameA(h, 0, path, &len)) {
    const char *base = strrchr(path, '\\');
    snprintf(f->name, sizeof f->name, "%s", base ? base + 1 : path);
  }
  CloseHandle(h);
  /* Windows shows only which processes share a console with the caller. */
  f->console = on_this_console((DWORD)pid);
  if (f->console == 0 && (DWORD)pid == GetCurrentProcessId())
    f->console = 0;
  else if (f->console != 1)
    f->console = -1;
  if (f->console < 0)
    f->note[f->nnotes++] = "whether it has a console (it does not share this one)";
  service_of((DWORD)pid, f);
  if (!f->service_known) f->note[f->nnotes++] = "whether it is a service (the SCM did not answer)";
  mailbox_of(pid, f);
  f->note[f->nnotes++] = "signal dispositions and masks (Windows has none to read)";
  return 0;
}
