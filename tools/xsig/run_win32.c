/* xsig run on Windows: CMD in a job object that dies with the supervisor
 * (KILL_ON_JOB_CLOSE), job notifications and stop requests on one completion
 * port, and a graceful stop passed on as SIGTERM through CMD's xsig mailbox,
 * or else as Ctrl+Break to CMD's own process group, before the job is
 * terminated after --grace. SIGHUP, SIGQUIT, SIGUSR1 and SIGUSR2 go on
 * through CMD's mailbox. See docs/RUN.md. */
#include "cli.h"
#include "run.h"
#include "xsig/lifecycle.h"
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <windows.h>

/* Completion keys on the port. */
#define KEY_JOB  1 /* the job's notifications */
#define KEY_STOP 2 /* a stop request; the byte count is the signal */

/* What the mailbox (and, in a service, PARAMCHANGE and the user controls)
 * can bring besides a stop: passed on through CMD's mailbox, one send per
 * delivery, as POSIX forwards every signal. On a thread of its own: a send
 * can take seconds when CMD's mailbox is slow, and a stop request, the job's
 * news and the grace deadline must never wait behind one. The deliveries
 * are counted per signal meanwhile. */
static const int forwarded[] = {SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};
static volatile LONG to_forward[32];
static HANDLE forward_wake; /* auto-reset */

static struct {
  const struct run_opts *o;
  HANDLE job, port, proc;
  DWORD pid;
  int stops, killed;
  ULONGLONG stop_ms, deadline_ms; /* deadline 0: no timer */
} W;

static void say(const char *fmt, const char *a, unsigned long n) {
  if (!W.o->verbose) return;
  fputs("xsig run: ", stderr);
  fprintf(stderr, fmt, a, n);
  fputc('\n', stderr);
  fflush(stderr);
}

/* ---------------------------------------------------------------- --service
 * --service NAME: the supervisor is the service. xsig_service_start connects
 * to the SCM (START_PENDING); the spawned CMD makes it RUNNING; an SCM STOP
 * arrives as the SIGTERM watch below (source XSIG_SRC_SERVICE), after the
 * backend reported STOP_PENDING, whose checkpoint it moves every second until
 * the process ends; it is passed on like any stop, --grace bounds it, and the
 * end is SERVICE_STOPPED with CMD's exit status (service_end).
 *
 * A process the SCM did not start fails (status 1) rather than supervising
 * from the console: --service says the command line is a service's binPath,
 * and one run anywhere else is a mistake to show, not to paper over (the same
 * command without --service is the console supervisor). */
static int service_start(const char *name) {
  int r = xsig_service_start(name, NULL);
  if (r == XSIG_ENOTSVC)
    return cli_fail(EXIT_FAILED, "run",
                    "--service %s: this process was not started by the Service Control Manager "
                    "(install it with sc create; without --service xsig run supervises from a "
                    "console)",
                    name);
  if (r < 0)
    return cli_fail(EXIT_FAILED, "run", "--service: cannot connect to the SCM: %s",
                    xsig_strerror(r));
  return 0;
}

/* A service has no console, and a console event reaches only processes on
 * the sender's console: without one, the Ctrl+Break (or Ctrl+C) fallback of
 * pass_on could reach no CMD at all, and only --grace would end it. So the
 * supervisor makes one (in the service's session, which no user sees) before
 * CMD starts; CMD inherits it, in its own process group as on a console. */
static void service_console(void) {
  DWORD one;
  if (GetConsoleProcessList(&one, 1) == 0 && !AllocConsole())
    say("no console for CMD (Windows error %s%lu): only --grace can end it", "", GetLastError());
}

/* Every end of a service goes through here: SERVICE_STOPPED with status
 * (NO_ERROR for 0, else ERROR_SERVICE_SPECIFIC_ERROR and status), then exit.
 * A process that just returned would leave the SCM to find it gone (1067). */
static int service_end(int status) {
  if (xsig_service_active()) xsig_graceful_exit(status);
  return status;
}

/* ---------------------------------------------------------------- command line */

