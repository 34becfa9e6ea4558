/* Windows backend, the mailbox: how another process sends this one SIGTERM,
 * SIGHUP, SIGQUIT, SIGUSR1 or SIGUSR2, which Windows cannot.
 *
 * While any of those five is watched, the process serves a message-mode named
 * pipe, \\.\pipe\xsig-<pid>, on a thread of its own. A sender connects, writes
 * one 16-byte message (src/common/mailbox_msg.h), reads a 16-byte reply and
 * hangs up. The pipe's client pid, which the kernel vouches for, becomes the
 * event's sender_pid. Security and what Wine cannot show: docs/WINDOWS.md,
 * "The mailbox".
 *
 * The pipe exists before the first watch of the five returns, so a program
 * that has said it is ready can be signalled at once. INSTANCES instances are
 * made up front and each goes back to listening as soon as its sender is
 * served: while one instance serves, the others listen, so a sender never
 * meets "not found" between two messages, only at worst "busy" (it then
 * waits). Every connection has SERVE_MS to write its message and hang up, so a
 * sender that connects and never writes holds one instance for that long and
 * blocks nobody else. The thread never takes the engine lock: it calls only
 * the lock-free xsig__deliver and xsig__watched, so the engine can stop it
 * with its lock held. */
#include "win32_int.h"
#include "../common/xsig_int.h"
#include "../common/mailbox_msg.h"
#include <aclapi.h>
#include <stdio.h>

#define INSTANCES 4
#define SERVE_MS  2000u /* a connected sender's time to write and hang up */
#define SEND_MS   5000u /* a sender's time for a busy mailbox, then for the reply */
#define BUF_SIZE  64    /* more than a message: a longer one is seen, and dropped */

/* What a sender may do: read and write the pipe, not add instances of it
 * (FILE_CREATE_PIPE_INSTANCE is FILE_APPEND_DATA, part of FILE_GENERIC_WRITE). */
#define SENDER_ACCESS ((FILE_GENERIC_READ | FILE_GENERIC_WRITE) & ~(DWORD)FILE_CREATE_PIPE_INSTANCE)

enum { LISTENING, READING, REPLYING, CLOSING };

struct inst {
  HANDLE pipe;
  OVERLAPPED ov; /* hEvent: manual reset, signalled when the pending I/O ends */
  int state;
  int now;            /* LISTENING: a sender was already connected, no I/O pending */
  int pending;        /* an I/O was started and has not been reaped */
  ULONGLONG deadline; /* past LISTENING: when the connection is dropped */
  unsigned char buf[BUF_SIZE];
};

/* Started and stopped under the engine lock (xsig__os_install/uninstall). */
static struct {
  HANDLE thread, stop;
  struct inst in[INSTANCES];
  int signals; /* how many of the five are watched */
} mb;

/* xsig_ignore of HUP, QUIT, USR1 or USR2: a sender's message is taken and
 * dropped, and the sender told 0, as kill() succeeds on a POSIX process that
 * ignores the signal. Each such signal holds the mailbox open like a watch. */
static xsig__aint ignored[32];

int xsig__win32_mbox_signal(int sig) {
  return sig == SIGTERM || sig == SIGHUP || sig == SIGQUIT || sig == SIGUSR1 || sig == SIGUSR2;
}

void xsig__win32_mbox_name(DWORD pid, wchar_t name[XSIG__MBOX_NAME_MAX]) {
  _snwprintf(name, XSIG__MBOX_NAME_MAX, L"\\\\.\\pipe\\xsig-%lu", (unsigned long)pid);
  name[XSIG__MBOX_NAME_MAX - 1] = 0;
}

/* The signals the mailbox takes now: those of its set that something watches. */
static uint32_t accepted(void) {
  uint32_t m = 0;
  for (int s = 1; s < 32; s++)
    if ((XSIG__MBOX_SIGNALS >> s & 1u) && xsig__watched(s)) m |= 1u << s;
  return m;
}

/* ---------------------------------------------------------------- security */

/* An explicit DACL: the process's user, LocalSystem and Administrators, each
 * with `owner` (the user) or SENDER_ACCESS (the other two). Nothing else, and
 * no inherited ACE: the SD is protected when it is set. */
struct dacl {
  union {
    ACL acl;
    unsigned char bytes[512];
  } u;
  union {
    TOKEN_USER user;
    unsigned char bytes[256];
  } tu;
};

