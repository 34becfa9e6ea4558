// The installed tree works for a consumer: the project is configured, built and
// installed into a temporary prefix (static and shared), then a tiny C program
// is built against it with find_package(xsig CONFIG) and with pkg-config, and
// run. The shared library must export only the xsig_ API. With shared
// libraries the installed CLI runs from the temporary prefix with no help from
// the environment (its RPATH is relative), and the manuals are installed.
#include <gtest/gtest.h>

#include "xsig/xsig.h"

#include <climits>
#include <cstdlib>

#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <set>
#include <sstream>
#include <string>

namespace {

struct Out {
  int code;
  std::string text;
};

// Runs a shell command, stdout and stderr together.
Out sh(const std::string &cmd) {
  Out o{-1, ""};
  FILE *p = popen((cmd + " 2>&1").c_str(), "r");
  if (!p) return o;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) o.text.append(buf, n);
  int st = pclose(p);
  o.code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return o;
}

std::string q(const std::string &s) {
  std::string r = "'";
  for (char c : s) r += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return r + "'";
}

void write_file(const std::string &path, const std::string &text) {
  std::ofstream f(path);
  f << text;
  ASSERT_TRUE(f.good()) << path;
}

bool exists(const std::string &path) {
  return access(path.c_str(), F_OK) == 0;
}

const char *const consumer_c = R"(#define _POSIX_C_SOURCE 200809L
#include <xsig/xsig.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int got;
static long long from;

static void on_usr1(const xsig_event_t *ev, void *user) {
  (void)user;
  got += ev->signum == SIGUSR1;
  from = (long long)ev->sender_pid;
}

int main(void) {
  char v[32];
  snprintf(v, sizeof v, "%d.%d.%d", XSIG_VERSION_MAJOR, XSIG_VERSION_MINOR, XSIG_VERSION_PATCH);
  if (strcmp(xsig_version(), v) != 0) return 9;
  if (xsig_init() != 0) return 10;
  if (xsig_watch(NULL, SIGUSR1, on_usr1, NULL, 0, NULL) != 0) return 11;
  if (xsig_disposition(SIGUSR1) != XSIG_DISP_XSIG) return 12;
  if (xsig_raise(SIGUSR1) != 0) return 13;
  if (xsig_wait(NULL, 10000) != 1 || got != 1) return 14;
  if (from != (long long)getpid()) return 15;
  xsig_shutdown();
  if (xsig_disposition(SIGUSR1) != XSIG_DISP_DEFAULT) return 16;
  puts("consumer ok");
  return 0;
}
)";

const char *const consumer_cmake = R"(cmake_minimum_required(VERSION 3.20)
project(xsig_consumer LANGUAGES C)
find_package(xsig 0.1 CONFIG REQUIRED)
add_executable(consumer consumer.c)
target_link_libraries(consumer PRIVATE xsig::xsig)
)";

class Install : public ::testing::Test {
protected:
  void SetUp() override {
    // The nested builds are plain builds: nothing of the enclosing one (its
    // sanitizer flags, a make jobserver, a staging DESTDIR) may reach them.
    for (const char *v : {"CFLAGS", "CPPFLAGS", "LDFLAGS", "CC", "MAKEFLAGS", "MFLAGS", "MAKELEVEL",
                          "DESTDIR", "PKG_CONFIG_PATH", "CMAKE_PREFIX_PATH"})
      unsetenv(v);
    char tmpl[] = "/tmp/xsig-install-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    prefix_ = dir_ + "/prefix";
    libdir_ = prefix_ + "/lib";
  }
  void TearDown() override {
    if (!dir_.empty() && !HasFailure())
      sh("rm -rf " + q(dir_));
    else if (!dir_.empty())
      std::printf("kept %s for a look\n", dir_.c_str());
  }

