/* The core semantics with real signals, in plain C: GoogleTest cannot link
 * against musl, and this one program runs everywhere ci/test-ports.sh builds
 * (musl, aarch64 and i686 under qemu-user, __linux__ undefined).
 *
 *   portable_test [--cli PATH] [--emu PROGRAM] [--expect-wait fast|portable]
 *
 * --cli runs the xsig command line end to end (through --emu, a qemu-user
 * binary, when it is a foreign one); --expect-wait fails the run unless that
 * wait path is the one that ran. Exit status 0 when every check passed; each
 * failure prints a line saying what was expected. */
#define _GNU_SOURCE /* REG_RIP and friends in <ucontext.h> */
#include "xsig/xsig.h"
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

/* Generous: qemu-user on a loaded 2-core box is slow. Every wait ends as soon
 * as what it waits for has happened. */
#define LONG_MS 60000

static int failures;
static const char *cli, *emu, *expect_wait;

static void check(int ok, int line, const char *fmt, ...) {
  if (ok) return;
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "FAIL (line %d): ", line);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
  failures++;
}
#define CHECK(ok, ...) check(!!(ok), __LINE__, __VA_ARGS__)

static uint64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void pause_ms(int ms) { /* only to let another process get somewhere first */
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
  }
}

struct rec {
  int calls;
  uint64_t total; /* sum of ev->count */
  int64_t pid;    /* sender of the latest event */
  xsig_source_t source;
};

static void on_event(const xsig_event_t *ev, void *user) {
  struct rec *r = user;
  r->calls++;
  r->total += ev->count;
  r->pid = ev->sender_pid;
  r->source = ev->source;
}

/* Dispatches until r->total reaches want or the time is up. */
static void wait_total(xsig_ctx_t *c, struct rec *r, uint64_t want, int ms) {
  uint64_t end = now_ms() + (uint64_t)ms;
  while (r->total < want && now_ms() < end) xsig_wait(c, 100);
}

/* Waits for a child while dispatching; returns its exit status or -1. */
static int reap(xsig_ctx_t *c, pid_t pid) {
  uint64_t end = now_ms() + LONG_MS;
  int st;
  while (now_ms() < end) {
    pid_t r = waitpid(pid, &st, WNOHANG);
    if (r == pid) return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    if (r < 0 && errno != EINTR) return -1;
    if (c)
      xsig_wait(c, 20);
    else
      pause_ms(5);
  }
  kill(pid, SIGKILL);
  waitpid(pid, &st, 0);
  return -1;
}

/* ---------------------------------------------------------------- names */

static void test_names(void) {
  CHECK(xsig_name(SIGTERM) && strcmp(xsig_name(SIGTERM), "SIGTERM") == 0, "xsig_name(SIGTERM)");
  CHECK(xsig_from_name("term") == SIGTERM, "xsig_from_name(\"term\") is %d",
        xsig_from_name("term"));
  CHECK(xsig_from_name("NOSUCH") == XSIG_EINVAL, "xsig_from_name(\"NOSUCH\") is not XSIG_EINVAL");
#ifdef SIGRTMIN
  /* The realtime range is there, whole: a size taken from NSIG in a strict
   * build (32) made it vanish. */
  CHECK(xsig_has(XSIG_FEAT_QUEUED), "no realtime signals (XSIG_FEAT_QUEUED is 0)");
  CHECK(xsig_from_name("SIGRTMIN+1") == SIGRTMIN + 1,
        "xsig_from_name(\"SIGRTMIN+1\") is %d, not %d", xsig_from_name("SIGRTMIN+1"), SIGRTMIN + 1);
  CHECK(xsig_name(SIGRTMAX) != NULL, "xsig_name(SIGRTMAX=%d) is NULL", SIGRTMAX);
  int all[256], n = xsig_signals(all, 256), has_max = 0;
  for (int i = 0; i < n && i < 256; i++) has_max |= all[i] == SIGRTMAX;
  CHECK(has_max, "xsig_signals() lacks SIGRTMAX (%d signals listed)", n);
  CHECK(xsig_feed(SIGRTMAX + 1) == XSIG_EINVAL, "xsig_feed(SIGRTMAX + 1) is accepted");
#endif
  CHECK(xsig_feed(0) == XSIG_EINVAL, "xsig_feed(0) is accepted");
}

