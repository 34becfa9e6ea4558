/* Soak, Windows: threads watch, unwatch, create and free contexts in a loop
 * while child processes flood the process through its mailbox and other
 * threads deliver signals in-process, for a given time (ci/test-wine.sh runs
 * it under Wine for 60 s). The POSIX soak is tests/soak/soak.c.
 *
 * The floods:
 * - child processes (this program, "flood" mode), two at a time, each living
 *   about two seconds and then replaced, send SIGTERM, SIGHUP, SIGUSR1 and
 *   SIGUSR2 with xsig_send() from two threads each, and report how many of
 *   each xsig_send() said were taken;
 * - in-process threads: xsig_raise(SIGUSR2), xsig_raise(SIGINT),
 *   xsig_feed(SIGBREAK), xsig_feed(SIGHUP), and xsig_send() of SIGUSR1 to
 *   this process's own mailbox;
 * - with "ctrlc", also real Ctrl+C events (GenerateConsoleCtrlEvent on a
 *   console of our own). Not in CI: under Wine 8.0, children started by a
 *   process that made its own console now and then never leave Wine's loader
 *   (docs/WINDOWS.md has the figures); the soak then fails, on the child's
 *   time-out or the watchdog.
 * The default context watches every one of those signals for the whole run,
 * so every delivery of them is counted there: a mailbox delivery is counted
 * before the mailbox replies, and the reply is what makes xsig_send() return
 * 0.
 *
 * It fails (non-zero exit, a line saying why) when
 * - any xsig call in the churn or the floods fails unexpectedly, or a child
 *   does not exit with status 0;
 * - the marker (SIGQUIT through our own mailbox, sent after every flood has
 *   stopped and every child has exited) is not dispatched;
 * - a signal's count in the default context differs from what the floods
 *   say was taken: for SIGTERM, SIGHUP, SIGUSR1, SIGUSR2, SIGBREAK exactly,
 *   and for SIGINT exactly unless real Ctrl+C events were generated too;
 * - the process's handles (the system's handle list: Wine's
 *   GetProcessHandleCount says 0) are not back to their count at start. That
 *   count is taken after a warm-up round of every call the soak makes:
 *   measured under Wine, the first round leaves 5 handles that Wine makes
 *   once and keeps (12 before it, 17 after it and after every later round);
 * - anything hangs: a watchdog thread ends the process after the time plus
 *   two minutes.
 * Usage: xsig_soak_win32 [seconds] [ctrlc] */
#include "xsig/xsig.h"
#include <windows.h>
#include <winternl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { NCHURN = 3, NFLOOD = 2, NSEND = 2, CHILD_MS = 2000 };

/* What the churn picks from: every signal xsig handles on Windows. */
static const int churned[] = {SIGINT, SIGBREAK, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};
#define NCHURNED ((int)(sizeof churned / sizeof churned[0]))
/* What the children send: the mailbox signals but the marker. */
static const int mailed[] = {SIGTERM, SIGHUP, SIGUSR1, SIGUSR2};
#define MARKER SIGQUIT

/* Interlocked, not <stdatomic.h>, so that this compiles where the library
 * does (MSVC too), as the helpers in tests/helpers do. */
typedef volatile LONG flag;
typedef volatile LONG64 counter;
static LONG flag_get(flag *f) {
  return InterlockedCompareExchange(f, 0, 0);
}
static void flag_set(flag *f, LONG v) {
  InterlockedExchange(f, v);
}
static unsigned long long cnt_get(counter *c) {
  return (unsigned long long)InterlockedCompareExchange64(c, 0, 0);
}
static void cnt_add(counter *c, unsigned long long v) {
  InterlockedExchangeAdd64(c, (LONG64)v);
}
static void cnt_set(counter *c, unsigned long long v) {
  InterlockedExchange64(c, (LONG64)v);
}

static flag failed, stop_churn, stop_floods, stop_dispatch;
static counter delivered[32]; /* per signal, the default context's whole-run watch */
static counter expected[32];  /* per signal, what the floods were told was taken */
static counter churn_ops, ctrlc_sent;
static flag marker_seen;

