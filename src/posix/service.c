/* POSIX backend, service managers: systemd is spoken in notify.c, and there is
 * no Service Control Manager to connect to. */
#include "posix_int.h"

int xsig_service_start(const char *name, const xsig_service_opts_t *opts) {
  (void)name, (void)opts;
  return XSIG_ENOTSUP;
}

int xsig_service_active(void) {
  return 0;
}

int xsig__os_notify(const char *state) {
  (void)state;
  return 0; /* not Linux: no manager listens */
}

void xsig__os_will_exit(int status) {
  (void)status;
}