static int build_dacl(struct dacl *d, DWORD owner) {
  unsigned char sys[SECURITY_MAX_SID_SIZE], adm[SECURITY_MAX_SID_SIZE];
  DWORD n = sizeof sys, m = sizeof adm, got = 0;
  HANDLE tok = NULL;
  int ok = OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &tok) &&
           GetTokenInformation(tok, TokenUser, d->tu.bytes, sizeof d->tu.bytes, &got) &&
           CreateWellKnownSid(WinLocalSystemSid, NULL, sys, &n) &&
           CreateWellKnownSid(WinBuiltinAdministratorsSid, NULL, adm, &m) &&
           InitializeAcl(&d->u.acl, sizeof d->u.bytes, ACL_REVISION) &&
           AddAccessAllowedAce(&d->u.acl, ACL_REVISION, owner, d->tu.user.User.Sid) &&
           AddAccessAllowedAce(&d->u.acl, ACL_REVISION, SENDER_ACCESS, sys) &&
           AddAccessAllowedAce(&d->u.acl, ACL_REVISION, SENDER_ACCESS, adm);
  DWORD e = GetLastError();
  if (tok) CloseHandle(tok);
  SetLastError(e);
  return ok;
}

/* ---------------------------------------------------------------- serving */

/* Ends whatever I/O the instance has pending and waits until it has. Our own
 * flag, not HasOverlappedIoCompleted: a call that fails at once may leave the
 * OVERLAPPED marked pending (Wine does), and its event is never set. */
static void cancel(struct inst *in) {
  DWORD n;
  if (in->pending) {
    CancelIoEx(in->pipe, &in->ov);
    GetOverlappedResult(in->pipe, &in->ov, &n, TRUE);
    in->pending = 0;
  }
}

static void listen_on(struct inst *in) {
  in->state = LISTENING;
  in->now = 0;
  in->pending = 1;
  if (ConnectNamedPipe(in->pipe, &in->ov)) return; /* completes through the event */
  DWORD e = GetLastError();
  if (e == ERROR_IO_PENDING) return;
  in->pending = 0;
  /* Connected between Disconnect and Connect (ERROR_PIPE_CONNECTED), or a
   * sender that already left (ERROR_NO_DATA): the event wakes the thread
   * either way, and step() sorts it out. */
  in->now = e == ERROR_PIPE_CONNECTED ? 1 : -1;
  SetEvent(in->ov.hEvent);
}

/* Drops the connection (unread replies included) and listens again. */
static void reset(struct inst *in) {
  cancel(in);
  DisconnectNamedPipe(in->pipe);
  listen_on(in);
}

/* Starts an overlapped read or write; 0 when it failed at once. */
static int start_io(struct inst *in, int state, int write, DWORD len) {
  in->state = state;
  BOOL ok = write ? WriteFile(in->pipe, in->buf, len, NULL, &in->ov)
                  : ReadFile(in->pipe, in->buf, len, NULL, &in->ov);
  DWORD e = ok ? 0 : GetLastError();
  in->pending = ok || e == ERROR_IO_PENDING || e == ERROR_MORE_DATA;
  return in->pending;
}

/* One valid message in: deliver it (or say why not) and write the reply. */
static void answer(struct inst *in, const xsig__mbox_msg_t *m) {
  xsig__mbox_msg_t reply = {XSIG__MBOX_REPLY, 0, 0};
  if (m->type == XSIG__MBOX_SIGNAL) {
    ULONG pid = 0;
    int64_t sender = GetNamedPipeClientProcessId(in->pipe, &pid) ? (int64_t)pid : -1;
    /* Only a watched signal is counted: the sender learns that nobody took
     * the others, and this process is not disturbed by them. */
    int took =
        xsig__watched(m->value) && xsig__deliver(m->value, sender, XSIG_SRC_MAILBOX, 0, NULL) > 0;
    reply.value = took || xsig__win32_mbox_ignored(m->value) ? 0 : XSIG_ENOLISTEN;
  }
  reply.mask = accepted();
  xsig__mbox_encode(&reply, in->buf, sizeof in->buf);
  if (!start_io(in, REPLYING, 1, XSIG__MBOX_SIZE)) reset(in);
}