static void fail(const char *what, int r) {
  if (r >= XSIG_EIGNORED && r < 0) /* an xsig error code */
    fprintf(stderr, "soak: FAIL: %s (%d: %s, os error %d)\n", what, r, xsig_strerror(r),
            xsig_os_error());
  else
    fprintf(stderr, "soak: FAIL: %s (%d)\n", what, r);
  fflush(stderr);
  flag_set(&failed, 1);
}

static ULONGLONG now_ms(void) {
  return GetTickCount64();
}

static unsigned next_rand(unsigned *seed) {
  *seed = *seed * 1103515245u + 12345u;
  return *seed >> 16;
}

/* ---------------------------------------------------------------- handles */

/* The process's handles, from the system's handle list (class 16,
 * SystemHandleInformation): Wine's GetProcessHandleCount always says 0. */
struct handle_entry {
  ULONG pid;
  UCHAR type, flags;
  USHORT handle;
  PVOID object;
  ACCESS_MASK access;
};

/* The handle values of this process, at most MAXH of them (noted, not
 * counted, past that): a failed count can then say which handles are new. */
#define MAXH 4096
struct handle_set {
  int n;
  USHORT v[MAXH];
};

static int count_handles(struct handle_set *out) {
  static unsigned char buf[1 << 22];
  ULONG got = 0;
  if (NtQuerySystemInformation((SYSTEM_INFORMATION_CLASS)16, buf, sizeof buf, &got) != 0) return -1;
  ULONG count = *(ULONG *)buf;
  const struct handle_entry *e = (const struct handle_entry *)(buf + sizeof(void *));
  int n = 0;
  for (ULONG i = 0; i < count; i++) {
    if (e[i].pid != GetCurrentProcessId()) continue;
    if (out && n < MAXH) out->v[n] = e[i].handle;
    n++;
  }
  if (out) out->n = n < MAXH ? n : MAXH;
  return n;
}

/* Each handle in now that was not in before, with its object type's name. */
static void say_new_handles(const struct handle_set *before, const struct handle_set *now) {
  int said = 0;
  for (int i = 0; i < now->n; i++) {
    int old = 0;
    for (int j = 0; j < before->n && !old; j++) old = before->v[j] == now->v[i];
    if (old) continue;
    if (++said > 16) continue;
    union {
      PUBLIC_OBJECT_TYPE_INFORMATION info;
      unsigned char bytes[512];
    } t;
    ULONG len = 0;
    HANDLE h = (HANDLE)(ULONG_PTR)now->v[i];
    int named = NtQueryObject(h, ObjectTypeInformation, &t, sizeof t, &len) == 0;
    fprintf(stderr, "soak: new handle 0x%x: %.*ls\n", now->v[i],
            named ? (int)(t.info.TypeName.Length / 2) : 7,
            named ? t.info.TypeName.Buffer : L"unknown");
  }
  if (said > 16) fprintf(stderr, "soak: and %d more new handles\n", said - 16);
}

/* ---------------------------------------------------------------- threads */

static HANDLE start_thread(LPTHREAD_START_ROUTINE fn, void *arg) {
  HANDLE t = CreateThread(NULL, 0, fn, arg, 0, NULL);
  if (!t) fail("CreateThread", (int)GetLastError());
  return t;
}

static void join(HANDLE t) {
  if (!t) return;
  WaitForSingleObject(t, INFINITE);
  CloseHandle(t);
}

/* ---------------------------------------------------------------- callbacks */

static void on_main(const xsig_event_t *ev, void *user) {
  (void)user;
  if (ev->signum > 0 && ev->signum < 32) cnt_add(&delivered[ev->signum], ev->count);
  if (ev->signum == MARKER) flag_set(&marker_seen, 1);
}

static void on_churn(const xsig_event_t *ev, void *user) {
  (void)ev;
  cnt_add((counter *)user, 1);
}

