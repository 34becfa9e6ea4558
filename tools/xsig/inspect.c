/* xsig inspect [--json] PID|--self: what a process does with each signal, and
 * what that means in plain words. The OS file (inspect_*.c) gathers facts;
 * this file draws the diagnoses and prints, once for every OS. */
#include "cli.h"
#include "inspect.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const usage_inspect =
    "usage: xsig inspect [--json] PID|--self\n"
    "\n"
    "Shows, for each signal, what the process PID (or xsig itself with --self)\n"
    "does with it: its action (caught, ignored or default), in how many threads it\n"
    "is blocked, and whether it is pending for the process or for threads; then\n"
    "diagnoses in plain words, such as a PID 1 that does not catch SIGTERM.\n"
    "Linux reads /proc/PID/status and /proc/PID/task/*/status. Windows shows\n"
    "whether the process shares this console, whether it is a service, and\n"
    "whether it has an xsig mailbox and which signals that accepts.\n"
    "--json prints one JSON object instead (schema in docs/CLI.md).\n"
    "Exit status: 0 shown, 1 no such process / not permitted / not known here,\n"
    "2 bad usage.\n";

/* One diagnosis: a stable id for scripts and the sentence for people. */
struct diag {
  const char *id;
  char text[256];
};

struct report {
  struct inspect_facts f;
  struct diag d[INSPECT_NSIG + 8];
  int nd;
};

static struct diag *add(struct report *r, const char *id) {
  struct diag *d = &r->d[r->nd++];
  d->id = id;
  return d;
}

static int blocked_in(const struct inspect_facts *f, int sig) {
  int n = 0;
  for (int i = 0; i < f->nthreads; i++) n += sigbits_has(&f->threads[i].blocked, sig);
  return n;
}

static int pending_in(const struct inspect_facts *f, int sig) {
  int n = 0;
  for (int i = 0; i < f->nthreads; i++) n += sigbits_has(&f->threads[i].pending, sig);
  return n;
}

static int is_pending(const struct inspect_facts *f, int sig) {
  return sigbits_has(&f->shared_pending, sig) || pending_in(f, sig) > 0;
}

static const char *sig_name(int sig, char *buf, size_t n) {
  const char *s = xsig_name(sig);
  if (s) return s;
  snprintf(buf, n, "signal %d", sig);
  return buf;
}

/* Why a signal may be ignored, where the usual cause is known. */
static const char *ignore_reason(int sig) {
  if (sig == SIGINT || sig == SIGQUIT) return " (inherited from a background shell: `cmd &`)";
#ifdef SIGHUP
  if (sig == SIGHUP) return " (as nohup leaves it)";
#endif
  if (sig == SIGTERM) return ": stop requests are lost, only SIGKILL ends it";
  return "";
}

/* Windows: what xsig send can do with the process, from its mailbox. */
static void diagnose_mailbox(struct report *r) {
  const struct inspect_facts *f = &r->f;
  struct diag *d;
  if (f->mailbox == 0) {
    snprintf(add(r, "no-mailbox")->text, sizeof r->d[0].text,
             "no xsig mailbox: `xsig send %ld TERM` (and HUP, QUIT, USR1, USR2) will fail with "
             "ENOLISTEN",
             f->pid);
    return;
  }
  if (f->mailbox != 1) return;
  d = add(r, "mailbox");
  if (f->naccepts == 0) {
    snprintf(d->text, sizeof d->text, "has an xsig mailbox: it watches no signal it could take");
    return;
  }
  size_t len = (size_t)snprintf(d->text, sizeof d->text, "has an xsig mailbox: accepts");
  for (int i = 0; i < f->naccepts && len < sizeof d->text; i++) {
    char nb[32];
    len += (size_t)snprintf(d->text + len, sizeof d->text - len, " %s",
                            sig_name(f->accepts[i], nb, sizeof nb));
  }
}

