// `xsig run` on Windows, under Wine: exit codes pass through, the job object
// ends a grandchild when the supervisor is killed, --grace terminates a child
// that a stop cannot reach, a Ctrl+C on the console stops an xsig child, a
// stop to the supervisor reaches an xsig child, and --service makes it a real
// service of Wine's SCM whose STOP is the graceful stop. Wine cannot make
// Ctrl+Break, so the supervisor's Ctrl+C fallback is what is shown on a
// console (docs/RUN.md).
#include <cstdio>
#include <functional>
#include <set>
#include <string>

#include <gtest/gtest.h>

#include "support/support.h"
#include "support/win32_proc.h"
#include "support/win32_service.h"

namespace {

using xsigtest::file_text;
using xsigtest::Service;
using xsigtest::unique_name;
using xsigtest::win_path;

const int kWaitMs = 30000;

std::string run_cmd(const std::string &opts, const std::string &child_args) {
  return "\"" + xsigtest::cli_path() + "\" run " + opts + " -- \"" +
         xsigtest::helper_path("win32_run_child") + "\" " + child_args;
}

long long run_and_wait(const std::string &cmd) {
  xsigtest::WinProc p(cmd, 0, false, kWaitMs);
  EXPECT_TRUE(p.started());
  long long code = p.wait_exit();
  EXPECT_NE(code, -1) << p.output();
  return code;
}

TEST(Run, ExitCodesPassThrough) {
  EXPECT_EQ(run_and_wait(run_cmd("", "exit 0")), 0);
  EXPECT_EQ(run_and_wait(run_cmd("", "exit 7")), 7);
  EXPECT_EQ(run_and_wait(run_cmd("", "exit 300")), 300) << "Windows codes are 32 bits";
  EXPECT_EQ(run_and_wait(run_cmd("-e 7", "exit 7")), 0) << "-e maps it to 0";
  EXPECT_EQ(run_and_wait("\"" + xsigtest::cli_path() + "\" run -- C:\\no\\such\\program.exe"), 127);
}

TEST(Run, TheJobEndsAGrandchildWhenTheSupervisorIsKilled) {
  xsigtest::WinProc p(run_cmd("", "grandchild"), 0, false, kWaitMs);
  ASSERT_TRUE(p.started());
  ASSERT_TRUE(p.wait_output("grandchild ")) << p.output();
  std::string out = p.output();
  DWORD gpid = (DWORD)strtoul(out.c_str() + out.find("grandchild ") + 11, nullptr, 10);
  HANDLE g = OpenProcess(SYNCHRONIZE, FALSE, gpid);
  ASSERT_NE(g, nullptr) << "grandchild " << gpid;
  EXPECT_EQ(WaitForSingleObject(g, 0), (DWORD)WAIT_TIMEOUT) << "alive before";
  HANDLE sup = OpenProcess(PROCESS_TERMINATE, FALSE, p.pid());
  ASSERT_NE(sup, nullptr);
  ASSERT_TRUE(TerminateProcess(sup, 1));
  CloseHandle(sup);
  EXPECT_EQ(WaitForSingleObject(g, kWaitMs), (DWORD)WAIT_OBJECT_0)
      << "KILL_ON_JOB_CLOSE ends the grandchild with the supervisor";
  CloseHandle(g);
  EXPECT_EQ(p.wait_exit(), 1);
}

// The test's own console, so that Ctrl+C reaches only what runs on it; the
// test survives its own Ctrl+C through a handler (not SIG_IGN, which children
// would inherit).
BOOL WINAPI swallow(DWORD) {
  return TRUE;
}
void own_console() {
  FreeConsole();
  ASSERT_TRUE(AllocConsole());
  ASSERT_TRUE(SetConsoleCtrlHandler(swallow, TRUE));
}

TEST(Run, GraceEndsAChildTheStopCannotReach) {
  own_console();
  xsigtest::WinProc p(run_cmd("-v --grace 1", "sleep"), 0, false, kWaitMs);
  ASSERT_TRUE(p.started());
  ASSERT_TRUE(p.wait_output("ready")) << p.output();
  // The supervisor's watches are in before it starts the child.
  ASSERT_TRUE(GenerateConsoleCtrlEvent(CTRL_C_EVENT, 0));
  EXPECT_EQ(p.wait_exit(), 137) << p.output();
  EXPECT_NE(p.output().find("grace ran out"), std::string::npos) << p.output();
}

// --grace 0: the job is terminated as soon as the stop has been passed on
// (it used to be taken as no time-out at all).
TEST(Run, GraceZeroTerminatesAtOnce) {
  xsigtest::WinProc p(run_cmd("-v --grace 0", "sleep"), 0, false, kWaitMs);
  ASSERT_TRUE(p.started());
  ASSERT_TRUE(p.wait_output("ready")) << p.output();
  ASSERT_EQ(xsig_send(p.pid(), SIGTERM), 0);
  EXPECT_EQ(p.wait_exit(), 137) << p.output();
  EXPECT_NE(p.output().find("grace ran out"), std::string::npos) << p.output();
}

TEST(Run, SecondStopKillsAtOnceWithSecondKills) {
  own_console();
  xsigtest::WinProc p(run_cmd("-v --second-kills", "sleep"), 0, false, kWaitMs);
  ASSERT_TRUE(p.started());
  ASSERT_TRUE(p.wait_output("ready")) << p.output();
  ASSERT_TRUE(GenerateConsoleCtrlEvent(CTRL_C_EVENT, 0));
  ASSERT_TRUE(p.wait_output("stop request: SIGINT")) << p.output();
  Sleep(700); // past the 500 ms in which stop deliveries are one request (run.h)
  ASSERT_TRUE(GenerateConsoleCtrlEvent(CTRL_C_EVENT, 0));
  EXPECT_EQ(p.wait_exit(), 137) << p.output();
  EXPECT_NE(p.output().find("second stop request"), std::string::npos) << p.output();
}

TEST(Run, AStopToTheSupervisorReachesAnXsigChildAndItsCodePassesThrough) {
  own_console();
  xsigtest::WinProc p(run_cmd("-v --grace 20", "stoppable"), 0, false, kWaitMs);
  ASSERT_TRUE(p.started());
  ASSERT_TRUE(p.wait_output("ready")) << p.output();
  ASSERT_TRUE(GenerateConsoleCtrlEvent(CTRL_C_EVENT, 0));
  EXPECT_EQ(p.wait_exit(), 5) << p.output();
  // Through the supervisor: the child watches SIGTERM, so its mailbox takes it.
  EXPECT_NE(p.output().find("passed on as SIGTERM to pid"), std::string::npos) << p.output();
  EXPECT_NE(p.output().find("stopped by SIGTERM"), std::string::npos) << p.output();
}

// SIGHUP, SIGQUIT, SIGUSR1 and SIGUSR2 to the supervisor's mailbox reach an
// xsig child through its own, each with the supervisor as sender; to a child
// without a mailbox they cannot go, which -v says, and nothing else happens.
TEST(Run, OtherMailboxSignalsAreForwardedToAnXsigChild) {
  xsigtest::WinProc p(run_cmd("-v", "relay"), 0, false, kWaitMs);
  ASSERT_TRUE(p.started());
  ASSERT_TRUE(p.wait_output("ready")) << p.output();
  std::string sup = std::to_string(p.pid());
  for (int s : {SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2}) {
    SCOPED_TRACE(xsig_name(s));
    ASSERT_EQ(xsig_send(p.pid(), s), 0);
    EXPECT_TRUE(p.wait_output(std::string("got ") + xsig_name(s) + " count=1 source=" +
                              std::to_string((int)XSIG_SRC_MAILBOX) + " pid=" + sup + "\n"))
        << p.output();
  }
  ASSERT_EQ(xsig_send(p.pid(), SIGTERM), 0);
  EXPECT_EQ(p.wait_exit(), 5) << p.output();
}

TEST(Run, OtherSignalsToAChildWithoutAMailboxAreSaidAndDropped) {
  xsigtest::WinProc p(run_cmd("-v --grace 0", "sleep"), 0, false, kWaitMs);
  ASSERT_TRUE(p.started());
  ASSERT_TRUE(p.wait_output("ready")) << p.output();
  ASSERT_EQ(xsig_send(p.pid(), SIGUSR1), 0); // the supervisor took it
  EXPECT_TRUE(p.wait_output("cannot forward SIGUSR1 to pid")) << p.output();
  ASSERT_EQ(xsig_send(p.pid(), SIGTERM), 0);
  EXPECT_EQ(p.wait_exit(), 137) << p.output();
}

TEST(Run, AStopReachesAChildWithoutASigtermWatchAsCtrlC) {
  own_console();
  xsigtest::WinProc p(run_cmd("-v --grace 20", "drain-int 0"), 0, false, kWaitMs);
  ASSERT_TRUE(p.started());
  ASSERT_TRUE(p.wait_output("ready")) << p.output();
  ASSERT_TRUE(GenerateConsoleCtrlEvent(CTRL_C_EVENT, 0));
  EXPECT_EQ(p.wait_exit(), 5) << p.output();
  // The mailbox refuses (no SIGTERM watch); Wine makes no Ctrl+Break, so
  // Ctrl+C to the group.
  EXPECT_NE(p.output().find("passed on as Ctrl+C to process group"), std::string::npos)
      << p.output();
  EXPECT_NE(p.output().find("stopped by SIGINT"), std::string::npos) << p.output();
}

TEST(Run, ServiceRefusesWhenTheScmDidNotStartIt) {
  xsigtest::WinProc p(run_cmd("--service xsig-test", "exit 0"), 0, false, kWaitMs);
  ASSERT_TRUE(p.started());
  EXPECT_EQ(p.wait_exit(), 1);
  EXPECT_NE(p.output().find("not started by the Service Control Manager"), std::string::npos)
      << p.output();
}

// ---------------------------------------------------------------- --service
// `xsig run --service` installed as a real service of Wine's SCM. CMD logs
// to a file (a service has no console), and its first line is its pid.

struct Stopped {
  SERVICE_STATUS_PROCESS end;
  std::set<DWORD> checkpoints; // seen while STOP_PENDING
  bool pending = false;
};

// Installs and starts `xsig run --service NAME OPTS -- win32_run_child log
// FILE CHILD`, waits until CMD is ready, calls `meanwhile` (when given), sends
// STOP and follows the status to STOPPED. *log gets the child's log;
// *child_gone whether CMD's process ended.
void run_service(const std::string &opts, const std::string &child, Stopped *out, std::string *log,
                 bool *child_gone,
                 const std::function<void(Service &, const std::string &)> &meanwhile = nullptr) {
  std::string name = unique_name("run-svc");
  std::string file = win_path(std::string(XSIG_TEST_BINARY_DIR) + "/tests/" + name + ".log");
  std::string cmd = "\"" + win_path(xsigtest::cli_path()) + "\" run --service " + name + " " +
                    opts + " -- \"" + win_path(xsigtest::helper_path("win32_run_child")) +
                    "\" log \"" + file + "\" " + child;
  HANDLE proc = nullptr;
  {
    Service svc(name, cmd);
    ASSERT_TRUE(svc.ok());
    ASSERT_TRUE(svc.start());
    ASSERT_TRUE(svc.wait_state(SERVICE_RUNNING)) << svc.status().dwCurrentState;
    ASSERT_TRUE(xsigtest::wait_until(
        [&] { return file_text(file).find("ready") != std::string::npos; }, kWaitMs))
        << file_text(file);
    DWORD pid = (DWORD)strtoul(file_text(file).c_str() + 4, nullptr, 10);
    proc = OpenProcess(SYNCHRONIZE, FALSE, pid);
    ASSERT_NE(proc, nullptr) << "CMD's pid " << pid;
    EXPECT_EQ(WaitForSingleObject(proc, 0), (DWORD)WAIT_TIMEOUT) << "CMD runs";
    if (meanwhile) meanwhile(svc, file);
    SERVICE_STATUS s = {};
    EXPECT_EQ(svc.control(SERVICE_CONTROL_STOP, &s), 0u);
    // The handler reported STOP_PENDING before it returned.
    EXPECT_EQ(s.dwCurrentState, (DWORD)SERVICE_STOP_PENDING);
    EXPECT_TRUE(xsigtest::wait_until(
        [&] {
          SERVICE_STATUS_PROCESS p = svc.status();
          if (p.dwCurrentState == SERVICE_STOP_PENDING) {
            out->pending = true;
            out->checkpoints.insert(p.dwCheckPoint);
            EXPECT_GT(p.dwWaitHint, 0u);
          }
          return p.dwCurrentState == SERVICE_STOPPED;
        },
        kWaitMs));
    out->end = svc.status();
    *child_gone = WaitForSingleObject(proc, kWaitMs) == WAIT_OBJECT_0;
    CloseHandle(proc);
    *log = file_text(file);
  } // deleted here, even after a failed ASSERT above
  remove(file.c_str());
}

// A STOP that went through STOP_PENDING, its checkpoint moving, to STOPPED
// with CMD's exit status `code` as the service-specific code, CMD gone.
void expect_drained_stop(const Stopped &st, DWORD code, bool gone) {
  EXPECT_TRUE(st.pending);
  EXPECT_GE(st.checkpoints.size(), 2u) << "the checkpoint did not move";
  EXPECT_EQ(st.end.dwCurrentState, (DWORD)SERVICE_STOPPED);
  EXPECT_EQ(st.end.dwWin32ExitCode, (DWORD)ERROR_SERVICE_SPECIFIC_ERROR);
  EXPECT_EQ(st.end.dwServiceSpecificExitCode, code) << "CMD's exit code";
  EXPECT_TRUE(gone) << "CMD's process ended";
}

// PARAMCHANGE (SIGHUP) and a user control (SIGUSR1) reach an xsig CMD
// through its mailbox, so a service under xsig run can be told to reload.
TEST(Run, ServiceParamchangeAndUserControlsReachAnXsigChild) {
  Stopped st;
  std::string log;
  bool gone = false;
  std::string mbox = " source=" + std::to_string((int)XSIG_SRC_MAILBOX);
  run_service("-v --grace 30", "relay", &st, &log, &gone,
              [&](Service &svc, const std::string &file) {
                EXPECT_EQ(svc.control(SERVICE_CONTROL_PARAMCHANGE), 0u);
                EXPECT_TRUE(xsigtest::wait_until([&] {
                  return file_text(file).find("got SIGHUP count=1" + mbox) != std::string::npos;
                })) << file_text(file);
                EXPECT_EQ(svc.control(130), 0u);
                EXPECT_TRUE(xsigtest::wait_until([&] {
                  return file_text(file).find("got SIGUSR1 count=1" + mbox) != std::string::npos;
                })) << file_text(file);
              });
  EXPECT_EQ(st.end.dwCurrentState, (DWORD)SERVICE_STOPPED);
  EXPECT_EQ(st.end.dwServiceSpecificExitCode, 5u) << log;
  EXPECT_TRUE(gone);
}

// STOP reaches an xsig CMD through its mailbox as SIGTERM; the service is
// STOP_PENDING, its checkpoint moving, while CMD drains, then STOPPED with
// CMD's exit code.
TEST(Run, ServiceStopDrainsAnXsigChildAndReportsItsCode) {
  Stopped st;
  std::string log;
  bool gone = false;
  run_service("-v --grace 30", "drain 3000", &st, &log, &gone);
  if (HasFatalFailure()) return;
  EXPECT_NE(log.find("stopped by SIGTERM"), std::string::npos) << log;
  EXPECT_NE(log.find("draining"), std::string::npos) << log;
  expect_drained_stop(st, 5, gone);
}

// A CMD that the mailbox cannot stop (it watches no SIGTERM) gets the console
// fallback: a service has no console, so the supervisor made one, which CMD
// shares, and the stop comes as Ctrl+C to CMD's group (Wine makes no
// Ctrl+Break). Without that console it stayed running until the grace.
TEST(Run, ServiceStopReachesAChildOnTheSupervisorsConsole) {
  Stopped st;
  std::string log;
  bool gone = false;
  run_service("-v --grace 30", "drain-int 3000", &st, &log, &gone);
  if (HasFatalFailure()) return;
  EXPECT_NE(log.find("console yes"), std::string::npos) << log;
  EXPECT_NE(log.find("stopped by SIGINT"), std::string::npos) << log;
  EXPECT_NE(log.find("draining"), std::string::npos) << log;
  expect_drained_stop(st, 5, gone);
}

// A CMD that keeps Ctrl+C off (any non-xsig program in its own group): under
// Wine no stop reaches it, so --grace ends its job, and the service is still
// STOPPED, with 137.
TEST(Run, ServiceStopEndsAChildThatIgnoresItAfterTheGrace) {
  Stopped st;
  std::string log;
  bool gone = false;
  run_service("-v --grace 2", "sleep", &st, &log, &gone);
  if (HasFatalFailure()) return;
  EXPECT_NE(log.find("console yes"), std::string::npos) << log;
  expect_drained_stop(st, 137, gone); // 137: RUN_KILLED_STATUS, the job terminated
}

// CMD that exits on its own ends the service: STOPPED with its code, and 0
// is NO_ERROR.
TEST(Run, ServiceEndsWithItsChild) {
  for (int code : {0, 9}) {
    std::string name = unique_name("run-exit");
    std::string cmd = "\"" + win_path(xsigtest::cli_path()) + "\" run --service " + name +
                      " -- \"" + win_path(xsigtest::helper_path("win32_run_child")) + "\" exit " +
                      std::to_string(code);
    Service svc(name, cmd);
    ASSERT_TRUE(svc.ok());
    ASSERT_TRUE(svc.start());
    ASSERT_TRUE(svc.wait_state(SERVICE_STOPPED)) << svc.status().dwCurrentState;
    SERVICE_STATUS_PROCESS s = svc.status();
    EXPECT_EQ(s.dwWin32ExitCode, code ? (DWORD)ERROR_SERVICE_SPECIFIC_ERROR : 0u) << code;
    EXPECT_EQ(s.dwServiceSpecificExitCode, (DWORD)code);
  }
}

TEST(Run, PdeathIsRefusedOnWindows) {
  xsigtest::WinProc p(run_cmd("--pdeath TERM", "exit 0"), 0, false, kWaitMs);
  ASSERT_TRUE(p.started());
  EXPECT_EQ(p.wait_exit(), 2);
}

} // namespace

