#include "support/support.h"
#include <chrono>
#include <thread>

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

std::string cli_path() {
  return exe(std::string(XSIG_TEST_BINARY_DIR) + "/tools/xsig");
}

} // namespace xsigtest
