/* xsig_bench_init: an init's cost, measured the same way for each init given.
 *
 *   xsig_bench_init N INIT... --      e.g.  N tini -s --   or   N xsig run --
 *
 * Starts "INIT... <self> --child" with a pipe as fd 3, then N times: sends
 * SIGUSR1 to the init and reads the byte the child writes back on receipt
 * (sigwaitinfo, so the child's own time is the same under any init). Prints
 * the forwarding latency (median, 90th and 99th percentiles, in us) and the
 * init's resident memory (VmRSS, VmHWM) from /proc. Linux only; not a test:
 * ci/bench.sh's figures for docs/RUN.md come from here. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long long now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1000000000LL + t.tv_nsec;
}

static int child(void) {
  sigset_t s;
  sigemptyset(&s);
  sigaddset(&s, SIGUSR1);
  sigaddset(&s, SIGTERM);
  sigprocmask(SIG_BLOCK, &s, NULL);
  if (write(3, "r", 1) != 1) return 1;
  for (;;) {
    int sig = sigwaitinfo(&s, NULL);
    if (sig == SIGTERM) return 0;
    if (sig == SIGUSR1 && write(3, "x", 1) != 1) return 1;
  }
}

static int cmp(const void *a, const void *b) {
  long long x = *(const long long *)a, y = *(const long long *)b;
  return x < y ? -1 : x > y;
}

static void rss(pid_t pid, long *now_kb, long *peak_kb) {
  char path[64], line[256];
  snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
  FILE *f = fopen(path, "r");
  *now_kb = *peak_kb = -1;
  if (!f) return;
  while (fgets(line, sizeof line, f)) {
    sscanf(line, "VmRSS: %ld", now_kb);
    sscanf(line, "VmHWM: %ld", peak_kb);
  }
  fclose(f);
}

int main(int argc, char **argv) {
  if (argc == 2 && strcmp(argv[1], "--child") == 0) return child();
  if (argc < 4) {
    fprintf(stderr, "usage: xsig_bench_init N INIT... --\n");
    return 2;
  }
  int n = atoi(argv[1]);
  char **av = calloc((size_t)argc + 2, sizeof *av);
  if (!av) return 1;
  int k = 0;
  for (int i = 2; i < argc; i++) av[k++] = argv[i];
  /* This very program as the child, by its real path (the init execs it). */
  char self[4096];
  ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
  if (len <= 0) return 1;
  self[len] = '\0';
  av[k++] = self;
  av[k++] = "--child";
  int p[2];
  if (pipe(p) < 0) return 1;
  pid_t init = fork();
  if (init == 0) {
    dup2(p[1], 3);
    execvp(av[0], av);
    _exit(127);
  }
  close(p[1]);
  char c;
  if (read(p[0], &c, 1) != 1) return 1;
  long long *lat = calloc((size_t)n, sizeof *lat);
  if (!lat || n <= 0) return 2;
  for (int i = 0; i < n; i++) {
    long long t0 = now_ns();
    kill(init, SIGUSR1);
    if (read(p[0], &c, 1) != 1) return 1;
    lat[i] = now_ns() - t0;
  }
  long kb, peak;
  rss(init, &kb, &peak);
  kill(init, SIGTERM);
  int st;
  waitpid(init, &st, 0);
  qsort(lat, (size_t)n, sizeof *lat, cmp);
  printf("%-14s latency us: median %.1f p90 %.1f p99 %.1f | RSS %ld kB (peak %ld kB)\n", argv[2],
         lat[n / 2] / 1000.0, lat[n * 9 / 10] / 1000.0, lat[n * 99 / 100] / 1000.0, kb, peak);
  return 0;
}