/* ---------------------------------------------------------------- deliveries */

static void test_self_and_child(xsig_ctx_t *c) {
  struct rec r = {0};
  xsig_watch_t *w;
  CHECK(xsig_watch(c, SIGUSR1, on_event, &r, 0, &w) == 0, "watch SIGUSR1");
  /* kill(): POSIX says its SI_USER carries the sender's pid. (Any signal
   * arrives without siginfo, si_pid 0, while the user's queue of pending
   * signals, RLIMIT_SIGPENDING, is full: the sender checks then fail.) */
  kill(getpid(), SIGUSR1);
  wait_total(c, &r, 1, LONG_MS);
  CHECK(r.calls == 1 && r.total == 1, "self: %d callbacks, count %llu (want 1, 1)", r.calls,
        (unsigned long long)r.total);
  CHECK(r.pid == getpid(), "self: sender %lld, not our pid %d", (long long)r.pid, (int)getpid());
  CHECK(r.source == XSIG_SRC_KERNEL, "self: source %d, not XSIG_SRC_KERNEL", (int)r.source);

  pid_t child = fork();
  if (child == 0) {
    kill(getppid(), SIGUSR1);
    _exit(0);
  }
  wait_total(c, &r, 2, LONG_MS);
  CHECK(r.total == 2, "child: count %llu, want 2", (unsigned long long)r.total);
  CHECK(r.pid == child, "child: sender %lld, not the child %d", (long long)r.pid, (int)child);
  CHECK(reap(c, child) == 0, "child did not exit 0");
  xsig_unwatch(w);
}

/* A child queues n realtime signals; every one is counted. */
static void test_realtime_exact(xsig_ctx_t *c) {
#ifdef SIGRTMIN
  enum { N = 1000 };
  int sig = SIGRTMIN + 1;
  struct rec r = {0};
  xsig_watch_t *w;
  CHECK(xsig_watch(c, sig, on_event, &r, 0, &w) == 0, "watch SIGRTMIN+1");
  pid_t child = fork();
  if (child == 0) {
    union sigval v = {0};
    for (int i = 0; i < N; i++) {
      v.sival_int = i;
      /* A full queue (RLIMIT_SIGPENDING) is the receiver's backlog: retry. */
      while (sigqueue(getppid(), sig, v) < 0)
        if (errno == EAGAIN)
          pause_ms(1);
        else
          _exit(1);
    }
    _exit(0);
  }
  wait_total(c, &r, N, LONG_MS);
  int st = reap(c, child);
  xsig_wait(c, 50); /* one more look: no delivery beyond N may show up */
  CHECK(st == 0, "realtime sender exited %d", st);
  CHECK(r.total == N, "realtime: counted %llu of %d sigqueue()s", (unsigned long long)r.total, N);
  CHECK(r.pid == child, "realtime: sender %lld, not %d", (long long)r.pid, (int)child);
  printf("realtime: %d sigqueue(SIGRTMIN+1) from a child, %llu counted in %d callbacks\n", N,
         (unsigned long long)r.total, r.calls);
  xsig_unwatch(w);
#else
  (void)c;
  printf("realtime: this system has no SIGRTMIN\n");
#endif
}

/* Standard signals fold: at least one callback, never more deliveries than
 * sends, and nothing left pending after the sender is gone. */
static void test_standard_fold(xsig_ctx_t *c) {
  enum { N = 500 };
  struct rec r = {0};
  xsig_watch_t *w;
  CHECK(xsig_watch(c, SIGUSR2, on_event, &r, 0, &w) == 0, "watch SIGUSR2");
  pid_t child = fork();
  if (child == 0) {
    for (int i = 0; i < N; i++) kill(getppid(), SIGUSR2);
    _exit(0);
  }
  CHECK(reap(c, child) == 0, "fold sender did not exit 0");
  /* Every kill() had made the signal pending here before it returned. */
  wait_total(c, &r, 1, LONG_MS);
  xsig_wait(c, 50);
  CHECK(r.total >= 1 && r.total <= N, "fold: counted %llu of %d kill()s",
        (unsigned long long)r.total, N);
  CHECK(xsig_pending(c, SIGUSR2) == 0, "fold: %u still pending", xsig_pending(c, SIGUSR2));
  printf("fold: %d kill(SIGUSR2) from a child, %llu counted in %d callbacks\n", N,
         (unsigned long long)r.total, r.calls);
  xsig_unwatch(w);
}

