/* xsig run on POSIX: spawn, forward, reap. Signals come through the xsig
 * library like in any program built on it: each catchable signal has a watch
 * whose callback forwards it with its exact count, SIGCHLD's watch reaps, and
 * the main loop is xsig_wait() with the grace deadline as its time-out.
 * docs/RUN.md compares each point with tini and dumb-init. */
#include "cli.h"
#include "run.h"
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#if defined(__linux__)
#include <sys/prctl.h>
#elif defined(__FreeBSD__)
#include <sys/procctl.h>
#endif

/* Above any platform's highest signal number (MIPS Linux has 128). */
#define RUN_NSIG 130

static struct supervisor {
  const struct run_opts *o;
  pid_t child;
  int done;   /* the child has been reaped */
  int status; /* its wait status */
  int stops;  /* stop requests counted (deliveries merged, see RUN_MERGE_MS) */
  int64_t stop_ms;
  int64_t deadline_ms; /* the grace runs out; -1: no timer */
  int killed;          /* SIGKILL sent to the group */
  /* Dispositions and mask as this process got them: CMD gets them back. */
  struct sigaction orig[RUN_NSIG];
  unsigned char have_orig[RUN_NSIG];
  sigset_t orig_mask;
} S;

static int64_t now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static void say(const char *fmt, const char *a, long n) {
  if (!S.o->verbose) return;
  fputs("xsig run: ", stderr);
  fprintf(stderr, fmt, a, n);
  fputc('\n', stderr);
}

static void kill_group(const char *why) {
  if (S.done || S.killed) return;
  S.killed = 1;
  say("%s: SIGKILL to process group %ld", why, (long)S.child);
  /* The group is gone when the child left it (setsid) and it was the last. */
  if (kill(-S.child, SIGKILL) < 0 && errno == ESRCH) kill(S.child, SIGKILL);
}

/* Returns 1 when this stop delivery is a second stop request. */
static int second_stop(void) {
  int64_t now = now_ms();
  if (S.stops == 0) {
    S.stops = 1;
    S.stop_ms = now;
    if (S.o->grace_ms >= 0)
      S.deadline_ms = S.o->grace_ms > INT64_MAX - now ? INT64_MAX : now + S.o->grace_ms;
    return 0;
  }
  if (now - S.stop_ms <= RUN_MERGE_MS) return 0;
  S.stops++;
  S.stop_ms = now;
  return 1;
}

static void forward(const xsig_event_t *ev, void *user) {
  (void)user;
  int sig = ev->signum;
  if (S.done) return;
  if ((sig == SIGTERM || sig == SIGINT) && second_stop() && S.o->second_kills) {
    kill_group("second stop request");
    return;
  }
  pid_t target = S.o->group ? -S.child : S.child;
  /* Each delivery once more: realtime signals keep their exact count. */
  for (uint32_t i = 0; i < ev->count; i++) {
    if (kill(target, sig) == 0) continue;
    /* ESRCH: the child is a zombie not yet reaped; its SIGCHLD is coming. */
    if (S.o->verbose)
      fprintf(stderr, "xsig run: cannot forward %s: %s\n", xsig_name(sig), strerror(errno));
    return;
  }
  if (S.o->verbose)
    fprintf(stderr, "xsig run: forwarded %s x%u to %s %ld\n", xsig_name(sig), ev->count,
            S.o->group ? "process group" : "pid", (long)S.child);
}

static void reap_all(void) {
  for (;;) {
    int st;
    pid_t p = waitpid(-1, &st, WNOHANG);
    if (p < 0 && errno == EINTR) continue;
    if (p <= 0) return;
    if (p == S.child) {
      S.done = 1;
      S.status = st;
    } else {
      say("reaped %s%ld", "orphan ", (long)p);
    }
  }
}

static void on_child(const xsig_event_t *ev, void *user) {
  (void)ev, (void)user;
  reap_all();
}

/* As PID 1 the kernel gives every orphan to us; otherwise ask for them. */
static void become_reaper(void) {
  if (getpid() == 1) return;
#if defined(__linux__) && defined(PR_SET_CHILD_SUBREAPER)
  if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0) return;
#elif defined(__FreeBSD__) && defined(PROC_REAP_ACQUIRE)
  if (procctl(P_PID, getpid(), PROC_REAP_ACQUIRE, NULL) == 0) return;
#endif
  fputs("xsig run: warning: neither PID 1 nor a subreaper: orphaned grandchildren "
        "are reaped by the real init, not by xsig run\n",
        stderr);
}

static int set_pdeath(int sig, pid_t parent) {
#if defined(__linux__) && defined(PR_SET_PDEATHSIG)
  if (prctl(PR_SET_PDEATHSIG, sig, 0, 0, 0) < 0) return -1;
  /* The parent may have died before the call: then nothing would come. */
  if (getppid() != parent) kill(getpid(), sig);
  return 0;
#else
  (void)sig, (void)parent;
  errno = ENOSYS;
  return -1;
#endif
}

/* Takes every catchable signal but SIGCHLD (reaped, not forwarded) and the
 * terminal's SIGTTIN/SIGTTOU, which the supervisor ignores as tini does: it is
 * never in the foreground while CMD runs, and it may tcsetpgrp(). The fault
 * signals keep their default action, so a real fault still ends it. */