static DWORD WINAPI dispatcher(void *arg) {
  (void)arg;
  while (!flag_get(&stop_dispatch)) {
    int r = xsig_wait(NULL, 100);
    if (r < 0) fail("xsig_wait on the default context", r);
  }
  return 0;
}

/* ---------------------------------------------------------------- churn */

/* One round: contexts made and freed with watches in them (two contexts at
 * once in one case), watches added and removed on the default context while
 * its dispatcher runs; a quarter of them one-shot. */
static void churn_round(unsigned *seed, counter *hits) {
  unsigned flags = next_rand(seed) % 4 == 0 ? XSIG_ONESHOT : 0;
  xsig_ctx_t *c[2];
  xsig_watch_t *w[3];
  int r;
  switch (next_rand(seed) % 5) {
  case 0: /* a context freed with its watches in it */
    if ((r = xsig_ctx_new(&c[0])) != 0) return fail("xsig_ctx_new", r);
    for (int i = 0; i < 3; i++)
      if ((r = xsig_watch(c[0], churned[next_rand(seed) % NCHURNED], on_churn, (void *)hits, flags,
                          NULL)))
        fail("xsig_watch in a new context", r);
    if ((r = xsig_wait(c[0], (int)(next_rand(seed) % 2))) < 0) fail("xsig_wait on a context", r);
    xsig_ctx_free(c[0]);
    break;
  case 1: /* watches removed, then the context */
    if ((r = xsig_ctx_new(&c[0])) != 0) return fail("xsig_ctx_new", r);
    for (int i = 0; i < 3; i++)
      if ((r = xsig_watch(c[0], churned[next_rand(seed) % NCHURNED], on_churn, (void *)hits, flags,
                          &w[i])))
        return fail("xsig_watch in a new context", r);
    if ((r = xsig_dispatch(c[0])) < 0) fail("xsig_dispatch on a context", r);
    for (int i = 0; i < 3; i++) {
      r = xsig_unwatch(w[i]);
      if (r != 0 && !(flags && r == XSIG_EINVAL)) fail("xsig_unwatch in a context", r);
    }
    xsig_ctx_free(c[0]);
    break;
  case 2: /* one signal watched in two contexts at once, both dispatched */
    if ((r = xsig_ctx_new(&c[0])) != 0) return fail("xsig_ctx_new", r);
    if ((r = xsig_ctx_new(&c[1])) != 0) {
      xsig_ctx_free(c[0]);
      return fail("xsig_ctx_new (second)", r);
    }
    {
      int sig = churned[next_rand(seed) % NCHURNED];
      for (int i = 0; i < 2; i++)
        if ((r = xsig_watch(c[i], sig, on_churn, (void *)hits, flags, &w[i])))
          fail("xsig_watch in one of two contexts", r), w[i] = NULL;
      for (int i = 0; i < 2; i++)
        if ((r = xsig_wait(c[i], 1)) < 0) fail("xsig_wait on one of two contexts", r);
      if (w[0] && (r = xsig_unwatch(w[0])) != 0 && !(flags && r == XSIG_EINVAL))
        fail("xsig_unwatch in one of two contexts", r);
      /* w[1] goes with its context */
    }
    xsig_ctx_free(c[0]);
    xsig_ctx_free(c[1]);
    break;
  default: /* on the default context, whose dispatcher may be running it */
    if ((r = xsig_watch(NULL, churned[next_rand(seed) % NCHURNED], on_churn, (void *)hits, flags,
                        &w[0])))
      return fail("xsig_watch on the default context", r);
    if (next_rand(seed) % 2) SwitchToThread();
    r = xsig_unwatch(w[0]);
    if (r != 0 && !(flags && r == XSIG_EINVAL)) fail("xsig_unwatch on the default context", r);
    break;
  }
  cnt_add(&churn_ops, 1);
}

static DWORD WINAPI churner(void *arg) {
  unsigned seed = (unsigned)(uintptr_t)arg * 2654435761u;
  counter hits = 0;
  while (!flag_get(&stop_churn) && !flag_get(&failed)) churn_round(&seed, &hits);
  return 0;
}

