/* xsig list: this platform's signal table and this process's dispositions. */
#include "cli.h"
#include "xsig/lifecycle.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Longer than any signal name (SIGRTMAX-14), so the list stays one table. */
#define NAME_WIDTH 12

static const char *const usage_list =
    "usage: xsig list [--json]\n"
    "\n"
    "--json prints one JSON object instead of the table (schema in docs/CLI.md).\n"
    "\n"
    "Prints one line per signal this platform knows, with the columns:\n"
    "  NAME         the canonical name (SIGTERM)\n"
    "  NUMBER       the platform's number for it\n"
    "  SUPPORT      native (the OS delivers it), emulated (delivered in another form,\n"
    "               e.g. console close as SIGTERM on Windows) or unsupported (cannot be\n"
    "               watched: SIGKILL, SIGSTOP, fault signals)\n"
    "  PORTABLE     yes for the signals every platform delivers (SIGINT, SIGTERM)\n"
    "  DISPOSITION  what this process has for it right now: default, ignored or\n"
    "               handled; ignored signals are inherited from the parent\n"
#ifdef _WIN32
    "\n"
    "A last line says whether the process runs as a Windows service, where\n"
    "service controls make SIGHUP, SIGUSR1, SIGTSTP and SIGCONT emulated.\n"
#endif
    ;

static const char *support_word(xsig_support_t s) {
  switch (s) {
  case XSIG_NATIVE:
    return "native";
  case XSIG_EMULATED:
    return "emulated";
  default:
    return "unsupported";
  }
}

static const char *disposition_word(int d) {
  switch (d) {
  case XSIG_DISP_DEFAULT:
    return "default";
  case XSIG_DISP_IGNORED:
    return "ignored";
  case XSIG_DISP_XSIG:
  case XSIG_DISP_OTHER:
    return "handled";
  default:
    return "unknown";
  }
}

/* The table as one JSON object (docs/CLI.md). svc: xsig_service_start's
 * answer on Windows, 1 where there are no services. */
static int print_json(int svc) {
  int *sigs, n = cli_all_signals(&sigs);
  if (n < 0) return cli_fail(EXIT_FAILED, "list", "%s", xsig_strerror(n));
  printf("{\"schema\":1,\"platform\":");
  cli_json_str(xsig_platform());
  /* The fact the text table's last line gives: null where no SCM exists. */
  printf(",\"service\":%s", svc == 1 ? "null" : svc == 0 ? "true" : "false");
  printf(",\"signals\":[");
  for (int i = 0; i < n; i++) {
    int s = sigs[i];
    printf("%s{\"name\":", i ? "," : "");
    cli_json_str(xsig_name(s));
    printf(",\"number\":%d,\"support\":\"%s\",\"portable\":%s,\"disposition\":\"%s\"}", s,
           support_word(xsig_support(s)), xsig_is_portable(s) ? "true" : "false",
           disposition_word(xsig_disposition(s)));
  }
  printf("]}\n");
  free(sigs);
#ifdef _WIN32
  if (svc == 0) {
    fflush(stdout);
    xsig_graceful_exit(0); /* reports SERVICE_STOPPED */
  }
#endif
  return 0;
}

int cmd_list(int argc, char **argv) {
  if (cli_wants_help(argc, argv, usage_list)) return 0;
  int json = argc == 1 && strcmp(argv[0], "--json") == 0;
  if (argc > 0 && !json) return cli_fail(EXIT_USAGE, "list", "unexpected argument '%s'", argv[0]);
#ifdef _WIN32
  /* Connected first, so that the table is the one a service has. */
  int svc = xsig_service_start("xsig", NULL);
#else
  int svc = 1;
#endif
  if (json) return print_json(svc);
  int *sigs, n = cli_all_signals(&sigs);
  if (n < 0) return cli_fail(EXIT_FAILED, "list", "%s", xsig_strerror(n));
  printf("%-*s %6s  %-11s  %-8s  %s\n", NAME_WIDTH, "NAME", "NUMBER", "SUPPORT", "PORTABLE",
         "DISPOSITION");
  for (int i = 0; i < n; i++) {
    int s = sigs[i];
    printf("%-*s %6d  %-11s  %-8s  %s\n", NAME_WIDTH, xsig_name(s), s,
           support_word(xsig_support(s)), xsig_is_portable(s) ? "yes" : "no",
           disposition_word(xsig_disposition(s)));
  }
  free(sigs);
#ifdef _WIN32
  if (svc == 0) {
    printf("# service: yes (started by the Service Control Manager)\n");
    fflush(stdout);
    xsig_graceful_exit(0); /* reports SERVICE_STOPPED */
  }
  printf("# service: no (%s)\n", xsig_strerror(svc));
#endif
  return 0;
}