/* Appends a as CommandLineToArgvW and the C runtime split it back: quotes
 * around it when needed, and backslashes doubled only before a quote. */
static char *append_arg(char *out, const char *a) {
  int plain = *a != '\0' && strpbrk(a, " \t\n\v\"") == NULL;
  if (plain) return strcpy(out, a) + strlen(a);
  *out++ = '"';
  for (;;) {
    size_t bs = 0;
    while (*a == '\\') a++, bs++;
    if (*a == '\0') {
      memset(out, '\\', bs * 2), out += bs * 2;
      break;
    }
    if (*a == '"') {
      memset(out, '\\', bs * 2 + 1), out += bs * 2 + 1;
    } else {
      memset(out, '\\', bs), out += bs;
    }
    *out++ = *a++;
  }
  *out++ = '"';
  return out;
}

static char *command_line(char **argv) {
  size_t len = 1;
  for (char **a = argv; *a; a++) len += strlen(*a) * 2 + 3;
  char *buf = malloc(len), *p = buf;
  if (!buf) return NULL;
  for (char **a = argv; *a; a++) {
    if (a != argv) *p++ = ' ';
    p = append_arg(p, *a);
  }
  *p = '\0';
  return buf;
}

/* ---------------------------------------------------------------- stop requests */

static void on_stop(const xsig_event_t *ev, void *user) {
  (void)user;
  PostQueuedCompletionStatus(W.port, (DWORD)ev->signum, KEY_STOP, NULL);
}

static void on_forward(const xsig_event_t *ev, void *user) {
  (void)user;
  LONG n = ev->count > 0x7fffffff ? 0x7fffffff : (LONG)ev->count;
  InterlockedExchangeAdd(&to_forward[ev->signum], n);
  SetEvent(forward_wake);
}

/* Runs the callbacks: the main thread waits on the port alone. */
static DWORD WINAPI dispatcher(void *arg) {
  (void)arg;
  while (xsig_wait(NULL, -1) >= 0) {
  }
  return 0;
}

static void terminate_job(const char *why) {
  if (W.killed) return;
  W.killed = 1;
  say("%s: job terminated", why, 0);
  TerminateJobObject(W.job, RUN_KILLED_STATUS);
}

/* SIGTERM through the mailbox when CMD has one; else Ctrl+Break to its group.
 * Where Ctrl+Break cannot be made at all (Wine 8 fails the call), Ctrl+C to
 * the group: it reaches a CMD that took Ctrl+C back (xsig_default(SIGINT)). */
static void pass_on(int sig) {
  say("stop request: %s", xsig_name(sig), 0);
  int r = xsig_send(W.pid, SIGTERM);
  if (r == 0) {
    say("%s passed on as SIGTERM to pid %lu's mailbox", xsig_name(sig), W.pid);
    return;
  }
  r = xsig_send_group(W.pid, SIGBREAK);
  if (r == 0) {
    say("%s passed on as Ctrl+Break to process group %lu", xsig_name(sig), W.pid);
    return;
  }
  if (r == XSIG_ESYS && xsig_send_group(W.pid, SIGINT) == 0) {
    say("%s passed on as Ctrl+C to process group %lu (no Ctrl+Break here)", xsig_name(sig), W.pid);
    return;
  }
  if (W.o->verbose)
    fprintf(stderr, "xsig run: cannot pass %s on to pid %lu: %s\n", xsig_name(sig), W.pid,
            xsig_strerror(r));
}

/* A CMD without a mailbox for sig cannot be given it: Windows has no other
 * way, and a console event would be a stop. Said, not fatal. */
static void forward(int sig) {
  int r = xsig_send(W.pid, sig);
  if (r == 0)
    say("forwarded %s to pid %lu's mailbox", xsig_name(sig), W.pid);
  else if (W.o->verbose)
    fprintf(stderr, "xsig run: cannot forward %s to pid %lu: %s\n", xsig_name(sig), W.pid,
            xsig_strerror(r));
}

