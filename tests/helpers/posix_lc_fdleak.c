/* Child program: xsig_graceful_start while fcntl(F_SETFD) fails, as under a
 * seccomp filter that refuses it. This program's own fcntl() stands in for the
 * C library's (libxsig is linked into it, so its calls come here) and fails
 * F_SETFD while armed. Prints one line:
 *
 *   start <result> failures <F_SETFD calls failed> leaked <descriptors left open> */
#define _GNU_SOURCE /* RTLD_NEXT */
#include "xsig/lifecycle.h"
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

static int armed, failures;

static int real_fcntl(int fd, int cmd, void *arg) {
  static int (*real)(int, int, ...);
  if (!real) real = (int (*)(int, int, ...))dlsym(RTLD_NEXT, "fcntl");
  return real(fd, cmd, arg);
}

int fcntl(int fd, int cmd, ...) {
  va_list ap;
  va_start(ap, cmd);
  void *arg = va_arg(ap, void *); /* as the C library reads it: int or pointer */
  va_end(ap);
  if (armed && cmd == F_SETFD) {
    failures++;
    errno = EPERM;
    return -1;
  }
  return real_fcntl(fd, cmd, arg);
}

static int open_descriptors(void) {
  int n = 0;
  for (int fd = 0; fd < 1024; fd++) n += real_fcntl(fd, F_GETFD, NULL) != -1;
  return n;
}

int main(void) {
  if (xsig_init() < 0) return 98;
  int before = open_descriptors();
  armed = 1;
  int r = xsig_graceful_start(NULL, NULL);
  armed = 0;
  if (r == 0) xsig_graceful_stop();
  printf("start %d failures %d leaked %d\n", r, failures, open_descriptors() - before);
  xsig_shutdown();
  return 0;
}
