/* POSIX backend, leaving: ending the process as a signal's default action does,
 * so that a parent's waitpid() sees WIFSIGNALED with that signal. */
#include "posix_int.h"
#include <signal.h>
#include <string.h>
#include <unistd.h>

_Noreturn void xsig__os_exit_by_signal(int sig) {
  struct sigaction sa;
  sigset_t set;
  /* xsig's own handler would only count the signal: put the default back. */
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = SIG_DFL;
  sigemptyset(&sa.sa_mask);
  sigaction(sig, &sa, NULL);
  sigemptyset(&set);
  sigaddset(&set, sig);
  pthread_sigmask(SIG_UNBLOCK, &set, NULL);
  /* To this very thread: unblocked here, so it is delivered before raise()
   * returns, and its default action ends the whole process. */
  raise(sig);
  /* Only a signal whose default is not to terminate gets here. */
  _exit(128 + sig);
}
