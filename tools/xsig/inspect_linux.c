/* xsig inspect on Linux: /proc/PID/status for the process-wide facts (SigCgt,
 * SigIgn, ShdPnd, NSpid) and /proc/PID/task/TID/status for each thread's mask
 * (SigBlk) and its own pending set (SigPnd). */
#include "cli.h"
#include "inspect.h"
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int os_error(int e) {
  if (e == ENOENT || e == ESRCH) return XSIG_ESRCH;
  if (e == EACCES || e == EPERM) return XSIG_EPERM;
  return XSIG_ESYS;
}

/* A mask as the kernel writes it: hex, most significant digit first. */
static void parse_mask(const char *s, sigbits_t *b) {
  memset(b, 0, sizeof *b);
  const char *end = s;
  while ((*end >= '0' && *end <= '9') || (*end >= 'a' && *end <= 'f')) end++;
  int bit = 0;
  for (const char *p = end; p > s && bit < INSPECT_NSIG; bit += 4) {
    char c = *--p;
    uint64_t v = (uint64_t)(c <= '9' ? c - '0' : c - 'a' + 10);
    b->w[bit / 64] |= v << (bit % 64);
  }
}

/* Calls fn for each "Key:\tvalue" line of a status file. */
static int read_status(const char *path, void (*fn)(const char *key, const char *val, void *u),
                       void *u) {
  FILE *f = fopen(path, "r");
  if (!f) return os_error(errno);
  char line[4096];
  while (fgets(line, sizeof line, f)) {
    char *colon = strchr(line, ':');
    if (!colon) continue;
    *colon = '\0';
    char *v = colon + 1;
    while (*v == ' ' || *v == '\t') v++;
    v[strcspn(v, "\n")] = '\0';
    fn(line, v, u);
  }
  /* A task that ends after the open fails the read (ESRCH): what was read
   * is then nothing, not the task's state. */
  int e = ferror(f) ? errno : 0;
  fclose(f);
  return e ? os_error(e) : 0;
}

static void process_line(const char *key, const char *val, void *u) {
  struct inspect_facts *f = u;
  if (strcmp(key, "Name") == 0) {
    snprintf(f->name, sizeof f->name, "%s", val);
  } else if (strcmp(key, "NSpid") == 0) {
    const char *last = strrchr(val, '\t');
    f->ns_pid = strtol(last ? last + 1 : val, NULL, 10);
  } else if (strcmp(key, "SigCgt") == 0) {
    parse_mask(val, &f->caught);
  } else if (strcmp(key, "SigIgn") == 0) {
    parse_mask(val, &f->ignored);
  } else if (strcmp(key, "ShdPnd") == 0) {
    parse_mask(val, &f->shared_pending);
    f->masks = 1;
  }
}

/* A task past the point where the kernel lets its signal state go still has
 * a status file, with zero masks and "Threads:\t0": it is left out as gone. */
struct thread_read {
  struct inspect_thread *t;
  int gone;
};

static void thread_line(const char *key, const char *val, void *u) {
  struct thread_read *r = u;
  if (strcmp(key, "SigBlk") == 0)
    parse_mask(val, &r->t->blocked);
  else if (strcmp(key, "SigPnd") == 0)
    parse_mask(val, &r->t->pending);
  else if (strcmp(key, "Threads") == 0)
    r->gone = strcmp(val, "0") == 0;
}

static int read_threads(long pid, struct inspect_facts *f) {
  char path[96];
  snprintf(path, sizeof path, "/proc/%ld/task", pid);
  DIR *d = opendir(path);
  if (!d) return os_error(errno);
  int cap = 0;
  struct dirent *e;
  while ((e = readdir(d))) {
    long tid = strtol(e->d_name, NULL, 10);
    if (tid <= 0) continue;
    if (f->nthreads == cap) {
      cap = cap ? cap * 2 : 8;
      void *p = realloc(f->threads, (size_t)cap * sizeof *f->threads);
      if (!p) break;
      f->threads = p;
    }
    struct inspect_thread *t = &f->threads[f->nthreads];
    memset(t, 0, sizeof *t);
    t->tid = tid;
    snprintf(path, sizeof path, "/proc/%ld/task/%ld/status", pid, tid);
    /* A thread that ended meanwhile is left out. */
    struct thread_read tr = {t, 0};
    if (read_status(path, thread_line, &tr) == 0 && !tr.gone) f->nthreads++;
  }
  closedir(d);
  f->threads_known = f->nthreads > 0;
  return 0;
}

/* The name as the process has it: status's Name line doubles a backslash and
 * writes a newline as "\\n", so a name with them cannot be told from one
 * spelled that way; comm holds the bytes themselves, then one newline. */
static void read_comm(long pid, struct inspect_facts *f) {
  char path[64], buf[sizeof f->name];
  snprintf(path, sizeof path, "/proc/%ld/comm", pid);
  FILE *c = fopen(path, "r");
  if (!c) return;
  size_t n = fread(buf, 1, sizeof buf - 1, c);
  fclose(c);
  if (n == 0 || buf[n - 1] != '\n') return; /* ended meanwhile: keep status's */
  buf[n - 1] = '\0';
  memcpy(f->name, buf, n);
}

int inspect_os(long pid, struct inspect_facts *f) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%ld/status", pid);
  int r = read_status(path, process_line, f);
  if (r < 0) return r;
  if (!f->masks) return XSIG_ESYS; /* not a Linux status file we know */
  read_comm(pid, f);
  return read_threads(pid, f);
}