namespace {

// xsig inspect on Windows: a process on the same console is seen as such, it
// is not a service (the SCM answers under Wine), and no masks are claimed.
TEST(Inspect, TellsConsoleAndServiceOfAProcess) {
  own_console();
  xsigtest::WinProc target("\"" + xsigtest::helper_path("win32_run_child") + "\" sleep", 0, false,
                           kWaitMs);
  ASSERT_TRUE(target.started());
  ASSERT_TRUE(target.wait_output("ready")) << target.output();
  xsigtest::WinProc p("\"" + xsigtest::cli_path() + "\" inspect --json " +
                          std::to_string(target.pid()),
                      0, false, kWaitMs);
  ASSERT_EQ(p.wait_exit(), 0) << p.output();
  std::string out = p.output();
  EXPECT_NE(out.find("\"name\":\"win32_run_child.exe\""), std::string::npos) << out;
  EXPECT_NE(out.find("\"console\":true"), std::string::npos) << out;
  EXPECT_NE(out.find("\"service\":false"), std::string::npos) << out;
  EXPECT_NE(out.find("\"masks_known\":false"), std::string::npos) << out;
  xsigtest::WinProc gone("\"" + xsigtest::cli_path() + "\" inspect 4000000000", 0, false, kWaitMs);
  EXPECT_EQ(gone.wait_exit(), 2) << "beyond a pid: bad usage";
}

} // namespace