  void build_and_install(bool shared, bool tools = false) {
    std::string build = dir_ + "/build";
    Out o = sh("cmake -S " + q(XSIG_TEST_SOURCE_DIR) + " -B " + q(build) +
               " -DCMAKE_C_COMPILER=" + q(XSIG_TEST_C_COMPILER) +
               " -DCMAKE_BUILD_TYPE=Release -DCMAKE_C_FLAGS= -DCMAKE_EXE_LINKER_FLAGS="
               " -DCMAKE_SHARED_LINKER_FLAGS= -DBUILD_SHARED_LIBS=" +
               (shared ? "ON" : "OFF") +
               " -DXSIG_BUILD_TESTS=OFF -DXSIG_BUILD_TOOLS=" + (tools ? "ON" : "OFF") +
               " -DXSIG_BUILD_EXAMPLES=OFF"
               " -DXSIG_BUILD_BENCH=OFF -DCMAKE_INSTALL_LIBDIR=lib -DCMAKE_INSTALL_PREFIX=" +
               q(prefix_));
    ASSERT_EQ(o.code, 0) << o.text;
    o = sh("cmake --build " + q(build) + " -j 2");
    ASSERT_EQ(o.code, 0) << o.text;
    o = sh("cmake --install " + q(build));
    ASSERT_EQ(o.code, 0) << o.text;
    EXPECT_TRUE(exists(prefix_ + "/include/xsig/xsig.h"));
    EXPECT_TRUE(exists(libdir_ + "/pkgconfig/xsig.pc"));
    EXPECT_TRUE(exists(libdir_ + "/cmake/xsig/xsigConfig.cmake"));
    EXPECT_TRUE(exists(libdir_ + "/cmake/xsig/xsigConfigVersion.cmake"));
    EXPECT_TRUE(exists(libdir_ + (shared ? "/libxsig.so" : "/libxsig.a")));
    EXPECT_EQ(exists(libdir_ + "/libxsig.so"), shared);
    EXPECT_TRUE(exists(prefix_ + "/share/man/man3/xsig.3"));
    EXPECT_TRUE(exists(prefix_ + "/share/man/man3/xsig-lifecycle.3"));
    EXPECT_EQ(exists(prefix_ + "/share/man/man1/xsig.1"), tools);
    write_file(dir_ + "/consumer.c", consumer_c);
    write_file(dir_ + "/CMakeLists.txt", consumer_cmake);
  }

  // Runs a built consumer; it checks everything itself and says so.
  void run_consumer(const std::string &exe) {
    Out o = sh(q(exe));
    EXPECT_EQ(o.code, 0) << o.text;
    EXPECT_EQ(o.text, "consumer ok\n");
  }

  void consume_with_cmake(bool shared) {
    std::string build = dir_ + "/consumer-cmake";
    Out o =
        sh("cmake -S " + q(dir_) + " -B " + q(build) +
           " -DCMAKE_C_COMPILER=" + q(XSIG_TEST_C_COMPILER) +
           " -DCMAKE_C_FLAGS= -DCMAKE_EXE_LINKER_FLAGS=" + " -DCMAKE_PREFIX_PATH=" + q(prefix_));
    ASSERT_EQ(o.code, 0) << o.text;
    o = sh("cmake --build " + q(build));
    ASSERT_EQ(o.code, 0) << o.text;
    if (shared) expect_links_installed(build + "/consumer");
    run_consumer(build + "/consumer");
  }

  void consume_with_pkg_config(bool shared) {
    std::string env = "PKG_CONFIG_LIBDIR=" + q(libdir_ + "/pkgconfig") + " ";
    Out flags = sh(env + "pkg-config --cflags --libs " + (shared ? "" : "--static ") + "xsig");
    ASSERT_EQ(flags.code, 0) << flags.text;
    while (!flags.text.empty() && flags.text.back() == '\n') flags.text.pop_back();
    // The .pc file names its prefix relative to itself: compare real paths.
    Out inc = sh(env + "pkg-config --variable=includedir xsig");
    while (!inc.text.empty() && inc.text.back() == '\n') inc.text.pop_back();
    char want[PATH_MAX], got[PATH_MAX];
    ASSERT_NE(nullptr, realpath((prefix_ + "/include").c_str(), want));
    ASSERT_NE(nullptr, realpath(inc.text.c_str(), got)) << inc.text;
    EXPECT_STREQ(want, got);
    EXPECT_NE(flags.text.find("-I" + inc.text), std::string::npos) << flags.text;
    std::string exe = dir_ + "/consumer-pc";
    std::string link = flags.text + (shared ? " -Wl,-rpath," + q(libdir_) : "");
    Out o = sh(q(XSIG_TEST_C_COMPILER) + " -std=c11 -o " + q(exe) + " " + q(dir_ + "/consumer.c") +
               " " + link);
    ASSERT_EQ(o.code, 0) << o.text;
    if (shared) expect_links_installed(exe);
    run_consumer(exe);
  }

  // The program resolves libxsig from the installed tree, not from elsewhere.
  void expect_links_installed(const std::string &exe) {
    Out o = sh("ldd " + q(exe));
    EXPECT_NE(o.text.find(libdir_ + "/libxsig.so"), std::string::npos) << o.text;
  }