/* ---------------------------------------------------------------- in-process floods */

static void took(int sig, int r, const char *what) {
  if (r == 0)
    cnt_add(&expected[sig], 1);
  else
    fail(what, r);
}

/* Paced (a pause every 16 deliveries) so that the churn and the mailbox get
 * the CPU too; still thousands of deliveries a second. */
static DWORD WINAPI raiser(void *arg) {
  (void)arg;
  for (unsigned i = 0; !flag_get(&stop_floods) && !flag_get(&failed); i++) {
    took(SIGUSR2, xsig_raise(SIGUSR2), "xsig_raise(SIGUSR2)");
    took(SIGINT, xsig_raise(SIGINT), "xsig_raise(SIGINT)");
    if (i % 8 == 0) Sleep(1);
  }
  return 0;
}

static DWORD WINAPI feeder(void *arg) {
  (void)arg;
  DWORD me = GetCurrentProcessId();
  for (unsigned i = 0; !flag_get(&stop_floods) && !flag_get(&failed); i++) {
    took(SIGBREAK, xsig_feed(SIGBREAK), "xsig_feed(SIGBREAK)");
    took(SIGHUP, xsig_feed(SIGHUP), "xsig_feed(SIGHUP)");
    if (i % 8 == 0) took(SIGUSR1, xsig_send(me, SIGUSR1), "xsig_send(self, SIGUSR1)");
    if (i % 8 == 4) Sleep(1);
  }
  return 0;
}

/* Real Ctrl+C events on our own console (the children, each in a process
 * group of its own, ignore them). Wine runs each on a new thread under a
 * lock, so they are paced. */
static DWORD WINAPI ctrl_c(void *arg) {
  (void)arg;
  while (!flag_get(&stop_floods) && !flag_get(&failed)) {
    if (!GenerateConsoleCtrlEvent(CTRL_C_EVENT, 0))
      return fail("GenerateConsoleCtrlEvent", (int)GetLastError()), 0;
    cnt_add(&ctrlc_sent, 1);
    Sleep(20);
  }
  return 0;
}

/* ---------------------------------------------------------------- flood children */

struct child {
  HANDLE proc, out; /* out: the read end of its stdout+stderr */
  DWORD pid;
  ULONGLONG late; /* past this, it is stuck: ended, and the soak fails */
};

static wchar_t self_path[MAX_PATH];
static HANDLE job; /* KILL_ON_JOB_CLOSE: children do not outlive us, even when the watchdog fires */

/* Children are started by the main thread only, one at a time, so no other
 * child can inherit this one's pipe end. */
