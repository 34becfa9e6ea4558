/* The pure parsers behind $NOTIFY_SOCKET and $WATCHDOG_USEC/$WATCHDOG_PID
 * (notify.c), internal to xsig: named here so the fuzz target
 * tests/fuzz/fuzz_notify.c can call them with any bytes, without an
 * environment or a socket. Linux only, as the protocol is. */
#ifndef XSIG_NOTIFY_INT_H
#define XSIG_NOTIFY_INT_H
#ifdef __linux__
#include <stdint.h>
#include <sys/socket.h>
#include <sys/un.h>

/* Fills addr and len from a $NOTIFY_SOCKET value ("/path" or "@abstract"):
 * 1 ready, 0 unset or empty, XSIG_EINVAL when unusable. */
int xsig__notify_addr(const char *e, struct sockaddr_un *addr, socklen_t *len);
/* Strict unsigned decimal (digits only, no sign or blanks): 0, or XSIG_EINVAL. */
int xsig__parse_u64(const char *s, uint64_t *out);
/* What xsig_watchdog_interval() answers for these variables (NULL: unset) in
 * the process whose pid is self; *usec is 0 unless it returns 1. */
int xsig__watchdog_parse(const char *usec_env, const char *pid_env, uint64_t self, uint64_t *usec);
#endif
#endif
