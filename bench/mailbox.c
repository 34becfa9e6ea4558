/* Windows: the latency of the mailbox, from xsig_send in one process to the
 * callback in another, under Wine or Windows. Build with -DXSIG_BUILD_BENCH=ON
 * for Windows (mingw-w64); run `xsig_bench_mailbox [N]`.
 *
 * The parent starts itself as the target, which watches SIGUSR1 and, in its
 * callback, writes QueryPerformanceCounter (one clock for the whole machine)
 * and a sequence number into memory the two share. The parent sends one
 * signal at a time and waits for its callback, so every sample is one send
 * meeting an idle target, as a stop or reload request would. */
#include "xsig/xsig.h"
#include <windows.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct shared {
  volatile LONG64 at; /* QPC when the callback ran */
  volatile LONG seq;  /* callbacks run */
  volatile LONG ready;
  volatile LONG quit;
};

static struct shared *map(const char *name, int create) {
  HANDLE m = create ? CreateFileMappingA(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0,
                                         sizeof(struct shared), name)
                    : OpenFileMappingA(FILE_MAP_ALL_ACCESS, FALSE, name);
  return m ? MapViewOfFile(m, FILE_MAP_ALL_ACCESS, 0, 0, sizeof(struct shared)) : NULL;
}

static void on_usr1(const xsig_event_t *ev, void *user) {
  struct shared *s = user;
  LARGE_INTEGER now;
  QueryPerformanceCounter(&now);
  s->at = now.QuadPart;
  InterlockedAdd(&s->seq, (LONG)ev->count);
}

static int target(const char *name) {
  struct shared *s = map(name, 0);
  if (!s || xsig_init() < 0 || xsig_watch(NULL, SIGUSR1, on_usr1, s, 0, NULL) < 0) return 1;
  s->ready = 1;
  while (!s->quit) xsig_wait(NULL, 100);
  xsig_shutdown();
  return 0;
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static int wait_for(volatile LONG *v, LONG want, DWORD ms) {
  ULONGLONG end = GetTickCount64() + ms;
  while (*v < want)
    if (GetTickCount64() > end)
      return 0;
    else
      SwitchToThread();
  return 1;
}

int main(int argc, char **argv) {
  if (argc == 3 && strcmp(argv[1], "target") == 0) return target(argv[2]);
  int n = argc > 1 ? atoi(argv[1]) : 2000, warm = 100;
  if (n < 10) n = 10;
  char name[64], self[MAX_PATH], cmd[MAX_PATH + 96];
  snprintf(name, sizeof name, "xsig-bench-%lu", (unsigned long)GetCurrentProcessId());
  struct shared *s = map(name, 1);
  GetModuleFileNameA(NULL, self, sizeof self);
  snprintf(cmd, sizeof cmd, "\"%s\" target %s", self, name);
  STARTUPINFOA si = {sizeof si};
  PROCESS_INFORMATION pi;
  if (!s || !CreateProcessA(NULL, cmd, NULL, NULL, FALSE, 0, NULL, NULL, &si, &pi) ||
      !wait_for(&s->ready, 1, 30000)) {
    fprintf(stderr, "xsig_bench_mailbox: the target did not start\n");
    return 1;
  }
  LARGE_INTEGER f, t0, t1;
  QueryPerformanceFrequency(&f);
  double *lat = malloc(sizeof *lat * (size_t)n), *ret = malloc(sizeof *ret * (size_t)n);
  int bad = 0;
  for (int i = 0; i < warm + n; i++) {
    LONG before = s->seq;
    QueryPerformanceCounter(&t0);
    int r = xsig_send((int64_t)pi.dwProcessId, SIGUSR1);
    QueryPerformanceCounter(&t1);
    if (r != 0 || !wait_for(&s->seq, before + 1, 10000)) {
      bad++;
      continue;
    }
    if (i >= warm) {
      lat[i - warm] = (double)(s->at - t0.QuadPart) * 1e6 / (double)f.QuadPart;
      ret[i - warm] = (double)(t1.QuadPart - t0.QuadPart) * 1e6 / (double)f.QuadPart;
    }
  }
  s->quit = 1;
  WaitForSingleObject(pi.hProcess, 10000);
  if (bad) {
    fprintf(stderr, "xsig_bench_mailbox: %d sends failed\n", bad);
    return 1;
  }
  qsort(lat, (size_t)n, sizeof *lat, cmp);
  qsort(ret, (size_t)n, sizeof *ret, cmp);
  printf("mailbox, %d sends one at a time (after %d warm-up):\n", n, warm);
  printf("  xsig_send to the target's callback: median %.0f us, p99 %.0f us\n", lat[n / 2],
         lat[n * 99 / 100]);
  printf("  xsig_send's own time (until accepted): median %.0f us, p99 %.0f us\n", ret[n / 2],
         ret[n * 99 / 100]);
  return 0;
}