static int start_child(struct child *c, unsigned ms, unsigned seed) {
  SECURITY_ATTRIBUTES sa = {sizeof sa, NULL, TRUE};
  HANDLE w;
  wchar_t cmd[MAX_PATH + 64];
  if (!CreatePipe(&c->out, &w, &sa, 0)) return fail("CreatePipe", (int)GetLastError()), -1;
  SetHandleInformation(c->out, HANDLE_FLAG_INHERIT, 0);
  _snwprintf(cmd, sizeof cmd / sizeof cmd[0], L"\"%ls\" flood %lu %u %u", self_path,
             (unsigned long)GetCurrentProcessId(), ms, seed);
  cmd[sizeof cmd / sizeof cmd[0] - 1] = 0;
  /* The pipe's write end is the one handle it inherits: not our stdout,
   * not our console's handles. */
  STARTUPINFOEXW si;
  SIZE_T size = 0;
  void *attrs[32]; /* the attribute list, pointer-aligned */
  ZeroMemory(&si, sizeof si);
  si.StartupInfo.cb = sizeof si;
  si.StartupInfo.dwFlags = STARTF_USESTDHANDLES;
  si.StartupInfo.hStdOutput = si.StartupInfo.hStdError = w;
  si.lpAttributeList = (LPPROC_THREAD_ATTRIBUTE_LIST)attrs;
  InitializeProcThreadAttributeList(NULL, 1, 0, &size);
  BOOL ok = size <= sizeof attrs &&
            InitializeProcThreadAttributeList(si.lpAttributeList, 1, 0, &size) &&
            UpdateProcThreadAttribute(si.lpAttributeList, 0, PROC_THREAD_ATTRIBUTE_HANDLE_LIST, &w,
                                      sizeof w, NULL, NULL);
  PROCESS_INFORMATION pi;
  /* A process group of its own: it starts with Ctrl+C ignored, so the real
   * ones on our console never end it. */
  ok = ok && CreateProcessW(NULL, cmd, NULL, NULL, TRUE,
                            CREATE_NEW_PROCESS_GROUP | EXTENDED_STARTUPINFO_PRESENT, NULL, NULL,
                            &si.StartupInfo, &pi);
  DWORD e = GetLastError();
  if (size <= sizeof attrs) DeleteProcThreadAttributeList(si.lpAttributeList);
  CloseHandle(w);
  if (!ok) {
    CloseHandle(c->out);
    return fail("CreateProcess of a flood child", (int)e), -1;
  }
  if (!AssignProcessToJobObject(job, pi.hProcess))
    fail("AssignProcessToJobObject", (int)GetLastError());
  CloseHandle(pi.hThread);
  c->proc = pi.hProcess;
  c->pid = pi.dwProcessId;
  c->late = now_ms() + ms + 30000;
  return 0;
}

/* Reaps an exited child: its status must be 0 and its report complete. */
static void reap_child(struct child *c, unsigned long long sent[32]) {
  char buf[1024];
  DWORD n, len = 0, code = 99;
  while (len < sizeof buf - 1 && ReadFile(c->out, buf + len, sizeof buf - 1 - len, &n, NULL) && n)
    len += n;
  buf[len] = 0;
  GetExitCodeProcess(c->proc, &code);
  unsigned long long v[4];
  if (code != 0 ||
      sscanf(buf, "sent TERM=%llu HUP=%llu USR1=%llu USR2=%llu", &v[0], &v[1], &v[2], &v[3]) != 4) {
    fprintf(stderr, "soak: child %lu exited with status %lu and said: %s\n", (unsigned long)c->pid,
            (unsigned long)code, buf);
    fail("a flood child failed", (int)code);
  } else {
    for (int i = 0; i < 4; i++) sent[mailed[i]] += v[i];
  }
  CloseHandle(c->out);
  CloseHandle(c->proc);
  c->proc = c->out = NULL;
}

/* Child mode: NSEND threads send until the time is up. */
static DWORD flood_target;
static ULONGLONG flood_end;
static counter flood_sent[32];
static flag flood_failed;

static DWORD WINAPI sender(void *arg) {
  unsigned i = (unsigned)(uintptr_t)arg;
  while (now_ms() < flood_end && !flag_get(&flood_failed)) {
    int sig = mailed[i++ % 4];
    int r = xsig_send(flood_target, sig);
    if (r == 0) {
      cnt_add(&flood_sent[sig], 1);
    } else {
      printf("soak child: FAIL: xsig_send(%lu, %s) = %d: %s (os error %d)\n",
             (unsigned long)flood_target, xsig_name(sig), r, xsig_strerror(r), xsig_os_error());
      flag_set(&flood_failed, 1);
    }
  }
  return 0;
}

static int flood_main(int argc, char **argv) {
  if (argc != 5) return 2;
  flood_target = (DWORD)strtoul(argv[2], NULL, 10);
  flood_end = now_ms() + strtoul(argv[3], NULL, 10);
  unsigned seed = (unsigned)strtoul(argv[4], NULL, 10);
  HANDLE t[NSEND];
  for (int i = 0; i < NSEND; i++)
    if (!(t[i] = CreateThread(NULL, 0, sender, (void *)(uintptr_t)(seed + (unsigned)i), 0, NULL)))
      return printf("soak child: FAIL: CreateThread %lu\n", GetLastError()), 1;
  for (int i = 0; i < NSEND; i++) {
    WaitForSingleObject(t[i], INFINITE);
    CloseHandle(t[i]);
  }
  printf("sent TERM=%llu HUP=%llu USR1=%llu USR2=%llu\n",
         (unsigned long long)cnt_get(&flood_sent[SIGTERM]),
         (unsigned long long)cnt_get(&flood_sent[SIGHUP]),
         (unsigned long long)cnt_get(&flood_sent[SIGUSR1]),
         (unsigned long long)cnt_get(&flood_sent[SIGUSR2]));
  fflush(stdout);
  return flag_get(&flood_failed) ? 1 : 0;
}

