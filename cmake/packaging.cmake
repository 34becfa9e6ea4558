# CPack: the Debian package set, a .tar.gz for Linux and a .zip for Windows.
# ci/package.sh runs the build that feeds them; docs/PACKAGING.md says how.
#
#   cpack -G DEB    libxsig0 (the runtime library, soname libxsig.so.0),
#                   libxsig-dev (headers, libxsig.so, libxsig.a when built,
#                   pkg-config and CMake files, section 3 manuals) and xsig
#                   (the CLI and xsig(1))
#   cpack -G TGZ    one tree: bin, lib, include, share/man
#   cpack -G ZIP    the same for Windows (mingw build): xsig.exe, libxsig.dll,
#                   libxsig.dll.a, libxsig.a and the headers
set(CPACK_PACKAGE_NAME xsig)
set(CPACK_PACKAGE_VENDOR "xsig")
set(CPACK_PACKAGE_CONTACT "xsig maintainers <xsig@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "one signal-handling API for POSIX and Windows")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_RESOURCE_FILE_README ${CMAKE_CURRENT_SOURCE_DIR}/README.md)
set(CPACK_STRIP_FILES OFF)
if(WIN32)
  set(CPACK_SYSTEM_NAME windows-${CMAKE_SYSTEM_PROCESSOR})
  set(CPACK_GENERATOR ZIP)
else()
  set(CPACK_GENERATOR "TGZ;DEB")
endif()
# The archives hold every component in one tree; the Debian set one package
# per component.
set(CPACK_ARCHIVE_COMPONENT_INSTALL OFF)
set(CPACK_COMPONENTS_ALL lib dev cli)

# ---- Debian: names, sections and dependencies after Debian policy. The
# library package is named after the soname (libxsig.so.0 -> libxsig0).
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_DEBIAN_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_DEBIAN_PACKAGE_RELEASE 1)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION libs)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_HOMEPAGE "https://example.invalid/xsig")
set(xsig_deb_version "${PROJECT_VERSION}-1")
set(xsig_soname_pkg "libxsig${PROJECT_VERSION_MAJOR}")

set(CPACK_DEBIAN_LIB_PACKAGE_NAME ${xsig_soname_pkg})
set(CPACK_DEBIAN_LIB_PACKAGE_SECTION libs)
# dpkg-shlibdeps reads the libc version the library needs from its symbols;
# it needs only dpkg-dev, which ci/deps.sh installs. The shlibs file it
# writes tells later builds which package provides libxsig.so.0.
set(CPACK_DEBIAN_LIB_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS ON)
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS_POLICY "=")
set(CPACK_COMPONENT_LIB_DESCRIPTION "The runtime library. xsig counts signals in an async-signal-safe
handler and runs callbacks later in ordinary code, from xsig_dispatch,
xsig_wait or any event loop.")

set(CPACK_DEBIAN_DEV_PACKAGE_NAME libxsig-dev)
set(CPACK_DEBIAN_DEV_PACKAGE_SECTION libdevel)
set(CPACK_DEBIAN_DEV_PACKAGE_ARCHITECTURE_ALL OFF)
# The -dev package holds the unversioned symlink: it goes with exactly one
# build of the runtime library.
set(CPACK_DEBIAN_DEV_PACKAGE_DEPENDS "${xsig_soname_pkg} (= ${xsig_deb_version})")
set(CPACK_COMPONENT_DEV_DESCRIPTION "Development files: headers, the link libraries, pkg-config and
CMake package files, and the xsig(3) and xsig-lifecycle(3) manuals.")

set(CPACK_DEBIAN_CLI_PACKAGE_NAME xsig)
set(CPACK_DEBIAN_CLI_PACKAGE_SECTION utils)
# dpkg-shlibdeps gives the CLI its libc dependency; CPack runs it with
# --ignore-missing-info, so the link to libxsig.so.0 (in no installed package
# while it is built) is named here instead: any build of this soname at least
# as new serves, as the CLI uses the public API only.
set(CPACK_DEBIAN_CLI_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS_PRIVATE_DIRS ${CMAKE_CURRENT_BINARY_DIR})
set(CPACK_DEBIAN_CLI_PACKAGE_DEPENDS "${xsig_soname_pkg} (>= ${xsig_deb_version})")
set(CPACK_COMPONENT_CLI_DESCRIPTION "The xsig command-line tool: lists this platform's signals, sends
them, waits for them, runs a program under a signal-forwarding init.")

include(CPack)
