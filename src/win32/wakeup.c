/* Windows backend, waking side: the loopback socket pair, the wait, clocks,
 * locks, and Winsock's lifetime.
 *
 * A socket rather than an event handle, because event loops on Windows (libuv,
 * libevent, asio, select/WSAPoll code) can all wait on a SOCKET. */
#include "win32_int.h"
#include "../common/xsig_int.h"
#include <mswsock.h>
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

/* A console handler thread held for close, logoff or shutdown stays held:
 * letting it return here would have Windows end the process in the middle of
 * whatever the program does after xsig_shutdown(). */
void xsig__os_stop(void) {
  WSACleanup();
}

xsig__win32_pair_hook_t xsig__win32_pair_hook;

/* Not inheritable from birth: a CreateProcess in another thread must not hand
 * our wakeup to a child. Overlapped, as socket() makes them, because event
 * loops poll sockets with overlapped calls. */
static SOCKET tcp_socket(void) {
  return WSASocketW(AF_INET, SOCK_STREAM, IPPROTO_TCP, NULL, 0,
                    WSA_FLAG_OVERLAPPED | WSA_FLAG_NO_HANDLE_INHERIT);
}

static int same_addr(const struct sockaddr_in *a, const struct sockaddr_in *b) {
  return a->sin_addr.s_addr == b->sin_addr.s_addr && a->sin_port == b->sin_port;
}

/* An abortive close: a graceful one leaves the first closer's port in TIME_WAIT
 * for minutes, one per context ever freed, out of the range every program on
 * the machine shares. Nothing in flight on a wakeup pair is worth keeping. */
static void close_hard(SOCKET s) {
  struct linger l = {1, 0};
  if (s == INVALID_SOCKET) return;
  setsockopt(s, SOL_SOCKET, SO_LINGER, (const char *)&l, sizeof l);
  closesocket(s);
}

static void close_all(SOCKET *s, int n) {
  for (int i = 0; i < n; i++) close_hard(s[i]);
}

/* One attempt may take this long: loopback connects in microseconds, but a
 * stranger can fill the listen backlog, and then our SYN waits for minutes
 * while we hold the engine lock. */
#define TRY_MS  1000u
#define OPEN_MS 4000u

static int wait_connected(SOCKET s, DWORD ms) {
  fd_set wr, ex;
  struct timeval tv = {(long)(ms / 1000), (long)(ms % 1000) * 1000};
  int err = 0, len = sizeof err;
  FD_ZERO(&wr);
  FD_ZERO(&ex);
  FD_SET(s, &wr);
  FD_SET(s, &ex);
  int r = select(0, NULL, &wr, &ex, &tv);
  if (r == SOCKET_ERROR) return -1;
  if (r == 0) return 0;
  if (FD_ISSET(s, &ex) || getsockopt(s, SOL_SOCKET, SO_ERROR, (char *)&err, &len) || err) {
    WSASetLastError(err ? err : WSAECONNREFUSED);
    return -1;
  }
  return 1;
}

static LPFN_ACCEPTEX accept_ex(SOCKET l) {
  GUID id = WSAID_ACCEPTEX;
  LPFN_ACCEPTEX fn = NULL;
  DWORD n;
  if (WSAIoctl(l, SIO_GET_EXTENSION_FUNCTION_POINTER, &id, sizeof id, &fn, sizeof fn, &n, NULL,
               NULL))
    return NULL;
  return fn;
}

/* Says why an attempt is to be made again; the last reason is what a caller
 * sees when every attempt failed. */
static int again(int err) {
  xsig__set_os_error(err);
  return 0;
}

/* One attempt: 1 and the pair, 0 when it should be made again (a stranger got
 * in first, the connect failed, or the connection did not come within ms), or
 * a negative error. The read end is made by us and handed to AcceptEx, so it
 * is never inheritable, not even between accept() and a flag change. */
