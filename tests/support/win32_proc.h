// A Windows child process for the tests: stdout and stderr read into a string
// by a thread. With a stdin pipe, finish() closes it, which tells the helper
// to report and end; without one, the child shares the test's stdin. With
// stdout_stuck, stdout is a pipe that nobody reads (a write that fills it
// blocks for good) and only stderr is read.
#pragma once
#ifdef _WIN32
#include <winsock2.h> /* before windows.h, as Winsock wants */
#include <windows.h>

#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "support/support.h"

namespace xsigtest {

class WinProc {
public:
  WinProc(const std::string &cmd, DWORD flags, bool stdin_pipe, int wait_ms,
          bool stdout_stuck = false)
      : wait_ms_(wait_ms) {
    SECURITY_ATTRIBUTES sa = {sizeof sa, nullptr, TRUE};
    HANDLE out_w, in_r = nullptr, stuck_w = nullptr;
    EXPECT_TRUE(CreatePipe(&out_r_, &out_w, &sa, 0));
    SetHandleInformation(out_r_, HANDLE_FLAG_INHERIT, 0);
    if (stdout_stuck) {
      EXPECT_TRUE(CreatePipe(&stuck_r_, &stuck_w, &sa, 0));
      SetHandleInformation(stuck_r_, HANDLE_FLAG_INHERIT, 0);
    }
    if (stdin_pipe) {
      EXPECT_TRUE(CreatePipe(&in_r, &in_w_, &sa, 0));
      SetHandleInformation(in_w_, HANDLE_FLAG_INHERIT, 0);
    }
    STARTUPINFOA si = {};
    si.cb = sizeof si;
    si.dwFlags = STARTF_USESTDHANDLES;
    si.hStdInput = stdin_pipe ? in_r : GetStdHandle(STD_INPUT_HANDLE);
    si.hStdOutput = stdout_stuck ? stuck_w : out_w;
    si.hStdError = out_w;
    std::vector<char> line(cmd.begin(), cmd.end());
    line.push_back('\0');
    PROCESS_INFORMATION pi;
    ok_ = CreateProcessA(nullptr, line.data(), nullptr, nullptr, TRUE, flags, nullptr, nullptr, &si,
                         &pi);
    EXPECT_TRUE(ok_) << GetLastError();
    CloseHandle(out_w);
    if (stuck_w) CloseHandle(stuck_w);
    if (in_r) CloseHandle(in_r);
    if (!ok_) return;
    proc_ = pi.hProcess;
    pid_ = pi.dwProcessId;
    CloseHandle(pi.hThread);
    reader_ = std::thread([this] {
      char buf[256];
      DWORD n;
      while (ReadFile(out_r_, buf, sizeof buf, &n, nullptr) && n) {
        std::lock_guard<std::mutex> g(mu_);
        for (DWORD i = 0; i < n; i++)
          if (buf[i] != '\r') out_ += buf[i]; // the CRT's text mode
      }
    });
  }
  // A child told to finish gets wait_ms to do so; any other is ended at once.
  ~WinProc() {
    bool told = in_w_ != nullptr;
    finish();
    if (proc_) {
      if (WaitForSingleObject(proc_, told ? (DWORD)wait_ms_ : 0) != WAIT_OBJECT_0)
        TerminateProcess(proc_, 99);
      WaitForSingleObject(proc_, INFINITE);
      CloseHandle(proc_);
    }
    if (reader_.joinable()) reader_.join();
    CloseHandle(out_r_);
    if (stuck_r_) CloseHandle(stuck_r_);
  }
  bool started() const {
    return ok_;
  }
  DWORD pid() const {
    return pid_;
  }
  std::string output() {
    std::lock_guard<std::mutex> g(mu_);
    return out_;
  }
  bool wait_output(const std::string &s) {
    return wait_until([&] { return output().find(s) != std::string::npos; }, wait_ms_);
  }
  void finish() {
    if (in_w_) CloseHandle(in_w_);
    in_w_ = nullptr;
  }
  // The exit code, or -1 while the child still runs after wait_ms. On return
  // output() holds everything the child wrote.
  long long wait_exit() {
    if (WaitForSingleObject(proc_, (DWORD)wait_ms_) != WAIT_OBJECT_0) return -1;
    if (reader_.joinable()) reader_.join(); // the pipe's last writer is gone
    DWORD code = 0;
    GetExitCodeProcess(proc_, &code);
    return code;
  }

private:
  int wait_ms_;
  bool ok_ = false;
  HANDLE proc_ = nullptr, out_r_ = nullptr, in_w_ = nullptr, stuck_r_ = nullptr;
  DWORD pid_ = 0;
  std::thread reader_;
  std::mutex mu_;
  std::string out_;
};

} // namespace xsigtest
#endif