  // Hidden visibility and the version script leave exactly the xsig_ API.
  void expect_exports_only_api() {
    Out o = sh("nm -D --defined-only " + q(libdir_ + "/libxsig.so"));
    ASSERT_EQ(o.code, 0) << o.text;
    std::set<std::string> exported;
    std::istringstream in(o.text);
    for (std::string line; std::getline(in, line);) {
      std::istringstream w(line);
      std::string addr, type, name;
      if (!(w >> addr >> type >> name)) continue;
      if (type == "A") continue; // the version node (XSIG_0), not a symbol
      name = name.substr(0, name.find('@'));
      exported.insert(name);
      EXPECT_EQ(name.rfind("xsig_", 0), 0u) << "exported: " << line;
    }
    // The whole public API is there, so the filter above saw real symbols.
    for (const char *api : {"xsig_init", "xsig_shutdown", "xsig_watch", "xsig_unwatch", "xsig_wait",
                            "xsig_dispatch", "xsig_send", "xsig_signals", "xsig_name",
                            "xsig_from_name", "xsig_disposition", "xsig_feed"})
      EXPECT_EQ(exported.count(api), 1u) << api;
  }

  // The installed CLI finds the installed libxsig.so.0 through its relative
  // RPATH, wherever the prefix is, and after the prefix is moved (last: the
  // prefix is gone afterwards).
  void expect_cli_runs_from_any_prefix() {
    std::string xsig = prefix_ + "/bin/xsig";
    ASSERT_TRUE(exists(xsig));
    Out o = sh("readelf -d " + q(xsig));
    EXPECT_NE(o.text.find("[$ORIGIN/../lib]"), std::string::npos) << o.text;
    // Nothing in the environment points at the prefix.
    std::string clean = "env -u LD_LIBRARY_PATH -u LD_PRELOAD ";
    o = sh(clean + "ldd " + q(xsig));
    EXPECT_NE(o.text.find(prefix_ + "/bin/../lib/libxsig.so.0"), std::string::npos) << o.text;
    o = sh(clean + q(xsig) + " --version");
    EXPECT_EQ(o.code, 0) << o.text;
    EXPECT_EQ(o.text.rfind(std::string("xsig ") + xsig_version() + " (", 0), 0u) << o.text;
    o = sh(clean + q(xsig) + " names");
    EXPECT_EQ(o.code, 0) << o.text;
    EXPECT_NE(o.text.find("SIGTERM"), std::string::npos) << o.text;
    // A moved prefix still works: the path is relative to the program.
    std::string moved = dir_ + "/moved";
    ASSERT_EQ(sh("mv " + q(prefix_) + " " + q(moved)).code, 0);
    o = sh(clean + q(moved + "/bin/xsig") + " --version");
    EXPECT_EQ(o.code, 0) << o.text;
    o = sh(clean + "ldd " + q(moved + "/bin/xsig"));
    EXPECT_NE(o.text.find(moved + "/bin/../lib/libxsig.so.0"), std::string::npos) << o.text;
  }

  std::string dir_, prefix_, libdir_;
};

TEST_F(Install, StaticLibraryServesBothConsumers) {
  ASSERT_NO_FATAL_FAILURE(build_and_install(false));
  ASSERT_NO_FATAL_FAILURE(consume_with_cmake(false));
  ASSERT_NO_FATAL_FAILURE(consume_with_pkg_config(false));
}

TEST_F(Install, SharedLibraryExportsOnlyTheApiAndServesBothConsumersAndTheCli) {
  ASSERT_NO_FATAL_FAILURE(build_and_install(true, true));
  expect_exports_only_api();
  ASSERT_NO_FATAL_FAILURE(consume_with_cmake(true));
  ASSERT_NO_FATAL_FAILURE(consume_with_pkg_config(true));
  ASSERT_NO_FATAL_FAILURE(expect_cli_runs_from_any_prefix());
}

// One version everywhere: the header's macros (the source of truth), what the
// library says, CMake's project version (read from the header) and the .pc
// file generated from it.
TEST(Version, HeaderLibraryCMakeAndPkgConfigAgree) {
  std::string v = std::to_string(XSIG_VERSION_MAJOR) + "." + std::to_string(XSIG_VERSION_MINOR) +
                  "." + std::to_string(XSIG_VERSION_PATCH);
  EXPECT_EQ(v, xsig_version());
  std::ifstream cache(std::string(XSIG_TEST_BINARY_DIR) + "/CMakeCache.txt");
  std::string line, cmake_version, pc_version;
  while (std::getline(cache, line))
    if (line.rfind("CMAKE_PROJECT_VERSION:STATIC=", 0) == 0)
      cmake_version = line.substr(line.find('=') + 1);
  EXPECT_EQ(cmake_version, v);
  std::ifstream pc(std::string(XSIG_TEST_BINARY_DIR) + "/xsig.pc");
  while (std::getline(pc, line))
    if (line.rfind("Version: ", 0) == 0) pc_version = line.substr(9);
  EXPECT_EQ(pc_version, v);
}

} // namespace
