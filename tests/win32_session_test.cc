// Logoff and shutdown in a program that has user32 loaded: Windows tells it
// through WM_QUERYENDSESSION and WM_ENDSESSION to its top-level windows, never
// through the console handler, so xsig's hidden window must turn them into
// SIGTERM. Wine's `wineboot --end-session` sends both messages to every
// top-level window of the prefix (with its null graphics driver, which
// ci/test-wine.sh sets, no display is needed); this test runs alone.
#include "support/support.h"
#include "support/win32_proc.h"
#include <gtest/gtest.h>

namespace {

constexpr int kWaitMs = 60000;

TEST(Win32Session, EndSessionReachesASigtermWatchInAProgramWithUser32) {
  xsigtest::WinProc child("\"" + xsigtest::helper_path("win32_child") + "\" endsession", 0, true,
                          kWaitMs);
  ASSERT_TRUE(child.started());
  ASSERT_TRUE(child.wait_output("ready\n")) << child.output();
  xsigtest::WinProc boot("wineboot.exe --end-session", 0, true, kWaitMs);
  ASSERT_TRUE(boot.started());
  // 42 is the helper's exit from its SIGTERM callback, while the window's
  // thread is held in WM_ENDSESSION as a console handler would be.
  EXPECT_EQ(child.wait_exit(), 42) << child.output();
  EXPECT_NE(child.output().find("SIGTERM native="), std::string::npos) << child.output();
  EXPECT_NE(child.output().find(" held=1\n"), std::string::npos) << child.output();
  boot.finish();
  boot.wait_exit();
}

} // namespace