/* After fork the child's context works on its own, and the parent's does not
 * see the child's signals. */
static void test_fork_child(xsig_ctx_t *c) {
  struct rec r = {0};
  xsig_watch_t *w;
  CHECK(xsig_watch(c, SIGUSR1, on_event, &r, 0, &w) == 0, "watch SIGUSR1 before fork");
  pid_t child = fork();
  if (child == 0) {
    kill(getpid(), SIGUSR1);
    wait_total(c, &r, 1, LONG_MS);
    int ok = r.total == 1 && r.pid == getpid();
    struct pollfd p = {xsig_wakeup_handle(c), POLLIN, 0};
    ok = ok && p.fd >= 0 && poll(&p, 1, 0) == 0; /* nothing left to read */
    _exit(ok ? 0 : 1);
  }
  CHECK(reap(c, child) == 0, "fork child: its own watch did not see its own signal");
  xsig_wait(c, 20);
  CHECK(r.total == 0, "fork: the parent counted the child's signal (%llu)",
        (unsigned long long)r.total);
  xsig_unwatch(w);
}

/* ---------------------------------------------------------------- restore */

static volatile sig_atomic_t marker_calls;
static void marker(int sig) {
  (void)sig;
  marker_calls++;
}

static void (*handler_of(int sig))(int) {
  struct sigaction cur;
  sigaction(sig, NULL, &cur);
  return cur.sa_handler;
}

static void test_restore(xsig_ctx_t *c) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = marker;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGHUP, &sa, NULL);
  struct rec r = {0};
  xsig_watch_t *w;
  CHECK(xsig_watch(c, SIGHUP, on_event, &r, 0, &w) == 0, "watch SIGHUP");
  CHECK(xsig_disposition(SIGHUP) == XSIG_DISP_XSIG, "SIGHUP is not xsig's while watched");
  raise(SIGHUP);
  wait_total(c, &r, 1, LONG_MS);
  CHECK(r.total == 1 && marker_calls == 1, "SIGHUP: callback count %llu, previous handler ran %d",
        (unsigned long long)r.total, (int)marker_calls);
  xsig_unwatch(w);
  CHECK(handler_of(SIGHUP) == marker, "unwatch did not put the previous SIGHUP handler back");

  /* The default context: xsig_shutdown puts SIG_DFL back. */
  signal(SIGWINCH, SIG_DFL);
  CHECK(xsig_init() == 0, "xsig_init");
  CHECK(xsig_watch(NULL, SIGWINCH, on_event, &r, 0, NULL) == 0, "watch SIGWINCH");
  CHECK(handler_of(SIGWINCH) != SIG_DFL, "SIGWINCH still SIG_DFL while watched");
  xsig_shutdown();
  CHECK(handler_of(SIGWINCH) == SIG_DFL, "xsig_shutdown did not put SIG_DFL back on SIGWINCH");
}

/* ---------------------------------------------------------------- wait path */

/* src/posix/wakeup.c: the fast wait is an assembly ppoll ending at this
 * label, built on x86-64 and aarch64 Linux outside ThreadSanitizer. A weak
 * reference: absent when the library has the portable poll() only. */
extern const char xsig__posix_ppoll_end[] __attribute__((weak));
static volatile uintptr_t seen_pc;

static uintptr_t pc_of(void *uc) {
  ucontext_t *u = uc;
  (void)u;
#if defined(__x86_64__) && defined(REG_RIP)
  return (uintptr_t)u->uc_mcontext.gregs[REG_RIP];
#elif defined(__i386__) && defined(REG_EIP)
  return (uintptr_t)u->uc_mcontext.gregs[REG_EIP];
#elif defined(__aarch64__)
  return (uintptr_t)u->uc_mcontext.pc;
#else
  return 0;
#endif
}

/* Installed before xsig's, which chains to it with the interrupted context:
 * the program counter there says which wait the signal interrupted. */
static void observer(int sig, siginfo_t *info, void *uc) {
  (void)sig, (void)info;
  seen_pc = pc_of(uc);
}