static int watch_signals(void) {
  int *sigs, n = cli_all_signals(&sigs);
  if (n < 0) return n;
  int r = 0;
  for (int i = 0; i < n && r == 0; i++) {
    int s = sigs[i];
    if (s == SIGCHLD || s == SIGTTIN || s == SIGTTOU) continue;
    r = xsig_watch(NULL, s, forward, NULL, 0, NULL);
    if (r == XSIG_ENOTSUP || r == XSIG_EFAULTSIG) r = 0;
    if (r < 0) fprintf(stderr, "xsig run: cannot watch %s: %s\n", xsig_name(s), xsig_strerror(r));
  }
  free(sigs);
  if (r == 0) r = xsig_watch(NULL, SIGCHLD, on_child, NULL, 0, NULL);
  if (r == 0) r = xsig_ignore(SIGTTIN);
  if (r == 0) r = xsig_ignore(SIGTTOU);
  return r;
}

static void save_dispositions(void) {
  for (int s = 1; s < RUN_NSIG; s++)
    S.have_orig[s] = s != SIGKILL && s != SIGSTOP && sigaction(s, NULL, &S.orig[s]) == 0;
}

/* The child, between fork and exec: async-signal-safe calls only. Every
 * signal is blocked here (see spawn), so one sent to CMD meanwhile waits for
 * CMD's own dispositions and mask. */
static void child(char **argv, int errfd, int take_tty) {
  setpgid(0, 0);
  /* SIGTTOU is still ignored here, so a background caller cannot stop us. */
  if (take_tty) tcsetpgrp(STDIN_FILENO, getpgrp());
  for (int s = 1; s < RUN_NSIG; s++)
    if (S.have_orig[s]) sigaction(s, &S.orig[s], NULL);
  sigprocmask(SIG_SETMASK, &S.orig_mask, NULL);
  execvp(argv[0], argv);
  int e = errno;
  ssize_t w = write(errfd, &e, sizeof e);
  (void)w;
  /* As a shell: 127 when there is no such file, 126 when it cannot run. */
  _exit(e == ENOENT || e == ENOTDIR ? 127 : 126);
}

static int spawn(char **argv) {
  int p[2];
  if (pipe(p) < 0) return -1;
  fcntl(p[0], F_SETFD, FD_CLOEXEC);
  fcntl(p[1], F_SETFD, FD_CLOEXEC);
  int take_tty = isatty(STDIN_FILENO) && tcgetpgrp(STDIN_FILENO) == getpgrp();
  sigset_t all, old;
  sigfillset(&all);
  sigprocmask(SIG_BLOCK, &all, &old);
  pid_t pid = fork();
  if (pid == 0) {
    close(p[0]);
    child(argv, p[1], take_tty);
  }
  int e = errno;
  if (pid > 0) setpgid(pid, pid); /* both sides, so neither order races */
  sigprocmask(SIG_SETMASK, &old, NULL);
  close(p[1]);
  if (pid < 0) {
    close(p[0]);
    errno = e;
    return -1;
  }
  S.child = pid;
  int err;
  ssize_t got;
  do got = read(p[0], &err, sizeof err);
  while (got < 0 && errno == EINTR);
  close(p[0]);
  if (got == (ssize_t)sizeof err)
    fprintf(stderr, "xsig run: cannot run '%s': %s\n", argv[0], strerror(err));
  else
    say("started %s as pid %ld", argv[0], (long)pid);
  return take_tty;
}

static int exit_status(void) {
  int st = S.status;
  int code = WIFEXITED(st) ? WEXITSTATUS(st) : WIFSIGNALED(st) ? 128 + WTERMSIG(st) : 1;
  return run_map_status(S.o, code & 255);
}

static int loop(void) {
  while (!S.done) {
    int timeout = -1;
    if (S.deadline_ms >= 0 && !S.killed) {
      int64_t left = S.deadline_ms - now_ms();
      if (left <= 0) {
        kill_group("grace ran out");
        continue;
      }
      timeout = left > INT_MAX ? INT_MAX : (int)left;
    }
    int r = xsig_wait(NULL, timeout);
    if (r < 0) return r;
  }
  return 0;
}

int run_supervise(const struct run_opts *o) {
  /* As early as can be: a parent gone before the prctl is seen by the pid. */
  pid_t parent = getppid();
  S.o = o;
  S.deadline_ms = -1;
  if (o->service)
    return cli_fail(EXIT_USAGE, "run", "%s", "--service is for Windows services only");
  sigprocmask(SIG_SETMASK, NULL, &S.orig_mask);
  save_dispositions();
  int r = xsig_init();
  if (r == 0) r = watch_signals();
  if (r < 0) return cli_fail(EXIT_FAILED, "run", "cannot take the signals: %s", xsig_strerror(r));
  /* Blocked signals would never reach the supervisor; CMD gets the mask back. */
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  if (o->pdeath && set_pdeath(o->pdeath, parent) < 0)
    return cli_fail(EXIT_USAGE, "run", "--pdeath: %s", strerror(errno));
  become_reaper();
  int take_tty = spawn(o->argv);
  if (take_tty < 0) return cli_fail(EXIT_FAILED, "run", "cannot fork: %s", strerror(errno));
  reap_all();
  r = loop();
  if (r < 0) return cli_fail(EXIT_FAILED, "run", "waiting: %s", xsig_strerror(r));
  /* The terminal goes back to the group the caller's shell knows. */
  if (take_tty) tcsetpgrp(STDIN_FILENO, getpgrp());
  int code = exit_status();
  say("%s exited; status %ld", o->argv[0], (long)code);
  xsig_shutdown();
  return code;
}