/* Started once CMD runs: what came before waits in the counts. */
static DWORD WINAPI forwarder(void *arg) {
  (void)arg;
  while (WaitForSingleObject(forward_wake, INFINITE) == WAIT_OBJECT_0)
    for (size_t i = 0; i < sizeof forwarded / sizeof *forwarded; i++)
      for (LONG n = InterlockedExchange(&to_forward[forwarded[i]], 0); n > 0; n--)
        forward(forwarded[i]);
  return 0;
}

static void stop_request(int sig) {
  ULONGLONG now = GetTickCount64();
  if (W.stops == 0) {
    W.stops = 1;
    W.stop_ms = now;
    /* --grace 0 is at once; a grace past the clock's end is never. */
    if (W.o->grace_ms >= 0)
      W.deadline_ms =
          (ULONGLONG)W.o->grace_ms > ~0ULL - now ? ~0ULL : now + (ULONGLONG)W.o->grace_ms;
    pass_on(sig);
    return;
  }
  if (now - W.stop_ms > RUN_MERGE_MS) {
    W.stops++;
    W.stop_ms = now;
    if (W.o->second_kills) {
      terminate_job("second stop request");
      return;
    }
  }
  pass_on(sig);
}

/* ---------------------------------------------------------------- the job */

static int make_job(void) {
  W.job = CreateJobObjectA(NULL, NULL); /* not inheritable: CMD cannot keep it alive */
  W.port = CreateIoCompletionPort(INVALID_HANDLE_VALUE, NULL, 0, 1);
  if (!W.job || !W.port) return -1;
  JOBOBJECT_EXTENDED_LIMIT_INFORMATION lim;
  memset(&lim, 0, sizeof lim);
  lim.BasicLimitInformation.LimitFlags = JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE;
  if (!SetInformationJobObject(W.job, JobObjectExtendedLimitInformation, &lim, sizeof lim))
    return -1;
  JOBOBJECT_ASSOCIATE_COMPLETION_PORT acp = {(PVOID)(ULONG_PTR)KEY_JOB, W.port};
  if (!SetInformationJobObject(W.job, JobObjectAssociateCompletionPortInformation, &acp,
                               sizeof acp))
    return -1;
  return 0;
}

/* 0 with W.proc running in the job, or the exit status for a CMD that
 * cannot start: 127 not found, 126 found but not runnable, 1 otherwise. */
static int spawn(char **argv) {
  char *cmd = command_line(argv);
  if (!cmd) return cli_fail(EXIT_FAILED, "run", "%s", "out of memory");
  STARTUPINFOA si;
  PROCESS_INFORMATION pi;
  memset(&si, 0, sizeof si);
  si.cb = sizeof si;
  /* Its own process group, so Ctrl+Break can reach CMD alone; Windows then
   * starts it with Ctrl+C off, and a Ctrl+C on the console reaches it once,
   * through the supervisor. */
  BOOL ok = CreateProcessA(NULL, cmd, NULL, NULL, TRUE, CREATE_SUSPENDED | CREATE_NEW_PROCESS_GROUP,
                           NULL, NULL, &si, &pi);
  DWORD e = GetLastError();
  free(cmd);
  if (!ok) {
    fprintf(stderr, "xsig run: cannot run '%s': Windows error %lu\n", argv[0], (unsigned long)e);
    return e == ERROR_FILE_NOT_FOUND || e == ERROR_PATH_NOT_FOUND ? 127 : 126;
  }
  if (!AssignProcessToJobObject(W.job, pi.hProcess)) {
    e = GetLastError();
    TerminateProcess(pi.hProcess, 1);
    CloseHandle(pi.hThread);
    CloseHandle(pi.hProcess);
    fprintf(stderr, "xsig run: cannot put '%s' in a job: Windows error %lu\n", argv[0],
            (unsigned long)e);
    return EXIT_FAILED;
  }
  ResumeThread(pi.hThread);
  CloseHandle(pi.hThread);
  W.proc = pi.hProcess;
  W.pid = pi.dwProcessId;
  say("started %s as pid %lu", argv[0], W.pid);
  return 0;
}