/* The instance's pending step has ended. */
static void step(struct inst *in) {
  DWORD n = 0;
  BOOL ok = in->state == LISTENING && in->now ? in->now > 0
                                              : GetOverlappedResult(in->pipe, &in->ov, &n, FALSE);
  DWORD e = ok ? 0 : GetLastError();
  xsig__mbox_msg_t m;
  in->pending = 0;
  ResetEvent(in->ov.hEvent);
  switch (in->state) {
  case LISTENING:
    if (!ok && e != ERROR_PIPE_CONNECTED) {
      reset(in);
      return;
    }
    in->deadline = GetTickCount64() + SERVE_MS;
    if (!start_io(in, READING, 0, sizeof in->buf)) reset(in);
    return;
  case READING:
    /* Too long (ERROR_MORE_DATA), too short, or not a valid message: dropped
     * without a reply; the sender sees the pipe close. */
    if (ok && xsig__mbox_parse(in->buf, n, &m) == 0 && m.type != XSIG__MBOX_REPLY)
      answer(in, &m);
    else
      reset(in);
    return;
  case REPLYING:
    /* Disconnecting now would throw away the reply unread: wait until the
     * sender has read it, which it says by writing a byte (Wine never ends
     * this read when the sender just hangs up; Windows does), or hangs up, or
     * its deadline passes. */
    if (!ok || !start_io(in, CLOSING, 0, sizeof in->buf)) reset(in);
    return;
  default: /* CLOSING: the sender's byte (or anything: one message per connection), or it hung up */
    reset(in);
    return;
  }
}

static DWORD WINAPI mbox_main(void *arg) {
  HANDLE evs[1 + INSTANCES];
  (void)arg;
  evs[0] = mb.stop;
  for (int i = 0; i < INSTANCES; i++) evs[1 + i] = mb.in[i].ov.hEvent;
  for (;;) {
    ULONGLONG now = GetTickCount64(), next = (ULONGLONG)-1;
    for (int i = 0; i < INSTANCES; i++)
      if (mb.in[i].state != LISTENING && mb.in[i].deadline < next) next = mb.in[i].deadline;
    DWORD ms = next == (ULONGLONG)-1 ? INFINITE : next > now ? (DWORD)(next - now) : 0;
    DWORD w = WaitForMultipleObjects(1 + INSTANCES, evs, FALSE, ms);
    if (w == WAIT_OBJECT_0) break;
    if (w == WAIT_FAILED) Sleep(10); /* never spin; nothing here should fail */
    /* Every instance whose step ended, not just the first: a busy one must
     * not starve the others. A step whose next I/O ends at once (the data
     * was there) goes on without a trip through the wait. */
    for (int i = 0; i < INSTANCES; i++)
      for (int k = 0; k < 8 && WaitForSingleObject(mb.in[i].ov.hEvent, 0) == WAIT_OBJECT_0; k++)
        step(&mb.in[i]);
    now = GetTickCount64();
    for (int i = 0; i < INSTANCES; i++)
      if (mb.in[i].state != LISTENING && mb.in[i].deadline <= now) reset(&mb.in[i]);
  }
  return 0;
}

/* ---------------------------------------------------------------- start, stop */

static void close_all(void) {
  for (int i = 0; i < INSTANCES; i++) {
    struct inst *in = &mb.in[i];
    if (in->pipe && in->pipe != INVALID_HANDLE_VALUE) {
      cancel(in);
      CloseHandle(in->pipe); /* a connected sender sees the pipe break */
    }
    if (in->ov.hEvent) CloseHandle(in->ov.hEvent);
    *in = (struct inst){0};
  }
  if (mb.stop) CloseHandle(mb.stop);
  mb.stop = NULL;
}

static HANDLE make_instance(const wchar_t *name, SECURITY_ATTRIBUTES *sa, int first) {
  /* WRITE_DAC on the first: the DACL is narrowed through it once every
   * instance exists. Not inheritable (sa->bInheritHandle is FALSE). */
  DWORD open = PIPE_ACCESS_DUPLEX | FILE_FLAG_OVERLAPPED |
               (first ? FILE_FLAG_FIRST_PIPE_INSTANCE | WRITE_DAC : 0);
  DWORD mode = PIPE_TYPE_MESSAGE | PIPE_READMODE_MESSAGE | PIPE_WAIT | PIPE_REJECT_REMOTE_CLIENTS;
  return CreateNamedPipeW(name, open, mode, INSTANCES, BUF_SIZE, BUF_SIZE, 0, sa);
}