static void test_wait_path(xsig_ctx_t *c) {
  int built = xsig__posix_ppoll_end != NULL, hits = 0, rounds = 0;
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = observer;
  sa.sa_flags = SA_SIGINFO;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGURG, &sa, NULL);
  struct rec r = {0};
  xsig_watch_t *w;
  CHECK(xsig_watch(c, SIGURG, on_event, &r, 0, &w) == 0, "watch SIGURG");
  /* The child signals once this process is (very likely) blocked in the
   * wait; a round whose signal came too early just goes again. Without the
   * fast path one round shows that the portable wait is woken. */
  for (int delay = 50; rounds < (built ? 8 : 1) && !hits; rounds++, delay *= 2) {
    seen_pc = 0;
    pid_t child = fork();
    if (child == 0) {
      pause_ms(delay);
      kill(getppid(), SIGURG);
      _exit(0);
    }
    uint64_t want = r.total + 1;
    wait_total(c, &r, want, LONG_MS);
    CHECK(r.total == want, "wait path: the signal of round %d never arrived", rounds);
    if (built && seen_pc == (uintptr_t)xsig__posix_ppoll_end) hits++;
    reap(NULL, child);
  }
  xsig_unwatch(w);
  signal(SIGURG, SIG_DFL);
  const char *path = built && hits ? "fast" : "portable";
  if (built && hits)
    printf("wait path: fast asm ppoll (the signal interrupted xsig__posix_ppoll_end, round %d)\n",
           rounds);
  else if (built)
    printf("wait path: fast path built, but no signal of %d rounds interrupted it\n", rounds);
  else
    printf("wait path: portable poll() (no fast path in this build)\n");
  if (expect_wait)
    CHECK(strcmp(expect_wait, path) == 0, "wait path: expected %s, ran %s", expect_wait, path);
}

/* ---------------------------------------------------------------- the CLI */

/* Runs [emu] cli args... with stdout and stderr on pipes. */
static pid_t spawn(const char *const *args, int *out, int *err) {
  int po[2], pe[2];
  if (pipe(po) < 0 || pipe(pe) < 0) return -1;
  pid_t pid = fork();
  if (pid == 0) {
    const char *argv[16];
    int n = 0;
    if (emu) argv[n++] = emu;
    argv[n++] = cli;
    for (int i = 0; args[i] && n < 15; i++) argv[n++] = args[i];
    argv[n] = NULL;
    dup2(po[1], 1);
    dup2(pe[1], 2);
    close(po[0]), close(po[1]), close(pe[0]), close(pe[1]);
    execvp(argv[0], (char *const *)argv);
    _exit(127);
  }
  close(po[1]), close(pe[1]);
  *out = po[0];
  *err = pe[0];
  return pid;
}

/* Reads fd until `until` appears (NULL: until EOF) or the time is up. */
static void slurp(int fd, char *buf, size_t cap, const char *until) {
  size_t n = strlen(buf);
  uint64_t end = now_ms() + LONG_MS;
  while (n + 1 < cap && now_ms() < end && !(until && strstr(buf, until))) {
    struct pollfd p = {fd, POLLIN, 0};
    if (poll(&p, 1, 100) <= 0) continue;
    ssize_t k = read(fd, buf + n, cap - 1 - n);
    if (k <= 0) break;
    n += (size_t)k;
    buf[n] = '\0';
  }
}

/* Runs the CLI to the end; returns its exit status, output in out. */
static int run_cli(const char *const *args, char *out, size_t cap) {
  int o, e;
  char err[4096] = ""; /* read so that the CLI never blocks on a full pipe */
  out[0] = '\0';
  pid_t pid = spawn(args, &o, &e);
  if (pid < 0) return -1;
  slurp(o, out, cap, NULL);
  slurp(e, err, sizeof err, NULL);
  close(o), close(e);
  return reap(NULL, pid);
}