static int loop(void) {
  for (;;) {
    DWORD n, timeout = INFINITE;
    ULONG_PTR key;
    LPOVERLAPPED ov;
    if (W.deadline_ms && !W.killed) {
      ULONGLONG now = GetTickCount64();
      if (now >= W.deadline_ms) {
        terminate_job("grace ran out");
        continue;
      }
      ULONGLONG left = W.deadline_ms - now;
      timeout = left > 0x7fffffff ? 0x7fffffff : (DWORD)left;
    }
    if (!GetQueuedCompletionStatus(W.port, &n, &key, &ov, timeout)) {
      if (GetLastError() == WAIT_TIMEOUT) continue;
      return -1;
    }
    if (key == KEY_STOP) {
      stop_request((int)n);
    } else if (key == KEY_JOB) {
      DWORD pid = (DWORD)(ULONG_PTR)ov;
      if ((n == JOB_OBJECT_MSG_EXIT_PROCESS || n == JOB_OBJECT_MSG_ABNORMAL_EXIT_PROCESS) &&
          pid == W.pid)
        return 0;
      if (n == JOB_OBJECT_MSG_ACTIVE_PROCESS_ZERO) return 0;
      if (n == JOB_OBJECT_MSG_EXIT_PROCESS) say("%sprocess %lu of the job ended", "", pid);
    }
  }
}

int run_supervise(const struct run_opts *o) {
  W.o = o;
  if (o->pdeath) return cli_fail(EXIT_USAGE, "run", "%s", "--pdeath is for Linux only");
  if (make_job() < 0) {
    fprintf(stderr, "xsig run: cannot make the job object: Windows error %lu\n",
            (unsigned long)GetLastError());
    return EXIT_FAILED;
  }
  forward_wake = CreateEventW(NULL, FALSE, FALSE, NULL);
  int r = forward_wake ? xsig_init() : XSIG_ESYS;
  /* Ctrl+C, Ctrl+Break, console close (SIGTERM), the mailbox's SIGTERM and
   * an SCM STOP (SIGTERM) all come as these. */
  if (r == 0) r = xsig_watch(NULL, SIGINT, on_stop, NULL, 0, NULL);
  if (r == 0) r = xsig_watch(NULL, SIGBREAK, on_stop, NULL, 0, NULL);
  if (r == 0) r = xsig_watch(NULL, SIGTERM, on_stop, NULL, 0, NULL);
  for (size_t i = 0; r == 0 && i < sizeof forwarded / sizeof *forwarded; i++)
    r = xsig_watch(NULL, forwarded[i], on_forward, NULL, 0, NULL);
  if (r < 0) return cli_fail(EXIT_FAILED, "run", "cannot take the signals: %s", xsig_strerror(r));
  /* After the watches: a STOP from the first moment is a stop request. */
  if (o->service && service_start(o->service) != 0) return EXIT_FAILED;
  if (o->service) service_console();
  HANDLE t = CreateThread(NULL, 0, dispatcher, NULL, 0, NULL);
  if (!t)
    return service_end(cli_fail(EXIT_FAILED, "run", "%s", "cannot start the dispatcher thread"));
  CloseHandle(t);
  int status = spawn(o->argv);
  if (status) return service_end(status);
  t = CreateThread(NULL, 0, forwarder, NULL, 0, NULL);
  if (t)
    CloseHandle(t);
  else
    fprintf(stderr, "xsig run: cannot start the forwarding thread: only stops reach %s\n",
            o->argv[0]);
  if (xsig_service_active()) xsig_notify_ready(); /* SERVICE_RUNNING */
  if (loop() < 0)
    return service_end(cli_fail(EXIT_FAILED, "run", "%s", "waiting on the job failed"));
  WaitForSingleObject(W.proc, INFINITE);
  DWORD code = 1;
  GetExitCodeProcess(W.proc, &code);
  say("%s exited; code %lu", o->argv[0], code);
  /* No xsig_shutdown: the dispatcher thread is in xsig_wait; the process ends
   * here, and the job with it. */
  fflush(stdout);
  return service_end(run_map_status(o, (int)code));
}