/* Runs the children for ms: each slot is refilled as its child exits, while
 * at least CHILD_MS / 4 is left. Adds what they say they sent to expected[]. */
static unsigned long long run_children(ULONGLONG end, unsigned *started) {
  struct child kids[NFLOOD] = {{0}};
  unsigned long long sent[32] = {0}, total = 0;
  unsigned seed = 1;
  for (;;) {
    ULONGLONG now = now_ms();
    int live = 0;
    for (int i = 0; i < NFLOOD; i++) {
      if (kids[i].proc && now > kids[i].late) {
        fprintf(stderr, "soak: child %lu still runs 30 s after its time\n",
                (unsigned long)kids[i].pid);
        TerminateProcess(kids[i].proc, 98);
        /* One stuck in Wine's loader may not even end: give up on it. */
        if (WaitForSingleObject(kids[i].proc, 5000) != WAIT_OBJECT_0) {
          fail("a flood child could not be ended", (int)kids[i].pid);
          CloseHandle(kids[i].out);
          CloseHandle(kids[i].proc);
          kids[i].proc = kids[i].out = NULL;
        }
      }
      if (kids[i].proc && WaitForSingleObject(kids[i].proc, 0) == WAIT_OBJECT_0)
        reap_child(&kids[i], sent);
      if (!kids[i].proc && now + CHILD_MS / 4 < end && !flag_get(&failed)) {
        unsigned ms = end - now < CHILD_MS ? (unsigned)(end - now) : CHILD_MS;
        if (start_child(&kids[i], ms, seed += 7) == 0) (*started)++;
      }
      live += kids[i].proc != NULL;
    }
    if (!live) break;
    HANDLE h[NFLOOD];
    int nh = 0;
    for (int i = 0; i < NFLOOD; i++)
      if (kids[i].proc) h[nh++] = kids[i].proc;
    WaitForMultipleObjects((DWORD)nh, h, FALSE, 100);
  }
  for (int i = 0; i < 4; i++) {
    cnt_add(&expected[mailed[i]], sent[mailed[i]]);
    total += sent[mailed[i]];
  }
  return total;
}

/* ---------------------------------------------------------------- main */

static ULONGLONG watchdog_deadline;
static void *volatile phase = "start"; /* where the main thread is, for the watchdog */
static void set_phase(const char *what) {
  InterlockedExchangePointer(&phase, (void *)what);
}
static const char *get_phase(void) {
  return InterlockedCompareExchangePointer(&phase, NULL, NULL);
}
static int use_ctrlc;
static DWORD WINAPI watchdog(void *arg) {
  (void)arg;
  while (now_ms() < watchdog_deadline) Sleep(200);
  fprintf(stderr, "soak: FAIL: hang (still running after the time plus 120 s, in %s)\n",
          get_phase());
  fflush(stderr);
  /* The job ends the children with us; under Wine not those stuck in its
   * loader (CI's wineserver -k does). */
  TerminateProcess(GetCurrentProcess(), 3);
  return 0;
}

static int watch_all(void) {
  static const int all[] = {SIGINT, SIGBREAK, SIGTERM, SIGHUP, SIGUSR1, SIGUSR2, MARKER};
  for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
    int r = xsig_watch(NULL, all[i], on_main, NULL, 0, NULL);
    if (r) return fail("xsig_watch on the default context, whole run", r), -1;
  }
  return 0;
}

