/* Windows backend, waking side: the loopback socket pair, the wait, clocks,
 * locks, and Winsock's lifetime.
 *
 * A socket rather than an event handle, because event loops on Windows (libuv,
 * libevent, asio, select/WSAPoll code) can all wait on a SOCKET. */
#include "win32_int.h"
#include "../common/xsig_int.h"
#include <ws2tcpip.h>

static int wsa_error(void) {
  xsig__set_os_error(WSAGetLastError());
  return XSIG_ESYS;
}

/* WSAStartup counts its own references: one per engine start. */
int xsig__os_start(void) {
  WSADATA wd;
  int e = WSAStartup(MAKEWORD(2, 2), &wd);
  if (e != 0) {
    xsig__set_os_error(e);
    return XSIG_ESYS;
  }
  return 0;
}

void xsig__os_stop(void) {
  /* The engine stops in xsig_shutdown: a console handler held for close,
   * logoff or shutdown may now return and let Windows end the process. */
  xsig__os_release_held();
  WSACleanup();
}

static SOCKET tcp_socket(void) {
  /* Not inheritable from birth: a CreateProcess in another thread must not
   * hand our wakeup to a child. */
  return WSASocketW(AF_INET, SOCK_STREAM, IPPROTO_TCP, NULL, 0, WSA_FLAG_NO_HANDLE_INHERIT);
}

/* Where the flag above is not honoured (Wine 8, and the socket accept()
 * makes), take inheritance away afterwards. */
static int not_inherited(SOCKET s) {
  return SetHandleInformation((HANDLE)s, HANDLE_FLAG_INHERIT, 0) ? 0 : -1;
}

static int same_addr(const struct sockaddr_in *a, const struct sockaddr_in *b) {
  return a->sin_addr.s_addr == b->sin_addr.s_addr && a->sin_port == b->sin_port;
}

static void close_all(SOCKET *s, int n) {
  for (int i = 0; i < n; i++)
    if (s[i] != INVALID_SOCKET) closesocket(s[i]);
}

/* One attempt: 1 and the pair, 0 when a stranger got in first (retry), or a
 * negative error. */
static int try_pair(SOCKET out[2]) {
  SOCKET s[3] = {INVALID_SOCKET, INVALID_SOCKET, INVALID_SOCKET}; /* listener, rd, wr */
  struct sockaddr_in la = {0}, peer = {0}, mine = {0}, theirs = {0};
  int len, one = 1, r = -1;
  u_long nb = 1;
  la.sin_family = AF_INET;
  la.sin_addr.s_addr = htonl(INADDR_LOOPBACK); /* never INADDR_ANY: no outside peer */
  if ((s[0] = tcp_socket()) == INVALID_SOCKET) goto fail;
  /* Nobody else may bind our port while we listen on it. */
  if (setsockopt(s[0], SOL_SOCKET, SO_EXCLUSIVEADDRUSE, (const char *)&one, sizeof one) ||
      bind(s[0], (struct sockaddr *)&la, sizeof la) || listen(s[0], 1))
    goto fail;
  len = sizeof la;
  if (getsockname(s[0], (struct sockaddr *)&la, &len)) goto fail;
  if ((s[2] = tcp_socket()) == INVALID_SOCKET || connect(s[2], (struct sockaddr *)&la, sizeof la))
    goto fail;
  len = sizeof peer;
  if ((s[1] = accept(s[0], (struct sockaddr *)&peer, &len)) == INVALID_SOCKET) goto fail;
  /* Any local process can connect to the port between listen and accept: the
   * accepted peer must be our connector, seen from both ends. */
  len = sizeof mine;
  if (getsockname(s[2], (struct sockaddr *)&mine, &len)) goto fail;
  len = sizeof theirs;
  if (getpeername(s[2], (struct sockaddr *)&theirs, &len)) goto fail;
  if (!same_addr(&peer, &mine) || !same_addr(&theirs, &la)) {
    close_all(s, 3);
    return 0;
  }
  /* One-byte pokes must not wait for Nagle. */
  if (not_inherited(s[1]) || not_inherited(s[2]) ||
      setsockopt(s[2], IPPROTO_TCP, TCP_NODELAY, (const char *)&one, sizeof one) ||
      ioctlsocket(s[1], FIONBIO, &nb) || ioctlsocket(s[2], FIONBIO, &nb))
    goto fail;
  closesocket(s[0]);
  out[0] = s[1];
  out[1] = s[2];
  return 1;
fail:
  r = wsa_error();
  close_all(s, 3);
  return r;
}

