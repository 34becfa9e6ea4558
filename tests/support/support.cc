#include <cstdio>
#include "support/support.h"
#include <chrono>
#include <thread>

#include <cstdlib>
#include <cstring>

#ifdef _WIN32
#include <winsock2.h>
#else
#include <poll.h>
#endif
#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#define XSIG_TEST_VALGRIND_H 1
#endif
#endif

namespace xsigtest {

long long now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
}

bool wait_until(const std::function<bool()> &pred, int timeout_ms) {
  long long end = now_ms() + timeout_ms;
  for (;;) {
    if (pred()) return true;
    if (now_ms() >= end) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
}

static std::string exe(std::string p) {
#ifdef _WIN32
  p += ".exe";
#endif
  return p;
}

std::string helper_path(const char *name) {
  return exe(std::string(XSIG_TEST_BINARY_DIR) + "/tests/" + name);
}

bool under_valgrind() {
#ifdef XSIG_TEST_VALGRIND_H
  return RUNNING_ON_VALGRIND != 0;
#else
  // Without the header: valgrind preloads its vgpreload_*.so into the program.
  const char *p = std::getenv("LD_PRELOAD");
  return p && std::strstr(p, "vgpreload");
#endif
}

int rounds_for(int n) {
  if (!under_valgrind()) return n;
  int m = n / 10 > 0 ? n / 10 : 1;
  std::printf("valgrind: %d rounds instead of %d\n", m, n);
  std::fflush(stdout); /* not once more from each fork child */
  return m;
}

std::string cli_path() {
  return exe(std::string(XSIG_TEST_BINARY_DIR) + "/tools/xsig");
}

uint32_t Rec::total() const {
  uint32_t n = 0;
  for (auto &e : events) n += e.count;
  return n;
}

void record(const xsig_event_t *ev, void *rec) {
  static_cast<Rec *>(rec)->events.push_back(*ev);
}

bool readable(xsig_handle_t h) {
#ifdef _WIN32
  fd_set set;
  FD_ZERO(&set);
  FD_SET((SOCKET)h, &set);
  timeval tv = {0, 0};
  return select(0, &set, nullptr, nullptr, &tv) == 1;
#else
  pollfd p = {h, POLLIN, 0};
  return poll(&p, 1, 0) == 1;
#endif
}

bool slots_ahead(int n) {
  std::vector<xsig_ctx_t *> cs;
  bool ok = true;
  for (int i = 0; i < n && ok; i++) {
    xsig_ctx_t *c = nullptr;
    ok = xsig_ctx_new(&c) == 0;
    if (ok) cs.push_back(c);
  }
  for (xsig_ctx_t *c : cs) xsig_ctx_free(c);
  return ok;
}

} // namespace xsigtest
