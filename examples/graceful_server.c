/* A TCP line server on 127.0.0.1 that shuts down gracefully and reloads its
 * configuration, on POSIX and Windows.
 *
 *   graceful_server --port N --config FILE [--grace-ms N] [--service NAME]
 *
 * Requests, one per line: "HELLO" answers the greeting from the config file,
 * "SLEEP <ms>" answers "done <ms>" after that long, anything else "error ...".
 * The config file holds "key = value" lines; "greeting" is required and no
 * other key is known.
 *
 * First SIGINT/SIGTERM (Ctrl+C, docker stop, console close): stop accepting,
 * finish every request already received, exit 0. A second one more than half
 * a second later (copies within that time, such as timeout(1) sends, are the
 * same request), or --grace-ms passing first, forces the exit. A stop signal
 * ignored at start (`server &` in a script) stays ignored. SIGHUP re-reads the config; a bad file
 * keeps the old greeting. systemd is told READY=1, STOPPING=1 and how reloads went.
 *
 * --service NAME (Windows): when the Service Control Manager started the
 * program, it is that service: SCM STOP drains it as SIGTERM does (STOP_PENDING,
 * then STOPPED with exit code 0) and PARAMCHANGE reloads it. Started any other
 * way, it says so and runs as a console program. Give the service absolute
 * paths: it starts in the system directory. */
#if !defined(_WIN32) && !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 200809L /* clock_gettime, MSG_NOSIGNAL */
#endif
#include "xsig/lifecycle.h"
#include "xsig/xsig.h"
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef _WIN32
#include <winsock2.h>
#include <ws2tcpip.h>
#include <io.h>
typedef SOCKET sock_t;
#define BAD_SOCK   INVALID_SOCKET
#define poll       WSAPoll
#define close_sock closesocket
#define SEND_FLAGS 0
static uint64_t now_ms(void) {
  return GetTickCount64();
}
static void set_nonblocking(sock_t s) {
  u_long on = 1;
  ioctlsocket(s, FIONBIO, &on);
}
static void say(const char *s) {
  _write(2, s, (unsigned)strlen(s));
}
#else
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
typedef int sock_t;
#define BAD_SOCK   (-1)
#define close_sock close
#ifdef MSG_NOSIGNAL
#define SEND_FLAGS MSG_NOSIGNAL
#else
#define SEND_FLAGS 0
#endif
static uint64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}
static void set_nonblocking(sock_t s) {
  fcntl(s, F_SETFL, fcntl(s, F_GETFL) | O_NONBLOCK);
}
static void say(const char *s) {
  ssize_t r = write(2, s, strlen(s));
  (void)r;
}
#endif

#define MAX_CONNS 64

struct config {
  char greeting[256];
};

struct conn {
  sock_t fd;
  char in[1024];
  size_t len;
  int sleeping; /* a SLEEP is in flight */
  int eof;      /* the peer sent FIN: answer what came, then close */
  int sleep_ms;
  uint64_t due;
};

struct server {
  const char *config_path;
  struct config cfg;
  sock_t listener;
  struct conn conns[MAX_CONNS];
  int nconns;
  int stopping; /* set by on_stop */
};

/* ---------------------------------------------------------------- config */

static char *trim(char *s) {
  while (*s == ' ' || *s == '\t') s++;
  char *e = s + strlen(s);
  while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' || e[-1] == '\n')) *--e = '\0';
  return s;
}

/* Fills *out only when the whole file is valid; else says why in err. */
static int load_config(const char *path, struct config *out, char *err, size_t errsize) {
  struct config c = {{0}};
  char line[512];
  int n = 0, ok = 1, has_greeting = 0;
  FILE *f = fopen(path, "r");
  if (!f) {
    snprintf(err, errsize, "cannot open %s", path);
    return -1;
  }
  while (ok && fgets(line, sizeof line, f)) {
    n++;
    if (!strchr(line, '\n') && !feof(f)) {
      snprintf(err, errsize, "%s:%d: line too long", path, n);
      ok = 0;
      break;
    }
    char *s = trim(line), *eq = strchr(s, '=');
    if (!*s || *s == '#') continue;
    if (!eq) {
      snprintf(err, errsize, "%s:%d: expected key = value", path, n);
      ok = 0;
      break;
    }
    *eq = '\0';
    char *key = trim(s), *value = trim(eq + 1);
    if (strcmp(key, "greeting") != 0) {
      snprintf(err, errsize, "%s:%d: unknown key '%s'", path, n, key);
      ok = 0;
    } else if (strlen(value) >= sizeof c.greeting) {
      snprintf(err, errsize, "%s:%d: greeting longer than %d bytes", path, n,
               (int)sizeof c.greeting - 1);
      ok = 0;
    } else {
      snprintf(c.greeting, sizeof c.greeting, "%s", value);
      has_greeting = 1;
    }
  }
  fclose(f);
  if (ok && !has_greeting) {
    snprintf(err, errsize, "%s: no greeting", path);
    ok = 0;
  }
  if (ok) *out = c;
  return ok ? 0 : -1;
}