/* One short pass over every call the soak makes, before the handles are
 * counted: what Wine makes once, lazily, for those calls (its first named
 * pipe, the first loopback socket, a child process) is then already there. */
static void warm_up(void) {
  xsig_ctx_t *c;
  counter hits = 0;
  unsigned seed = 99, started = 0;
  if (xsig_init() != 0 || watch_all() != 0) return;
  HANDLE d = start_thread(dispatcher, NULL);
  for (int i = 0; i < 40; i++) churn_round(&seed, &hits);
  took(SIGUSR1, xsig_send(GetCurrentProcessId(), SIGUSR1), "warm-up xsig_send");
  took(SIGUSR2, xsig_raise(SIGUSR2), "warm-up xsig_raise");
  took(SIGBREAK, xsig_feed(SIGBREAK), "warm-up xsig_feed");
  if (xsig_ctx_new(&c) == 0) xsig_ctx_free(c);
  run_children(now_ms() + 800, &started);
  if (use_ctrlc) { /* Wine's first handler thread, and what it makes */
    if (!GenerateConsoleCtrlEvent(CTRL_C_EVENT, 0)) fail("GenerateConsoleCtrlEvent", 0);
    for (ULONGLONG t = now_ms() + 10000; !cnt_get(&delivered[SIGINT]) && now_ms() < t;) Sleep(5);
  }
  flag_set(&stop_dispatch, 1);
  join(d);
  flag_set(&stop_dispatch, 0);
  xsig_shutdown();
  for (int i = 0; i < 32; i++) cnt_set(&delivered[i], 0), cnt_set(&expected[i], 0);
  cnt_set(&churn_ops, 0);
  flag_set(&marker_seen, 0);
}

