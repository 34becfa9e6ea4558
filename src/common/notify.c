/* sd_notify without libsystemd: one datagram per message to $NOTIFY_SOCKET.
 * The protocol is only spoken on Linux; elsewhere every call reports "no socket". */
#include "xsig_int.h"
#include "notify_int.h"
#include "xsig/lifecycle.h"
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef __linux__
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#endif

#ifdef __linux__
/* Fills addr from a $NOTIFY_SOCKET value: 1 ready, 0 unset, negative when
 * unusable. Pure, so tests/fuzz/fuzz_notify.c can call it with any bytes. */
int xsig__notify_addr(const char *e, struct sockaddr_un *addr, socklen_t *len) {
  if (!e || !*e) return 0;
  size_t n = strlen(e);
  if ((e[0] != '/' && e[0] != '@') || n < 2) return XSIG_EINVAL;
  /* A path needs its terminating NUL; an abstract name does not have one. */
  if (n > sizeof addr->sun_path - (e[0] == '/')) return XSIG_EINVAL;
  memset(addr, 0, sizeof *addr);
  addr->sun_family = AF_UNIX;
  memcpy(addr->sun_path, e, n);
  if (e[0] == '@') addr->sun_path[0] = '\0';
  *len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + (e[0] == '/'));
  return 1;
}

int xsig_notify(const char *state) {
  if (!state) return XSIG_EINVAL;
  struct sockaddr_un addr;
  socklen_t len;
  int r = xsig__notify_addr(getenv("NOTIFY_SOCKET"), &addr, &len);
  if (r <= 0) return r;
  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    xsig__set_os_error(errno);
    return XSIG_ESYS;
  }
  ssize_t sent;
  do
    sent = sendto(fd, state, strlen(state), MSG_NOSIGNAL | MSG_DONTWAIT, (struct sockaddr *)&addr,
                  len);
  while (sent < 0 && errno == EINTR);
  r = 1;
  if (sent < 0) {
    xsig__set_os_error(errno);
    r = XSIG_ESYS;
  }
  close(fd);
  return r;
}

int xsig_notify_reloading(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  unsigned long long us =
      (unsigned long long)ts.tv_sec * 1000000u + (unsigned long long)ts.tv_nsec / 1000u;
  return xsig_notifyf("RELOADING=1\nMONOTONIC_USEC=%llu", us);
}

/* Strict unsigned decimal: systemd's variables have no sign, spaces or suffix. */
int xsig__parse_u64(const char *s, uint64_t *out) {
  uint64_t v = 0;
  if (!s || !*s) return XSIG_EINVAL;
  for (; *s; s++) {
    /* Exact bound: UINT64_MAX itself is taken, one more is refused. */
    if (*s < '0' || *s > '9' || v > (UINT64_MAX - (uint64_t)(*s - '0')) / 10) return XSIG_EINVAL;
    v = v * 10 + (uint64_t)(*s - '0');
  }
  *out = v;
  return 0;
}

/* $WATCHDOG_USEC and $WATCHDOG_PID as this process (self) reads them: 1 and
 * the interval, 0 when no watchdog is asked of this process, negative when
 * unusable. Pure, for the fuzz target. */
int xsig__watchdog_parse(const char *usec_env, const char *pid_env, uint64_t self, uint64_t *usec) {
  uint64_t v, pid;
  *usec = 0;
  if (!usec_env || !*usec_env) return 0;
  if (xsig__parse_u64(usec_env, &v) < 0 || v == 0) return XSIG_EINVAL;
  /* WATCHDOG_PID names the one process of the service that must ping; a child
   * that inherited the environment must not. */
  if (pid_env && *pid_env) {
    if (xsig__parse_u64(pid_env, &pid) < 0 || pid == 0) return XSIG_EINVAL;
    if (pid != self) return 0;
  }
  *usec = v;
  return 1;
}

int xsig_watchdog_interval(uint64_t *usec) {
  uint64_t v;
  int r =
      xsig__watchdog_parse(getenv("WATCHDOG_USEC"), getenv("WATCHDOG_PID"), (uint64_t)getpid(), &v);
  if (usec) *usec = v;
  return r;
}
#else
/* No systemd: the backend may have a manager of its own to tell (the SCM). */
int xsig_notify(const char *state) {
  return state ? xsig__os_notify(state) : XSIG_EINVAL;
}

int xsig_notify_reloading(void) {
  return 0;
}

int xsig_watchdog_interval(uint64_t *usec) {
  if (usec) *usec = 0;
  return 0;
}
#endif

int xsig_notifyf(const char *fmt, ...) {
  if (!fmt) return XSIG_EINVAL;
  char small[512];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(small, sizeof small, fmt, ap);
  va_end(ap);
  if (n < 0) return XSIG_EINVAL;
  if ((size_t)n < sizeof small) return xsig_notify(small);
  char *big = malloc((size_t)n + 1);
  if (!big) return XSIG_ENOMEM;
  va_start(ap, fmt);
  vsnprintf(big, (size_t)n + 1, fmt, ap);
  va_end(ap);
  int r = xsig_notify(big);
  free(big);
  return r;
}

int xsig_notify_ready(void) {
  return xsig_notify("READY=1");
}

int xsig_notify_stopping(void) {
  return xsig_notify("STOPPING=1");
}

int xsig_notify_status(const char *status) {
  if (!status) return XSIG_EINVAL;
  return xsig_notifyf("STATUS=%s", status);
}