static void diagnose(struct report *r) {
  const struct inspect_facts *f = &r->f;
  char nb[32];
  diagnose_mailbox(r);
  if (!f->masks) return;
  if (f->ns_pid == 1 && !sigbits_has(&f->caught, SIGTERM))
    snprintf(add(r, "pid1-sigterm-not-caught")->text, sizeof r->d[0].text,
             "PID 1 in its pid namespace and SIGTERM is not caught: `docker stop` will wait "
             "for its time-out and then kill it");
  if (f->ns_pid == 1 && !sigbits_has(&f->caught, SIGINT) && !sigbits_has(&f->ignored, SIGINT))
    snprintf(add(r, "pid1-sigint-not-caught")->text, sizeof r->d[0].text,
             "PID 1 in its pid namespace and SIGINT is not caught: Ctrl+C does nothing");
  for (int s = 1; s <= INSPECT_NSIG; s++) {
    if (!sigbits_has(&f->ignored, s) || s == SIGPIPE) continue; /* servers ignore SIGPIPE */
    snprintf(add(r, "ignored")->text, sizeof r->d[0].text, "%s is ignored%s",
             sig_name(s, nb, sizeof nb), ignore_reason(s));
  }
  if (f->threads_known) {
    static const int stops[] = {SIGTERM, SIGINT, SIGHUP};
    for (size_t i = 0; i < sizeof stops / sizeof stops[0]; i++) {
      int s = stops[i];
      if (sigbits_has(&f->ignored, s) || blocked_in(f, s) != f->nthreads) continue;
      snprintf(add(r, "blocked-everywhere")->text, sizeof r->d[0].text,
               "%s is blocked in every thread%s", xsig_name(s),
               sigbits_has(&f->caught, s)
                   ? ""
                   : ": it stays pending unless the program takes it with sigwait or signalfd");
    }
  }
  int pending = 0;
  for (int s = 1; s <= INSPECT_NSIG; s++) pending += is_pending(f, s);
  if (pending)
    snprintf(add(r, "pending")->text, sizeof r->d[0].text, "%d signal%s pending", pending,
             pending == 1 ? " is" : "s are");
}

static const char *action(const struct inspect_facts *f, int sig) {
  if (sigbits_has(&f->ignored, sig)) return "ignored";
  if (sigbits_has(&f->caught, sig)) return "caught";
  return "default";
}

/* A process name on one line: it may hold any byte but NUL (prctl,
 * pthread_setname_np), and a newline or an escape sequence in it must not
 * break the table or drive the terminal. */
static void print_name(const char *s) {
  if (!*s) s = "?";
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '\n')
      fputs("\\n", stdout);
    else if (c == '\t')
      fputs("\\t", stdout);
    else if (c < 0x20 || c == 0x7f)
      printf("\\x%02x", c);
    else
      putchar(c);
  }
}

static void print_text(const struct report *r, const int *sigs, int n) {
  const struct inspect_facts *f = &r->f;
  printf("pid %ld (", f->pid);
  print_name(f->name);
  putchar(')');
  if (f->ns_pid > 0 && f->ns_pid != f->pid) printf(", pid %ld in its pid namespace", f->ns_pid);
  if (f->threads_known) printf(", %d thread%s", f->nthreads, f->nthreads == 1 ? "" : "s");
  putchar('\n');
  if (f->console >= 0) printf("console: %s\n", f->console ? "yes" : "no");
  if (f->service_known) printf("service: %s\n", f->service[0] ? f->service : "no");
  if (f->mailbox >= 0) {
    char nb[32];
    printf("xsig mailbox: %s", f->mailbox ? "yes" : "no");
    if (f->mailbox) printf(", accepts%s", f->naccepts ? "" : " nothing");
    for (int i = 0; f->mailbox && i < f->naccepts; i++)
      printf(" %s", sig_name(f->accepts[i], nb, sizeof nb));
    putchar('\n');
  }
  for (int i = 0; i < f->nnotes; i++) printf("not known: %s\n", f->note[i]);
  if (f->masks) {
    printf("%-12s %6s  %-8s %-8s %s\n", "SIGNAL", "NUMBER", "ACTION", "BLOCKED", "PENDING");
    for (int i = 0; i < n; i++) {
      int s = sigs[i];
      char blk[32], pnd[48];
      int b = blocked_in(f, s), p = pending_in(f, s), sh = sigbits_has(&f->shared_pending, s);
      if (!f->threads_known)
        snprintf(blk, sizeof blk, "?");
      else if (b == 0)
        snprintf(blk, sizeof blk, "no");
      else if (b == f->nthreads)
        snprintf(blk, sizeof blk, "all");
      else
        snprintf(blk, sizeof blk, "%d/%d", b, f->nthreads);
      if (!sh && !p)
        snprintf(pnd, sizeof pnd, "no");
      else
        snprintf(pnd, sizeof pnd, "%s%s%.0d%s", sh ? "process" : "", sh && p ? "," : "", p,
                 p ? "-threads" : "");
      printf("%-12s %6d  %-8s %-8s %s\n", xsig_name(s), s, action(f, s), blk, pnd);
    }
  }
  if (r->nd == 0) {
    printf("diagnoses: none\n");
    return;
  }
  printf("diagnoses:\n");
  for (int i = 0; i < r->nd; i++) printf("  - %s\n", r->d[i].text);
}

static void json_sigs(const sigbits_t *b) {
  char nb[32];
  int first = 1;
  putchar('[');
  for (int s = 1; s <= INSPECT_NSIG; s++) {
    if (!sigbits_has(b, s)) continue;
    if (!first) putchar(',');
    first = 0;
    cli_json_str(sig_name(s, nb, sizeof nb));
  }
  putchar(']');
}