int xsig__os_pair_open(xsig__pair_t *p) {
  SOCKET s[2];
  int r = 0;
  for (int tries = 0; tries < 8 && r == 0; tries++) r = try_pair(s);
  if (r == 0) {
    xsig__set_os_error(WSAEADDRINUSE);
    return XSIG_ESYS;
  }
  if (r < 0) return r;
  p->rd = (intptr_t)s[0];
  p->wr = (intptr_t)s[1];
  return 0;
}

void xsig__os_pair_close(xsig__pair_t *p) {
  if (p->rd != -1) closesocket((SOCKET)p->rd);
  if (p->wr != -1) closesocket((SOCKET)p->wr);
  p->rd = p->wr = -1;
}

void xsig__os_pair_forget(xsig__pair_t *p) {
  xsig__os_pair_close(p); /* no fork on Windows: never called */
}

void xsig__os_pair_drain(xsig__pair_t *p) {
  char buf[256];
  int e = WSAGetLastError();
  while (recv((SOCKET)p->rd, buf, sizeof buf, 0) == (int)sizeof buf) {
  }
  WSASetLastError(e);
}

void xsig__os_pair_poke(intptr_t wr) {
  /* A full buffer (WSAEWOULDBLOCK) means the reader has bytes to wake it. */
  DWORD e = GetLastError();
  send((SOCKET)wr, "", 1, 0);
  SetLastError(e);
}

int xsig__os_wait(xsig_ctx_t *c, int timeout_ms) {
  SOCKET rd = (SOCKET)xsig__ctx_pair(c)->rd;
  fd_set set;
  struct timeval tv, *ptv = NULL;
  /* The socket keeps a poke made after this check, so select still sees it. */
  if (xsig__ctx_has_pending(c)) return 0;
  FD_ZERO(&set);
  FD_SET(rd, &set);
  if (timeout_ms >= 0) {
    tv.tv_sec = timeout_ms / 1000;
    tv.tv_usec = (timeout_ms % 1000) * 1000;
    ptv = &tv;
  }
  int r = select(0, &set, NULL, NULL, ptv);
  if (r == SOCKET_ERROR) return wsa_error();
  return r > 0;
}

uint64_t xsig__os_now_ms(void) {
  return GetTickCount64();
}

void xsig__os_mutex_lock(xsig__mutex_t *m) {
  AcquireSRWLockExclusive(m);
}

void xsig__os_mutex_unlock(xsig__mutex_t *m) {
  ReleaseSRWLockExclusive(m);
}

void xsig__os_cond_wait(xsig__cond_t *c, xsig__mutex_t *m) {
  SleepConditionVariableSRW(c, m, INFINITE, 0);
}

void xsig__os_cond_broadcast(xsig__cond_t *c) {
  WakeAllConditionVariable(c);
}

/* The function travels in a struct: C does not convert function pointers to
 * void *. */
struct once_fn {
  void (*fn)(void);
};

static BOOL CALLBACK run_once(INIT_ONCE *once, void *param, void **ctx) {
  (void)once, (void)ctx;
  ((const struct once_fn *)param)->fn();
  return TRUE;
}

void xsig__os_once(xsig__once_t *once, void (*fn)(void)) {
  struct once_fn box = {fn};
  InitOnceExecuteOnce(once, run_once, &box, NULL);
}