/* The keep-the-old-config pattern: parse aside, swap only on success. */
static int reload(void *user, char *err, size_t errsize) {
  struct server *srv = user;
  if (load_config(srv->config_path, &srv->cfg, err, errsize) < 0) return -1;
  fprintf(stderr, "reloaded: greeting is now '%s'\n", srv->cfg.greeting);
  return 0;
}

/* ---------------------------------------------------------------- requests */

static void reply(struct conn *c, const char *text) {
  char buf[320];
  int n = snprintf(buf, sizeof buf, "%s\n", text);
  /* Non-blocking socket: a full send buffer must not cut or lose a reply. */
  for (int off = 0, w; off < n; off += w) {
    w = (int)send(c->fd, buf + off, n - off, SEND_FLAGS);
    if (w > 0) continue;
    struct pollfd p = {.fd = c->fd, .events = POLLOUT};
    if (w == 0 || poll(&p, 1, 5000) <= 0 || (p.revents & (POLLERR | POLLHUP))) return;
    w = 0;
  }
}

static void handle(struct server *srv, struct conn *c, char *req) {
  char buf[64];
  int ms;
  if (strcmp(req, "HELLO") == 0) {
    reply(c, srv->cfg.greeting);
  } else if (sscanf(req, "SLEEP %d", &ms) == 1 && ms >= 0) {
    c->sleeping = 1;
    c->sleep_ms = ms;
    c->due = now_ms() + (uint64_t)ms;
  } else {
    snprintf(buf, sizeof buf, "error unknown request");
    reply(c, buf);
  }
}

/* Runs the complete lines received so far, one at a time: a SLEEP holds back
 * the lines behind it until it is done. */
static void run_lines(struct server *srv, struct conn *c) {
  char *nl;
  while (!c->sleeping && (nl = memchr(c->in, '\n', c->len))) {
    size_t used = (size_t)(nl - c->in) + 1;
    *nl = '\0';
    handle(srv, c, trim(c->in));
    memmove(c->in, c->in + used, c->len - used);
    c->len -= used;
  }
}

/* 0 when the peer closed or failed. */
static int receive(struct server *srv, struct conn *c) {
  while (!c->eof) {
    if (c->len == sizeof c->in) {
      if (c->sleeping) break; /* full behind a SLEEP: read the rest after it */
      return 0;               /* a line longer than we accept */
    }
    int n = (int)recv(c->fd, c->in + c->len, (int)(sizeof c->in - c->len), 0);
    if (n == 0) c->eof = 1;
    if (n <= 0) break; /* EOF, would block, or an error the next poll reports */
    c->len += (size_t)n;
    run_lines(srv, c);
  }
  run_lines(srv, c);
  return !c->eof || c->sleeping;
}

static void drop(struct server *srv, int i) {
  close_sock(srv->conns[i].fd);
  srv->conns[i] = srv->conns[--srv->nconns];
}

static void accept_one(struct server *srv) {
  sock_t fd = accept(srv->listener, NULL, NULL);
  if (fd == BAD_SOCK) return;
  if (srv->nconns == MAX_CONNS) {
    close_sock(fd);
    return;
  }
  set_nonblocking(fd);
  srv->conns[srv->nconns++] = (struct conn){.fd = fd};
}

/* ---------------------------------------------------------------- shutdown */

static void on_stop(int sig, void *user) {
  struct server *srv = user;
  srv->stopping = 1;
  fprintf(stderr, "%s: draining %d connection(s)\n", xsig_name(sig), srv->nconns);
}

static void on_force(int sig, void *user) {
  (void)sig, (void)user;
  say("forced exit\n");
}

/* What the kernel already holds counts as in flight: connections it has
 * completed and requests it has received. After this, nothing more is read. */
static void begin_drain(struct server *srv) {
  int before;
  do {
    before = srv->nconns;
    accept_one(srv);
  } while (srv->nconns > before);
  close_sock(srv->listener);
  srv->listener = BAD_SOCK;
  for (int i = 0; i < srv->nconns; i++) receive(srv, &srv->conns[i]);
}

/* ---------------------------------------------------------------- main */

static sock_t listen_on(int port) {
  struct sockaddr_in a;
  socklen_t len = sizeof a;
  sock_t s = socket(AF_INET, SOCK_STREAM, 0);
  if (s == BAD_SOCK) return BAD_SOCK;
#ifndef _WIN32
  int one = 1;
  setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
#endif
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_port = htons((unsigned short)port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(s, (struct sockaddr *)&a, sizeof a) != 0 || listen(s, 64) != 0 ||
      getsockname(s, (struct sockaddr *)&a, &len) != 0) {
    close_sock(s);
    return BAD_SOCK;
  }
  set_nonblocking(s);
  printf("listening on 127.0.0.1:%d\n", ntohs(a.sin_port));
  fflush(stdout);
  return s;
}