static int try_pair(SOCKET out[2], DWORD ms) {
  SOCKET s[3] = {INVALID_SOCKET, INVALID_SOCKET, INVALID_SOCKET}; /* listener, rd, wr */
  struct sockaddr_in la = {0}, peer = {0}, mine = {0}, theirs = {0};
  char addrs[2 * (sizeof(struct sockaddr_in) + 16)];
  OVERLAPPED ov = {0};
  LPFN_ACCEPTEX accept_fn;
  int len, one = 1, r = -1, c;
  u_long nb = 1;
  DWORD n, t0 = GetTickCount();
  la.sin_family = AF_INET;
  la.sin_addr.s_addr = htonl(INADDR_LOOPBACK); /* never INADDR_ANY: no outside peer */
  if ((s[0] = tcp_socket()) == INVALID_SOCKET) goto fail;
  /* Nobody else may bind our port while we listen on it. */
  if (setsockopt(s[0], SOL_SOCKET, SO_EXCLUSIVEADDRUSE, (const char *)&one, sizeof one) ||
      bind(s[0], (struct sockaddr *)&la, sizeof la) || listen(s[0], 1))
    goto fail;
  len = sizeof la;
  if (getsockname(s[0], (struct sockaddr *)&la, &len) || !(accept_fn = accept_ex(s[0])) ||
      (s[1] = tcp_socket()) == INVALID_SOCKET || (s[2] = tcp_socket()) == INVALID_SOCKET ||
      !(ov.hEvent = CreateEventW(NULL, TRUE, FALSE, NULL)))
    goto fail;
  if (xsig__win32_pair_hook) xsig__win32_pair_hook(XSIG__PAIR_LISTENING, s[0]);
  if (!accept_fn(s[0], s[1], addrs, 0, sizeof addrs / 2, sizeof addrs / 2, &n, &ov) &&
      WSAGetLastError() != ERROR_IO_PENDING)
    goto fail;
  if (ioctlsocket(s[2], FIONBIO, &nb)) goto cancel;
  if (connect(s[2], (struct sockaddr *)&la, sizeof la) && WSAGetLastError() != WSAEWOULDBLOCK) {
    r = again(WSAGetLastError());
    goto cancel;
  }
  if ((c = wait_connected(s[2], ms)) < 0) {
    r = again(WSAGetLastError());
    goto cancel;
  }
  n = GetTickCount() - t0;
  if (c == 0 || WaitForSingleObject(ov.hEvent, n < ms ? ms - n : 0) != WAIT_OBJECT_0) {
    r = again(WSAETIMEDOUT); /* the backlog was full, or a stranger left it so */
    goto cancel;
  }
  if (!GetOverlappedResult((HANDLE)s[0], &ov, &n, FALSE) ||
      setsockopt(s[1], SOL_SOCKET, SO_UPDATE_ACCEPT_CONTEXT, (const char *)&s[0], sizeof s[0]))
    goto fail;
  if (xsig__win32_pair_hook) xsig__win32_pair_hook(XSIG__PAIR_ACCEPTED, s[1]);
  /* Any local process can connect to the port between listen and accept: the
   * accepted peer must be our connector, seen from both ends. */
  len = sizeof peer;
  if (getpeername(s[1], (struct sockaddr *)&peer, &len)) goto fail;
  len = sizeof mine;
  if (getsockname(s[2], (struct sockaddr *)&mine, &len)) goto fail;
  len = sizeof theirs;
  if (getpeername(s[2], (struct sockaddr *)&theirs, &len)) goto fail;
  if (!same_addr(&peer, &mine) || !same_addr(&theirs, &la)) {
    r = again(WSAEADDRINUSE);
    goto out;
  }
  /* One-byte pokes must not wait for Nagle. */
  if (setsockopt(s[2], IPPROTO_TCP, TCP_NODELAY, (const char *)&one, sizeof one) ||
      ioctlsocket(s[1], FIONBIO, &nb))
    goto fail;
  close_hard(s[0]);
  CloseHandle(ov.hEvent);
  out[0] = s[1];
  out[1] = s[2];
  return 1;
cancel:
  /* The accept must be over before its socket and buffer go. */
  if (r < 0) r = wsa_error();
  CancelIoEx((HANDLE)s[0], &ov);
  GetOverlappedResult((HANDLE)s[0], &ov, &n, TRUE);
  goto out;
fail:
  r = wsa_error();
out:
  close_all(s, 3);
  if (ov.hEvent) CloseHandle(ov.hEvent);
  return r;
}

/* Bounded: a stranger in the backlog costs one more try, a full backlog one
 * try's time, and the whole open never more than OPEN_MS. */
int xsig__os_pair_open(xsig__pair_t *p) {
  SOCKET s[2];
  /* Each pair holds a Winsock reference of its own: the last WSACleanup
   * closes every socket, and a freed context's dispatcher may still be in
   * select() on its pair after the engine has stopped. */
  int r = xsig__os_start();
  if (r < 0) return r;
  DWORD t0 = GetTickCount(), spent = 0;
  for (int tries = 0; tries < 8 && r == 0 && spent < OPEN_MS; tries++) {
    r = try_pair(s, OPEN_MS - spent < TRY_MS ? OPEN_MS - spent : TRY_MS);
    spent = GetTickCount() - t0;
  }
  if (r <= 0) {
    WSACleanup();
    return r == 0 ? XSIG_ESYS : r; /* for 0, again() said why */
  }
  p->rd = (intptr_t)s[0];
  p->wr = (intptr_t)s[1];
  return 0;
}

void xsig__os_pair_close(xsig__pair_t *p) {
  if (p->rd == -1) return;
  close_hard((SOCKET)p->rd);
  close_hard((SOCKET)p->wr);
  p->rd = p->wr = -1;
  WSACleanup();
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
