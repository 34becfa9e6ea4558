// xsig from C++: a context and a watch as RAII objects, and a std::thread
// that waits on the context. The watch's destructor unwatches, so leaving the
// scope puts the signal's disposition back; the context's destructor frees it.
// The program sends itself real SIGUSR1s and exits 0 only when the waiting
// thread saw each one and the disposition came back to what it found.
// Run it with no arguments.
#include "xsig/xsig.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <functional>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>

namespace xsig {

// Throws on an xsig error: constructors have no other way to say it.
inline int check(int rc, const char *what) {
  if (rc < 0) throw std::runtime_error(std::string(what) + ": " + xsig_strerror(rc));
  return rc;
}

// A context of its own: its watches and wakeup handle belong to this object.
class Context {
public:
  Context() {
    check(xsig_ctx_new(&ctx_), "xsig_ctx_new");
  }
  ~Context() {
    xsig_ctx_free(ctx_);
  }
  Context(const Context &) = delete;
  Context &operator=(const Context &) = delete;
  xsig_ctx_t *get() const {
    return ctx_;
  }
  // Waits up to timeout_ms, runs the callbacks; how many ran.
  int wait(int timeout_ms) {
    return check(xsig_wait(ctx_, timeout_ms), "xsig_wait");
  }

private:
  xsig_ctx_t *ctx_ = nullptr;
};

// Calls fn for each event of signum on ctx while the object lives.
class Watch {
public:
  Watch(Context &ctx, int signum, std::function<void(const xsig_event_t &)> fn)
      : fn_(std::move(fn)) {
    check(xsig_watch(ctx.get(), signum, trampoline, this, 0, &w_), "xsig_watch");
  }
  // xsig_unwatch returns only when the callback is not running (or from
  // inside it), so fn_ is never used after this object is gone.
  ~Watch() {
    xsig_unwatch(w_);
  }
  Watch(const Watch &) = delete;
  Watch &operator=(const Watch &) = delete;

private:
  static void trampoline(const xsig_event_t *ev, void *self) {
    static_cast<Watch *>(self)->fn_(*ev);
  }
  std::function<void(const xsig_event_t &)> fn_;
  xsig_watch_t *w_ = nullptr;
};

} // namespace xsig

int main(int argc, char **argv) {
  if (argc > 1) {
    bool help = !std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h");
    std::fputs("usage: raii_watch\n"
               "A C++ RAII watch of SIGUSR1 on its own context, waited on by a std::thread;\n"
               "sends itself SIGUSR1 three times and checks the disposition afterwards.\n",
               help ? stdout : stderr);
    return help ? 0 : 2;
  }
  try {
    xsig::check(xsig_init(), "xsig_init");
    if (xsig_disposition(SIGUSR1) != XSIG_DISP_DEFAULT)
      throw std::runtime_error("SIGUSR1 not default");
    std::mutex m;
    std::condition_variable cv;
    int seen = 0;
    {
      xsig::Context ctx;
      xsig::Watch watch(ctx, SIGUSR1, [&](const xsig_event_t &ev) {
        std::lock_guard<std::mutex> lock(m);
        seen += static_cast<int>(ev.count);
        cv.notify_all();
      });
      if (xsig_disposition(SIGUSR1) != XSIG_DISP_XSIG) throw std::runtime_error("not watched");
      std::atomic<bool> stop{false};
      std::thread waiter([&] {
        while (!stop) ctx.wait(100);
      });
      // The thread ends before the watch and the context do, on any way out.
      struct Join {
        std::atomic<bool> &stop;
        std::thread &t;
        ~Join() {
          stop = true;
          if (t.joinable()) t.join();
        }
      } join{stop, waiter};
      for (int i = 1; i <= 3; i++) {
        xsig::check(xsig_raise(SIGUSR1), "xsig_raise");
        std::unique_lock<std::mutex> lock(m);
        if (!cv.wait_for(lock, std::chrono::seconds(20), [&] { return seen >= i; }))
          throw std::runtime_error("SIGUSR1 " + std::to_string(i) + " was not seen");
      }
    } // ~Join stops the thread, ~Watch unwatches, ~Context frees
    if (xsig_disposition(SIGUSR1) != XSIG_DISP_DEFAULT)
      throw std::runtime_error("SIGUSR1 is not back to its default after the watch ended");
    xsig_shutdown();
    std::printf("raii_watch: the thread saw SIGUSR1 x%d; the disposition is back\n", seen);
    std::puts("raii_watch: ok");
    return 0;
  } catch (const std::exception &e) {
    std::fprintf(stderr, "raii_watch: %s\n", e.what());
    return 1;
  }
}