static int serve_once(struct server *srv) {
  struct pollfd p[MAX_CONNS + 2];
  int n = 0, timeout = -1;
  uint64_t now = now_ms();
  p[n++] = (struct pollfd){.fd = (sock_t)xsig_wakeup_handle(NULL), .events = POLLIN};
  if (srv->listener != BAD_SOCK) p[n++] = (struct pollfd){.fd = srv->listener, .events = POLLIN};
  int first_conn = n;
  for (int i = 0; i < srv->nconns; i++) {
    struct conn *c = &srv->conns[i];
    int full = c->eof || (c->sleeping && c->len == sizeof c->in);
    p[n++] = (struct pollfd){.fd = c->fd, .events = srv->stopping || full ? 0 : POLLIN};
    if (c->sleeping) {
      int left = c->due > now ? (int)(c->due - now) : 0;
      if (timeout < 0 || left < timeout) timeout = left;
    }
  }
  if (poll(p, (unsigned)n, timeout) < 0) /* EINTR: the handler ran on this thread */
    for (int i = 0; i < n; i++) p[i].revents = 0;
  xsig_dispatch(NULL);
  if (srv->stopping && srv->listener != BAD_SOCK) {
    begin_drain(srv);
  } else if (!srv->stopping) {
    if (p[1].revents) accept_one(srv);
    for (int i = n - first_conn - 1; i >= 0; i--)
      if (i < srv->nconns && p[first_conn + i].revents && !receive(srv, &srv->conns[i]))
        drop(srv, i);
  }
  now = now_ms();
  for (int i = srv->nconns - 1; i >= 0; i--) {
    struct conn *c = &srv->conns[i];
    if (c->sleeping && c->due <= now) {
      char buf[32];
      snprintf(buf, sizeof buf, "done %d", c->sleep_ms);
      c->sleeping = 0;
      reply(c, buf);
      run_lines(srv, c);
    }
    if ((srv->stopping || c->eof) && !c->sleeping) drop(srv, i);
  }
  return !(srv->stopping && srv->nconns == 0);
}

static const char usage_text[] =
    "usage: graceful_server --port N --config FILE [--grace-ms N] [--service NAME]\n"
    "A line-protocol TCP server on 127.0.0.1:N that drains on SIGINT/SIGTERM\n"
    "(a second one forces the exit) and reloads FILE on SIGHUP.\n"
    "--service NAME: on Windows, run as the service NAME when the SCM started\n"
    "the program (STOP drains, PARAMCHANGE reloads); otherwise as a console program.\n";

/* Bad usage: the text on stderr, status 2. --help asks for it: stdout, 0. */
static int usage(void) {
  fputs(usage_text, stderr);
  return 2;
}

int main(int argc, char **argv) {
  static struct server srv;
  int port = -1, grace_ms = 0;
  const char *service = NULL;
  char err[256];
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
      fputs(usage_text, stdout);
      return 0;
    }
  }
  for (int i = 1; i + 1 < argc; i += 2) {
    if (strcmp(argv[i], "--port") == 0)
      port = atoi(argv[i + 1]);
    else if (strcmp(argv[i], "--config") == 0)
      srv.config_path = argv[i + 1];
    else if (strcmp(argv[i], "--grace-ms") == 0)
      grace_ms = atoi(argv[i + 1]);
    else if (strcmp(argv[i], "--service") == 0)
      service = argv[i + 1];
    else
      return usage();
  }
  if (argc % 2 == 0 || port < 0 || port > 65535 || !srv.config_path || grace_ms < 0) return usage();
  if (load_config(srv.config_path, &srv.cfg, err, sizeof err) < 0) {
    fprintf(stderr, "%s\n", err);
    return 2;
  }
#ifdef _WIN32
  WSADATA wsa;
  WSAStartup(MAKEWORD(2, 2), &wsa);
#endif
  xsig_graceful_opts_t opts = {
      .grace_ms = grace_ms, .on_stop = on_stop, .on_force = on_force, .user = &srv};
  /* First: as a service, SIGHUP exists only once connected. */
  int svc = service ? xsig_service_start(service, NULL) : 0;
  if (svc < 0) fprintf(stderr, "--service %s: %s\n", service, xsig_strerror(svc));
  if (svc < 0 && svc != XSIG_ENOTSVC && svc != XSIG_ENOTSUP) return 1;
  if (xsig_init() < 0 || xsig_graceful_start(NULL, &opts) < 0) return 1;
  if (xsig_reload_start(NULL, reload, &srv) == XSIG_ENOTSUP)
    fprintf(stderr, "no SIGHUP here: reload is off\n");
  xsig_ignore(SIGPIPE); /* a client gone mid-reply must not end the server */
  if ((srv.listener = listen_on(port)) == BAD_SOCK) {
    fprintf(stderr, "cannot listen on port %d\n", port);
    return 1;
  }
  xsig_notify_ready();
  while (serve_once(&srv)) {
  }
  fprintf(stderr, "drained\n");
  xsig_graceful_exit(0);
}