static int open_mailbox(void) {
  wchar_t name[XSIG__MBOX_NAME_MAX];
  struct dacl d;
  SECURITY_DESCRIPTOR sd;
  SECURITY_ATTRIBUTES sa = {sizeof sa, &sd, FALSE};
  xsig__win32_mbox_name(GetCurrentProcessId(), name);
  /* While the instances are made, the user also holds the right to make
   * them (Windows checks FILE_CREATE_PIPE_INSTANCE against the pipe's DACL
   * for every instance after the first); then nobody does. */
  if (!build_dacl(&d, SENDER_ACCESS | FILE_CREATE_PIPE_INSTANCE) ||
      !InitializeSecurityDescriptor(&sd, SECURITY_DESCRIPTOR_REVISION) ||
      !SetSecurityDescriptorDacl(&sd, TRUE, &d.u.acl, FALSE))
    return xsig__win32_sys_error();
  if (!(mb.stop = CreateEventW(NULL, TRUE, FALSE, NULL))) return xsig__win32_sys_error();
  for (int i = 0; i < INSTANCES; i++) {
    struct inst *in = &mb.in[i];
    /* A name someone else made first fails here with ERROR_ACCESS_DENIED
     * (real Windows; Wine ignores the flag). */
    if ((in->pipe = make_instance(name, &sa, i == 0)) == INVALID_HANDLE_VALUE ||
        !(in->ov.hEvent = CreateEventW(NULL, TRUE, FALSE, NULL)))
      return xsig__win32_sys_error();
  }
  if (!build_dacl(&d, SENDER_ACCESS)) return xsig__win32_sys_error();
  DWORD e = SetSecurityInfo(mb.in[0].pipe, SE_KERNEL_OBJECT,
                            DACL_SECURITY_INFORMATION | PROTECTED_DACL_SECURITY_INFORMATION, NULL,
                            NULL, &d.u.acl, NULL);
  if (e != ERROR_SUCCESS) {
    xsig__set_os_error((int)e);
    return XSIG_ESYS;
  }
  for (int i = 0; i < INSTANCES; i++) listen_on(&mb.in[i]);
  return 0;
}

static int start(void) {
  int r = open_mailbox();
  if (r == 0 && !(mb.thread = CreateThread(NULL, 0, mbox_main, NULL, 0, NULL)))
    r = xsig__win32_sys_error();
  if (r < 0) {
    int e = xsig_os_error();
    close_all();
    xsig__set_os_error(e);
  }
  return r;
}

static void stop(void) {
  SetEvent(mb.stop);
  WaitForSingleObject(mb.thread, INFINITE);
  CloseHandle(mb.thread);
  mb.thread = NULL;
  close_all();
}

/* The module is pinned by the first watch (console.c), so the thread's code
 * stays mapped even when a host unloads a DLL build without xsig_shutdown. */
int xsig__win32_mbox_watch(int sig) {
  if (!xsig__win32_mbox_signal(sig)) return 0;
  if (mb.signals == 0) {
    int r = start();
    if (r < 0) return r;
  }
  mb.signals++;
  return 0;
}

void xsig__win32_mbox_unwatch(int sig) {
  if (!xsig__win32_mbox_signal(sig) || mb.signals == 0) return;
  if (--mb.signals == 0) stop();
}

int xsig__win32_mbox_ignore(int sig, int on) {
  if (!xsig__win32_mbox_signal(sig) || sig == SIGTERM) return XSIG_ENOTSUP;
  if (on == xsig__aint_load(&ignored[sig])) return 0;
  if (on) {
    int r = xsig__win32_mbox_watch(sig);
    if (r < 0) return r;
  } else {
    xsig__win32_mbox_unwatch(sig);
  }
  xsig__aint_store(&ignored[sig], on);
  return 0;
}

int xsig__win32_mbox_ignored(int sig) {
  return sig > 0 && sig < 32 && xsig__aint_load(&ignored[sig]);
}

/* Tests only: the serving thread's id, 0 while there is no mailbox. */
DWORD xsig__win32_mbox_thread(void) {
  return mb.thread ? GetThreadId(mb.thread) : 0;
}

/* ---------------------------------------------------------------- sending */

static int sys_error(DWORD e) {
  xsig__set_os_error((int)e);
  return XSIG_ESYS;
}

static DWORD left_ms(ULONGLONG deadline) {
  ULONGLONG now = GetTickCount64();
  return now >= deadline ? 0 : (DWORD)(deadline - now);
}

/* One overlapped transfer on h within the deadline: 1 and *n, 0 with
 * GetLastError() set. */
static int transfer(HANDLE h, void *buf, DWORD len, int write, DWORD *n, ULONGLONG deadline) {
  OVERLAPPED ov = {0};
  if (!(ov.hEvent = CreateEventW(NULL, TRUE, FALSE, NULL))) return 0;
  BOOL ok = write ? WriteFile(h, buf, len, NULL, &ov) : ReadFile(h, buf, len, NULL, &ov);
  DWORD e = ok ? 0 : GetLastError();
  if (ok || e == ERROR_IO_PENDING || e == ERROR_MORE_DATA) {
    if (WaitForSingleObject(ov.hEvent, left_ms(deadline)) != WAIT_OBJECT_0) CancelIoEx(h, &ov);
    ok = GetOverlappedResult(h, &ov, n, TRUE);
    e = ok ? 0 : GetLastError();
    if (e == ERROR_OPERATION_ABORTED) e = ERROR_TIMEOUT;
  }
  CloseHandle(ov.hEvent);
  SetLastError(e);
  return ok;
}