static void test_cli(void) {
  static char out[65536];
  char pidbuf[32], line[64];
  const char *list[] = {"list", NULL}, *names[] = {"names", NULL};
  CHECK(run_cli(list, out, sizeof out) == 0, "xsig list failed");
  CHECK(strstr(out, "SIGTERM") && strstr(out, " 15 "), "xsig list lacks SIGTERM 15:\n%s", out);
#ifdef SIGRTMIN
  CHECK(strstr(out, "SIGRTMAX") != NULL, "xsig list lacks the realtime range");
#endif
  CHECK(run_cli(names, out, sizeof out) == 0, "xsig names failed");
  CHECK(strstr(out, " 15 SIGTERM\n") != NULL, "xsig names lacks '15 SIGTERM':\n%s", out);

  /* wait, with a sender: the waiter says when it watches, then `xsig send`
   * signals it, and the waiter names that sender. */
  const char *wait_args[] = {"wait", "USR1", "--timeout", "60", NULL};
  int o, e;
  char wout[512] = "", werr[512] = "";
  pid_t waiter = spawn(wait_args, &o, &e);
  slurp(e, werr, sizeof werr, ")");
  CHECK(strstr(werr, "waiting for SIGUSR1") != NULL, "xsig wait did not say it waits: '%s'", werr);
  snprintf(pidbuf, sizeof pidbuf, "%d", (int)waiter);
  const char *send_args[] = {"send", pidbuf, "USR1", NULL};
  int so, se;
  pid_t sender = spawn(send_args, &so, &se);
  CHECK(reap(NULL, sender) == 0, "xsig send %s USR1 failed", pidbuf);
  close(so), close(se);
  slurp(o, wout, sizeof wout, NULL);
  CHECK(reap(NULL, waiter) == 0, "xsig wait did not exit 0");
  snprintf(line, sizeof line, "SIGUSR1 from pid %d\n", (int)sender);
  CHECK(strstr(wout, line) != NULL, "xsig wait printed '%s', want '%s'", wout, line);
  close(o), close(e);

  const char *timeout_args[] = {"wait", "USR2", "--timeout", "0.2", NULL};
  CHECK(run_cli(timeout_args, out, sizeof out) == 124, "xsig wait --timeout 0.2 did not exit 124");
  const char *bad_args[] = {"send", "1", "NOSUCH", NULL};
  CHECK(run_cli(bad_args, out, sizeof out) == 2, "xsig send with a bad signal did not exit 2");
  printf("cli: list, names, wait with a sender (xsig send), --timeout 124, bad usage 2\n");
}

/* Linux: a full queue of pending signals for this user (another program's
 * flood) strips every signal's siginfo; say so before the checks fail. */
static void note_sigqueue(void) {
  FILE *f = fopen("/proc/self/status", "r");
  char line[128];
  unsigned long used, max;
  if (!f) return;
  while (fgets(line, sizeof line, f))
    if (sscanf(line, "SigQ: %lu/%lu", &used, &max) == 2 && used >= max)
      printf("note: this user's pending-signal queue is full (SigQ %lu/%lu): signals may arrive "
             "without a sender, sigqueue() may fail for a while\n",
             used, max);
  fclose(f);
}

int main(int argc, char **argv) {
  for (int i = 1; i + 1 < argc; i += 2) {
    if (strcmp(argv[i], "--cli") == 0)
      cli = argv[i + 1];
    else if (strcmp(argv[i], "--emu") == 0)
      emu = argv[i + 1];
    else if (strcmp(argv[i], "--expect-wait") == 0)
      expect_wait = argv[i + 1];
    else {
      fprintf(stderr, "usage: %s [--cli PATH] [--emu PROGRAM] [--expect-wait fast|portable]\n",
              argv[0]);
      return 2;
    }
  }
  setvbuf(stdout, NULL, _IONBF, 0);
  printf("platform: %s\n", xsig_platform());
  note_sigqueue();
  xsig_ctx_t *c;
  if (xsig_ctx_new(&c) != 0) {
    fprintf(stderr, "FAIL: xsig_ctx_new\n");
    return 1;
  }
  uint64_t t0 = now_ms();
  test_names();
  test_self_and_child(c);
  test_realtime_exact(c);
  test_standard_fold(c);
  test_fork_child(c);
  test_restore(c);
  test_wait_path(c);
  xsig_ctx_free(c);
  if (cli) test_cli();
  printf("%s: %d failure(s), %llu ms\n", failures ? "FAILED" : "passed", failures,
         (unsigned long long)(now_ms() - t0));
  return failures ? 1 : 0;
}