int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "flood") == 0) return flood_main(argc, argv);
  int secs = argc > 1 ? atoi(argv[1]) : 20;
  use_ctrlc = argc > 2 && strcmp(argv[2], "ctrlc") == 0;
  if (secs <= 0 || (argc > 2 && !use_ctrlc) || argc > 3) {
    fprintf(stderr, "usage: xsig_soak_win32 [seconds] [ctrlc]\n");
    return 2;
  }
  setvbuf(stdout, NULL, _IONBF, 0);
  watchdog_deadline = now_ms() + (ULONGLONG)(secs + 120) * 1000;
  HANDLE wd = start_thread(watchdog, NULL);
  if (!wd) return 1;
  CloseHandle(wd);
  if (!GetModuleFileNameW(NULL, self_path, MAX_PATH)) return fail("GetModuleFileName", 0), 1;
  JOBOBJECT_EXTENDED_LIMIT_INFORMATION lim = {0};
  lim.BasicLimitInformation.LimitFlags = JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE;
  if (!(job = CreateJobObjectW(NULL, NULL)) ||
      !SetInformationJobObject(job, JobObjectExtendedLimitInformation, &lim, sizeof lim))
    return fail("job object", (int)GetLastError()), 1;
  /* A console of our own for real Ctrl+C (one started with piped stdio has
   * none): before the first watch, which registers xsig's handler. */
  if (use_ctrlc) {
    FreeConsole();
    if (!AllocConsole()) return fail("AllocConsole", (int)GetLastError()), 1;
  }

  set_phase("the warm-up");
  int handles_cold = count_handles(NULL);
  warm_up();
  if (flag_get(&failed)) return 1;
  set_phase("the soak start");
  static struct handle_set at_start, at_end;
  int handles_start = count_handles(&at_start);

  int r = xsig_init();
  if (r) return fail("xsig_init", r), 1;
  if (watch_all()) return 1;
  HANDLE disp = start_thread(dispatcher, NULL), churn[NCHURN], fl[3] = {0};
  for (int i = 0; i < NCHURN; i++) churn[i] = start_thread(churner, (void *)(uintptr_t)(i + 1));
  fl[0] = start_thread(raiser, NULL);
  fl[1] = start_thread(feeder, NULL);
  if (use_ctrlc) fl[2] = start_thread(ctrl_c, NULL);

  /* The children for the whole time, then the in-process floods stop: every
   * flood has sent its last signal once these return. */
  unsigned started = 0;
  set_phase("the floods");
  unsigned long long mailbox_taken = run_children(now_ms() + (ULONGLONG)secs * 1000, &started);
  flag_set(&stop_floods, 1);
  set_phase("joining the in-process floods");
  for (int i = 0; i < 3; i++) join(fl[i]);

  /* The marker, sent after the last send, must reach its callback. */
  ULONGLONG sent_at = now_ms(), seen_at;
  set_phase("the marker");
  if ((r = xsig_send(GetCurrentProcessId(), MARKER)) != 0) fail("xsig_send of the marker", r);
  while (!flag_get(&marker_seen) && now_ms() < sent_at + 60000) Sleep(2);
  seen_at = now_ms();
  if (!flag_get(&marker_seen))
    fail("the marker sent after the floods never reached its callback", 0);
  cnt_add(&expected[MARKER], 1);
  /* Every delivery was counted before its sender was told it was taken; give
   * the dispatcher time to reach them all, then compare. Ctrl+C events are
   * counted when Wine's handler thread runs, which can be later still. */
  int sigs[] = {SIGINT, SIGBREAK, SIGTERM, SIGHUP, SIGUSR1, SIGUSR2, MARKER};
  const int nsigs = (int)(sizeof sigs / sizeof sigs[0]);
  set_phase("waiting for the counts");
  ULONGLONG until = now_ms() + 30000;
  for (int behind = 1; behind && now_ms() < until;) {
    behind = 0;
    for (int i = 0; i < nsigs; i++) {
      unsigned long long want = cnt_get(&expected[sigs[i]]);
      if (sigs[i] == SIGINT) want += cnt_get(&ctrlc_sent);
      behind |= cnt_get(&delivered[sigs[i]]) < want;
    }
    if (behind) Sleep(5);
  }

  flag_set(&stop_churn, 1);
  set_phase("joining the churn");
  for (int i = 0; i < NCHURN; i++) join(churn[i]);
  flag_set(&stop_dispatch, 1);
  set_phase("joining the dispatcher");
  join(disp);
  xsig_dispatch(NULL);

  printf("soak: %d s, %llu churn rounds, %u flood children, %llu mailbox sends from them taken;"
         " marker after %llu ms\n",
         secs, (unsigned long long)cnt_get(&churn_ops), started, mailbox_taken,
         (unsigned long long)(seen_at - sent_at));
  if (use_ctrlc)
    printf("soak: %llu real Ctrl+C events generated\n", (unsigned long long)cnt_get(&ctrlc_sent));
  for (int i = 0; i < nsigs; i++) {
    int s = sigs[i];
    unsigned long long want = cnt_get(&expected[s]), got = cnt_get(&delivered[s]);
    unsigned long long cc = s == SIGINT ? cnt_get(&ctrlc_sent) : 0;
    printf("soak: %-8s taken %llu%s, counted %llu\n", xsig_name(s), want + cc,
           cc ? " (with the Ctrl+C events)" : "", got);
    if (got != want + cc) {
      fprintf(stderr, "soak: FAIL: %s: counted %llu, taken %llu\n", xsig_name(s), got, want + cc);
      flag_set(&failed, 1);
    }
  }
  if (mailbox_taken == 0) fail("the children sent nothing", 0);
  set_phase("xsig_shutdown");
  xsig_shutdown();
  int handles_end = count_handles(&at_end);
  printf("soak: handles %d before the warm-up, %d at start (after it), %d at the end\n",
         handles_cold, handles_start, handles_end);
  if (handles_start < 0 || handles_end != handles_start) {
    fprintf(stderr, "soak: FAIL: handles not back to their count at start (%+d)\n",
            handles_end - handles_start);
    say_new_handles(&at_start, &at_end);
    flag_set(&failed, 1);
  }
  if (flag_get(&failed)) return 1;
  printf("soak: passed\n");
  return 0;
}
