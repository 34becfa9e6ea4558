// `xsig run` on Windows, under Wine: exit codes pass through, the job object
// ends a grandchild when the supervisor is killed, --grace terminates a child
// that a stop cannot reach, a Ctrl+C on the console stops an xsig child, and
// a stop to the supervisor reaches an xsig child, and --service refuses
// clearly until xsig_service_start is wired. Wine cannot make Ctrl+Break, so
// the supervisor's Ctrl+C fallback is what is shown here (docs/RUN.md); the
// mailbox's SIGTERM comes with the mailbox branch.
#include <gtest/gtest.h>

#include "support/support.h"
#include "support/win32_proc.h"

namespace {

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
  // Through the supervisor: Wine makes no Ctrl+Break, so Ctrl+C to the group.
  EXPECT_NE(p.output().find("passed on as Ctrl+C to process group"), std::string::npos)
      << p.output();
  EXPECT_NE(p.output().find("stopped by SIGINT"), std::string::npos) << p.output();
}

TEST(Run, ServiceRefusesClearlyUntilWired) {
  xsigtest::WinProc p(run_cmd("--service xsig-test", "exit 0"), 0, false, kWaitMs);
  ASSERT_TRUE(p.started());
  EXPECT_EQ(p.wait_exit(), 1);
  EXPECT_NE(p.output().find("xsig_service_start"), std::string::npos) << p.output();
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