static void json_tri(const char *key, int v) {
  printf(",\"%s\":%s", key, v < 0 ? "null" : v ? "true" : "false");
}

static void print_json(const struct report *r, const int *sigs, int n) {
  const struct inspect_facts *f = &r->f;
  printf("{\"schema\":1,\"pid\":%ld,\"name\":", f->pid);
  cli_json_str(f->name);
  printf(",\"platform\":");
  cli_json_str(xsig_platform());
  if (f->ns_pid > 0)
    printf(",\"ns_pid\":%ld", f->ns_pid);
  else
    printf(",\"ns_pid\":null");
  json_tri("console", f->console);
  json_tri("mailbox", f->mailbox);
  printf(",\"accepts\":");
  if (f->mailbox != 1) {
    printf("null");
  } else {
    char nb[32];
    putchar('[');
    for (int i = 0; i < f->naccepts; i++) {
      if (i) putchar(',');
      cli_json_str(sig_name(f->accepts[i], nb, sizeof nb));
    }
    putchar(']');
  }
  printf(",\"service\":");
  if (!f->service_known)
    printf("null");
  else if (f->service[0])
    cli_json_str(f->service);
  else
    printf("false");
  printf(",\"masks_known\":%s", f->masks ? "true" : "false");
  printf(",\"threads\":");
  if (!f->threads_known) {
    printf("null");
  } else {
    putchar('[');
    for (int i = 0; i < f->nthreads; i++) {
      printf("%s{\"tid\":%ld,\"blocked\":", i ? "," : "", f->threads[i].tid);
      json_sigs(&f->threads[i].blocked);
      printf(",\"pending\":");
      json_sigs(&f->threads[i].pending);
      putchar('}');
    }
    putchar(']');
  }
  printf(",\"signals\":[");
  for (int i = 0; f->masks && i < n; i++) {
    int s = sigs[i];
    printf("%s{\"name\":", i ? "," : "");
    cli_json_str(xsig_name(s));
    printf(",\"number\":%d,\"action\":\"%s\",\"blocked_threads\":", s, action(f, s));
    if (f->threads_known)
      printf("%d", blocked_in(f, s));
    else
      printf("null");
    printf(",\"pending_process\":%s,\"pending_threads\":%d}",
           sigbits_has(&f->shared_pending, s) ? "true" : "false", pending_in(f, s));
  }
  printf("],\"pending\":");
  sigbits_t all = f->shared_pending;
  for (int i = 0; i < f->nthreads; i++) {
    all.w[0] |= f->threads[i].pending.w[0];
    all.w[1] |= f->threads[i].pending.w[1];
  }
  json_sigs(&all);
  printf(",\"diagnoses\":[");
  for (int i = 0; i < r->nd; i++) {
    printf("%s{\"id\":\"%s\",\"text\":", i ? "," : "", r->d[i].id);
    cli_json_str(r->d[i].text);
    putchar('}');
  }
  printf("],\"not_known\":[");
  for (int i = 0; i < f->nnotes; i++) {
    if (i) putchar(',');
    cli_json_str(f->note[i]);
  }
  printf("]}\n");
}

int cmd_inspect(int argc, char **argv) {
  if (cli_wants_help(argc, argv, usage_inspect)) return 0;
  int json = 0;
  const char *target = NULL;
  for (int i = 0; i < argc; i++) {
    if (strcmp(argv[i], "--json") == 0)
      json = 1;
    else if (target)
      return cli_fail(EXIT_USAGE, "inspect", "unexpected argument '%s'", argv[i]);
    else
      target = argv[i];
  }
  if (!target) return cli_fail(EXIT_USAGE, "inspect", "%s", "expects PID or --self");
  int64_t pid;
  if (strcmp(target, "--self") == 0)
    pid = cli_getpid();
  else if (cli_parse_pid(target, &pid) < 0 || pid > 0x7fffffff)
    return cli_fail(EXIT_USAGE, "inspect", "bad pid '%s'", target);
  static struct report r;
  r.f.pid = (long)pid;
  r.f.ns_pid = -1;
  r.f.console = r.f.mailbox = -1;
  int err = inspect_os((long)pid, &r.f);
  if (err == XSIG_ESRCH) return cli_fail(EXIT_FAILED, "inspect", "no such process: %s", target);
  if (err == XSIG_EPERM)
    return cli_fail(EXIT_FAILED, "inspect", "not permitted to inspect pid %s", target);
  if (err < 0) return cli_fail(EXIT_FAILED, "inspect", "%s", xsig_strerror(err));
  int *sigs, n = cli_all_signals(&sigs);
  if (n < 0) return cli_fail(EXIT_FAILED, "inspect", "%s", xsig_strerror(n));
  diagnose(&r);
  if (json)
    print_json(&r, sigs, n);
  else
    print_text(&r, sigs, n);
  free(sigs);
  free(r.f.threads);
  return 0;
}
