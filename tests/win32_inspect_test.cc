// xsig_accepts (the mailbox's own answer to "which signals do you take") and
// what `xsig inspect` and `xsig list --json` make of it on Windows, against
// real child processes: tests/helpers/win32_mbox_child.c and the xsig CLI.
#include "support/win32_proc.h"

#include <string>

namespace {

const int kWaitMs = 30000;

class Target : public xsigtest::WinProc {
public:
  explicit Target(const std::string &args)
      : WinProc("\"" + xsigtest::helper_path("win32_mbox_child") + "\" " + args, 0, true, kWaitMs) {
  }
  bool ready() {
    return started() && wait_output("ready pid=" + std::to_string(pid()) + "\n");
  }
};

// Runs the CLI to its end: its exit status and everything it printed.
long long cli(const std::string &args, std::string *out) {
  xsigtest::WinProc p("\"" + xsigtest::cli_path() + "\" " + args, 0, true, kWaitMs);
  EXPECT_TRUE(p.started());
  long long code = p.wait_exit();
  *out = p.output();
  return code;
}

} // namespace

// The exact set the target watches, in ascending order; the count when the
// buffer is short, as xsig_signals() does.
TEST(Win32Inspect, AcceptsListsExactlyTheSignalsTheTargetWatches) {
  Target t("target TERM,HUP");
  ASSERT_TRUE(t.ready()) << t.output();
  int sigs[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  ASSERT_EQ(xsig_accepts(t.pid(), sigs, 8), 2);
  EXPECT_EQ(sigs[0], SIGHUP);
  EXPECT_EQ(sigs[1], SIGTERM);
  EXPECT_EQ(sigs[2], 0);
  int one[1] = {0};
  EXPECT_EQ(xsig_accepts(t.pid(), one, 1), 2);
  EXPECT_EQ(one[0], SIGHUP);
  EXPECT_EQ(xsig_accepts(t.pid(), nullptr, 0), 2);
  EXPECT_EQ(xsig_accepts(t.pid(), nullptr, 1), XSIG_EINVAL);
  EXPECT_EQ(xsig_accepts(0, sigs, 8), XSIG_EINVAL);
  EXPECT_EQ(xsig_accepts(-5, sigs, 8), XSIG_EINVAL);
  // Asking delivers nothing.
  EXPECT_EQ(t.output().find("got"), std::string::npos) << t.output();
  t.finish();
  EXPECT_EQ(t.wait_exit(), 0) << t.output();
}

TEST(Win32Inspect, AcceptsSaysENOLISTENWithoutAMailboxAndESRCHWithoutAProcess) {
  Target none("target none");
  ASSERT_TRUE(none.ready()) << none.output();
  int sigs[8];
  EXPECT_EQ(xsig_accepts(none.pid(), sigs, 8), XSIG_ENOLISTEN);
  DWORD gone = none.pid();
  none.finish();
  // Its handle is still held (by none), so the id is not reused meanwhile.
  ASSERT_EQ(none.wait_exit(), 0) << none.output();
  EXPECT_EQ(xsig_accepts(gone, sigs, 8), XSIG_ESRCH);
  EXPECT_EQ(xsig_accepts(0x7ffffffc, sigs, 8), XSIG_ESRCH);
}

// This process: no mailbox until it watches one of the mailbox's signals, then
// exactly that one (the mailbox answers its own process too).
TEST(Win32Inspect, AcceptsOnItselfFollowsItsWatches) {
  ASSERT_EQ(xsig_init(), 0);
  int sigs[8];
  int64_t me = GetCurrentProcessId();
  EXPECT_EQ(xsig_accepts(me, sigs, 8), XSIG_ENOLISTEN);
  xsigtest::Rec rec;
  xsig_watch_t *w = nullptr;
  ASSERT_EQ(xsig_watch(nullptr, SIGUSR1, xsigtest::record, &rec, 0, &w), 0);
  ASSERT_EQ(xsig_accepts(me, sigs, 8), 1);
  EXPECT_EQ(sigs[0], SIGUSR1);
  ASSERT_EQ(xsig_unwatch(w), 0);
  EXPECT_EQ(xsig_accepts(me, sigs, 8), XSIG_ENOLISTEN);
  xsig_shutdown();
}

TEST(Win32Inspect, InspectShowsTheMailboxAndTheSignalsItAccepts) {
  Target t("target TERM,HUP");
  Target none("target none");
  ASSERT_TRUE(t.ready()) << t.output();
  ASSERT_TRUE(none.ready()) << none.output();
  std::string pid = std::to_string(t.pid()), out;
  ASSERT_EQ(cli("inspect --json " + pid, &out), 0) << out;
  EXPECT_NE(out.find("\"mailbox\":true,\"accepts\":[\"SIGHUP\",\"SIGTERM\"]"), std::string::npos)
      << out;
  EXPECT_NE(
      out.find("{\"id\":\"mailbox\",\"text\":\"has an xsig mailbox: accepts SIGHUP SIGTERM\"}"),
      std::string::npos)
      << out;
  EXPECT_EQ(out.find("whether it has an xsig mailbox"), std::string::npos) << out;
  ASSERT_EQ(cli("inspect " + pid, &out), 0) << out;
  EXPECT_NE(out.find("\nxsig mailbox: yes, accepts SIGHUP SIGTERM\n"), std::string::npos) << out;
  EXPECT_NE(out.find("  - has an xsig mailbox: accepts SIGHUP SIGTERM\n"), std::string::npos)
      << out;

  std::string npid = std::to_string(none.pid());
  ASSERT_EQ(cli("inspect --json " + npid, &out), 0) << out;
  EXPECT_NE(out.find("\"mailbox\":false,\"accepts\":null"), std::string::npos) << out;
  EXPECT_NE(
      out.find("{\"id\":\"no-mailbox\",\"text\":\"no xsig mailbox: `xsig send " + npid + " TERM`"),
      std::string::npos)
      << out;
  ASSERT_EQ(cli("inspect " + npid, &out), 0) << out;
  EXPECT_NE(out.find("\nxsig mailbox: no\n"), std::string::npos) << out;
  EXPECT_NE(out.find("will fail with ENOLISTEN"), std::string::npos) << out;
  // Nothing was delivered by looking.
  EXPECT_EQ(t.output().find("got"), std::string::npos) << t.output();
  t.finish();
  none.finish();
  EXPECT_EQ(t.wait_exit(), 0) << t.output();
  EXPECT_EQ(none.wait_exit(), 0) << none.output();
}

// `xsig list --json` says what the text table's last line says: run from a
// test, xsig is no service.
TEST(Win32Inspect, ListJsonSaysWhetherItIsAService) {
  std::string out;
  ASSERT_EQ(cli("list --json", &out), 0) << out;
  EXPECT_EQ(out.rfind("{\"schema\":1,\"platform\":\"windows\",\"service\":false,\"signals\":[", 0),
            0u)
      << out;
  ASSERT_EQ(cli("list", &out), 0) << out;
  EXPECT_NE(out.find("# service: no ("), std::string::npos) << out;
}