/* Connects to pid's mailbox, waiting while every instance is busy. */
static int connect_to(HANDLE proc, const wchar_t *name, ULONGLONG deadline, HANDLE *out) {
  for (;;) {
    /* Not GENERIC_WRITE, which includes FILE_CREATE_PIPE_INSTANCE: the DACL
     * refuses it. Identification only: a squatter cannot act as us. */
    HANDLE h = CreateFileW(
        name, GENERIC_READ | FILE_WRITE_DATA | FILE_WRITE_ATTRIBUTES, 0, NULL, OPEN_EXISTING,
        FILE_FLAG_OVERLAPPED | SECURITY_SQOS_PRESENT | SECURITY_IDENTIFICATION, NULL);
    if (h != INVALID_HANDLE_VALUE) {
      *out = h;
      return 0;
    }
    DWORD e = GetLastError();
    if (WaitForSingleObject(proc, 0) == WAIT_OBJECT_0) return XSIG_ESRCH;
    if (e == ERROR_FILE_NOT_FOUND) return XSIG_ENOLISTEN;
    if (e == ERROR_ACCESS_DENIED) return XSIG_EPERM;
    if (e != ERROR_PIPE_BUSY) return sys_error(e);
    if (left_ms(deadline) == 0) return sys_error(ERROR_PIPE_BUSY);
    /* Busy: every instance serves a sender. Wait briefly, then try again
     * (WaitNamedPipe also returns at once for a pipe that went away). */
    DWORD ms = left_ms(deadline);
    if (!WaitNamedPipeW(name, ms < 50 ? ms : 50) && GetLastError() != ERROR_SEM_TIMEOUT) Sleep(1);
  }
}

int xsig__win32_mbox_call(HANDLE proc, DWORD pid, const xsig__mbox_msg_t *msg,
                          xsig__mbox_msg_t *reply) {
  wchar_t name[XSIG__MBOX_NAME_MAX];
  unsigned char buf[BUF_SIZE];
  ULONG server = 0;
  DWORD n = 0, mode = PIPE_READMODE_MESSAGE;
  HANDLE h;
  ULONGLONG deadline = GetTickCount64() + SEND_MS;
  xsig__win32_mbox_name(pid, name);
  int r = connect_to(proc, name, deadline, &h);
  if (r < 0) return r;
  /* The kernel knows who made the instance we reached: anyone else holding
   * the name must not hear a signal meant for pid. */
  if (!GetNamedPipeServerProcessId(h, &server))
    r = xsig__win32_sys_error();
  else if (server != pid)
    r = XSIG_EPERM;
  else if (!SetNamedPipeHandleState(h, &mode, NULL, NULL))
    r = xsig__win32_sys_error();
  if (r == 0 && xsig__mbox_encode(msg, buf, sizeof buf) != XSIG__MBOX_SIZE) r = XSIG_EINVAL;
  deadline = GetTickCount64() + SEND_MS;
  if (r == 0 && (!transfer(h, buf, XSIG__MBOX_SIZE, 1, &n, deadline) ||
                 !transfer(h, buf, sizeof buf, 0, &n, deadline))) {
    DWORD e = GetLastError();
    /* A broken pipe: the target is ending (its process object is signalled
     * a moment after its handles close), or it dropped the message. */
    int broke = e == ERROR_BROKEN_PIPE || e == ERROR_PIPE_NOT_CONNECTED || e == ERROR_NO_DATA;
    r = broke && WaitForSingleObject(proc, 1000) == WAIT_OBJECT_0 ? XSIG_ESRCH : sys_error(e);
  }
  if (r == 0 && (xsig__mbox_parse(buf, n, reply) < 0 || reply->type != XSIG__MBOX_REPLY))
    r = sys_error(ERROR_INVALID_DATA);
  /* The reply is read: the mailbox may let this instance go at once. */
  if (r == 0) transfer(h, buf, 1, 1, &n, deadline);
  CloseHandle(h);
  return r;
}

int xsig__win32_mbox_send(HANDLE proc, DWORD pid, int sig) {
  xsig__mbox_msg_t msg = {XSIG__MBOX_SIGNAL, sig, 0}, reply;
  int r = xsig__win32_mbox_call(proc, pid, &msg, &reply);
  return r < 0 ? r : reply.value;
}
