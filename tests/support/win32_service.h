// Services of the real Service Control Manager for the tests: one installed
// service per object, deleted by the destructor whatever happened (its
// process ended first when it still runs), and the small path and file
// helpers the service tests share, since a service has no console and logs
// to a file.
#pragma once
#ifdef _WIN32
#include <winsock2.h> /* before windows.h, as Winsock wants */
#include <windows.h>

#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "support/support.h"

namespace xsigtest {

// The Windows form of a path that may be a Unix one (Wine maps both).
inline std::string win_path(const std::string &unix_path) {
  char buf[MAX_PATH];
  DWORD n = GetFullPathNameA(unix_path.c_str(), sizeof buf, buf, nullptr);
  return n && n < sizeof buf ? std::string(buf) : unix_path;
}

// A service name no other test (or earlier run) uses.
inline std::string unique_name(const char *what) {
  static int n;
  return std::string("xsigtest-") + what + "-" + std::to_string(GetCurrentProcessId()) + "-" +
         std::to_string(++n) + "-" + std::to_string(GetTickCount64() % 100000);
}

inline std::string file_text(const std::string &path) {
  std::ifstream f(path);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

class Service {
public:
  Service(const std::string &name, const std::string &cmdline) {
    scm_ = OpenSCManagerW(nullptr, nullptr, SC_MANAGER_ALL_ACCESS);
    EXPECT_NE(scm_, nullptr) << GetLastError();
    if (!scm_) return;
    std::wstring wname(name.begin(), name.end()), wcmd(cmdline.begin(), cmdline.end());
    svc_ = CreateServiceW(scm_, wname.c_str(), wname.c_str(), SERVICE_ALL_ACCESS,
                          SERVICE_WIN32_OWN_PROCESS, SERVICE_DEMAND_START, SERVICE_ERROR_NORMAL,
                          wcmd.c_str(), nullptr, nullptr, nullptr, nullptr, nullptr);
    EXPECT_NE(svc_, nullptr) << GetLastError();
  }
  Service(const Service &) = delete;
  Service &operator=(const Service &) = delete;
  ~Service() {
    if (svc_) {
      SERVICE_STATUS_PROCESS s = status();
      if (s.dwCurrentState != SERVICE_STOPPED && s.dwProcessId) {
        HANDLE p = OpenProcess(PROCESS_TERMINATE | SYNCHRONIZE, FALSE, s.dwProcessId);
        if (p) {
          TerminateProcess(p, 99);
          WaitForSingleObject(p, 10000);
          CloseHandle(p);
        }
      }
      DeleteService(svc_);
      CloseServiceHandle(svc_);
    }
    if (scm_) CloseServiceHandle(scm_);
  }
  bool ok() const {
    return svc_ != nullptr;
  }
  SERVICE_STATUS_PROCESS status() {
    SERVICE_STATUS_PROCESS s = {};
    DWORD n;
    if (!QueryServiceStatusEx(svc_, SC_STATUS_PROCESS_INFO, (BYTE *)&s, sizeof s, &n))
      ADD_FAILURE() << "QueryServiceStatusEx " << GetLastError();
    return s;
  }
  bool start() {
    if (StartServiceW(svc_, 0, nullptr)) return true;
    ADD_FAILURE() << "StartService " << GetLastError();
    return false;
  }
  bool wait_state(DWORD state, int ms = 30000) {
    return wait_until([&] { return status().dwCurrentState == state; }, ms);
  }
  // ControlService's error, or 0.
  DWORD control(DWORD code, SERVICE_STATUS *out = nullptr) {
    SERVICE_STATUS s;
    return ControlService(svc_, code, out ? out : &s) ? 0 : GetLastError();
  }
  SC_HANDLE handle() const {
    return svc_;
  }

private:
  SC_HANDLE scm_ = nullptr, svc_ = nullptr;
};

// A process to wait for: opened while it runs, since its id means nothing
// once it has ended.
inline HANDLE open_to_wait(DWORD pid) {
  HANDLE p = OpenProcess(SYNCHRONIZE | PROCESS_QUERY_LIMITED_INFORMATION, FALSE, pid);
  EXPECT_NE(p, nullptr) << "OpenProcess " << pid << ": " << GetLastError();
  return p;
}

// The exit code of p if it ends within ms, or -1; closes p.
inline long long exit_code_within(HANDLE p, DWORD ms) {
  if (!p) return -1;
  DWORD code = 0;
  bool ended = WaitForSingleObject(p, ms) == WAIT_OBJECT_0 && GetExitCodeProcess(p, &code);
  CloseHandle(p);
  return ended ? (long long)code : -1;
}

} // namespace xsigtest
#endif
