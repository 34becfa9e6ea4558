#!/usr/bin/env bash
# Packages and what ships in them, in one RelWithDebInfo shared build
# (build-ci/pkg): the Debian set and the .tar.gz (CPack), installed with
# dpkg -i and used by a consumer built with pkg-config and with find_package,
# then removed; the manuals linted; the ABI checked against abi/xsig.abi
# (ci/abi.sh); the integration examples run (ctest -L integration), which must
# all be built here (XSIG_REQUIRE_INTEGRATIONS=ON).
#
# Usage: ci/package.sh [--no-dpkg]   (--no-dpkg: everything but the install,
# for a machine where you are not root). Called by ci/test.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
build=$root/build-ci/pkg
jobs=$(nproc 2>/dev/null || echo 2)
dpkg_test=1
[ "${1:-}" = --no-dpkg ] && dpkg_test=0
start=$(date +%s)
bash ci/deps.sh native # a no-op when ci/test.sh has run it

echo "=== package: build"
# Prefix /usr, multiarch libdir and no RPATH: what a Debian package holds.
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBUILD_SHARED_LIBS=ON \
  -DXSIG_ALSO_STATIC=ON -DXSIG_INSTALL_RPATH=OFF -DCMAKE_INSTALL_PREFIX=/usr \
  -DXSIG_BUILD_TESTS=OFF -DXSIG_TEST_EXAMPLES=ON -DXSIG_REQUIRE_INTEGRATIONS=ON \
  -DCMAKE_C_FLAGS="-Werror" >/dev/null
cmake --build "$build" -j "$jobs" >/dev/null
rm -f "$build"/*.deb
(cd "$build" && cpack -G DEB >/dev/null)
# The .tar.gz unpacks anywhere: plain lib/ and the relative RPATH, so it is a
# build of its own (the library and the CLI only).
tbuild=$root/build-ci/pkg-tgz
cmake -S "$root" -B "$tbuild" -DCMAKE_BUILD_TYPE=Release -DBUILD_SHARED_LIBS=ON -DXSIG_ALSO_STATIC=ON \
  -DCMAKE_INSTALL_LIBDIR=lib -DXSIG_BUILD_TESTS=OFF -DXSIG_BUILD_EXAMPLES=OFF >/dev/null
cmake --build "$tbuild" -j "$jobs" >/dev/null
rm -f "$tbuild"/*.tar.gz
(cd "$tbuild" && cpack -G TGZ >/dev/null)

echo "=== package: manuals"
bash ci/manlint.sh

echo "=== package: ABI"
bash ci/abi.sh "$build/libxsig.so"

echo "=== package: integrations"
(cd "$build" && ctest -L integration -j "$jobs" --output-on-failure --timeout 120)

echo "=== package: contents"
ver=$(sed -n 's/^CMAKE_PROJECT_VERSION:STATIC=//p' "$build/CMakeCache.txt")
arch=$(dpkg --print-architecture)
debs=("$build/libxsig0_${ver}-1_$arch.deb" "$build/libxsig-dev_${ver}-1_$arch.deb"
  "$build/xsig_${ver}-1_$arch.deb")
for d in "${debs[@]}"; do [ -f "$d" ] || { echo "package.sh: missing $d" >&2; exit 1; }; done
field() { dpkg-deb -f "$1" "$2"; }
check() { [ "$1" = "$2" ] || { echo "package.sh: $3: '$1', want '$2'" >&2; exit 1; }; }
has() { # deb path; grep -q on a pipe would cut dpkg-deb off (SIGPIPE)
  local list
  list=$(dpkg-deb -c "$1")
  grep -q " \./$2\( \|$\)" <<<"$list" || { echo "package.sh: $1 lacks $2" >&2; exit 1; }
}
multi=usr/lib/$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || gcc -print-multiarch)
check "$(field "${debs[0]}" Package)" libxsig0 "runtime package name"
check "$(dpkg-deb --ctrl-tarfile "${debs[0]}" | tar -xO ./shlibs)" "libxsig 0 libxsig0 (= ${ver}-1)" "shlibs"
field "${debs[0]}" Depends | grep -q '^libc6 (>= ' || { echo "package.sh: libxsig0 does not depend on libc6" >&2; exit 1; }
has "${debs[0]}" "$multi/libxsig.so.0 -> libxsig.so.$ver"
check "$(field "${debs[1]}" Depends)" "libxsig0 (= ${ver}-1)" "libxsig-dev Depends"
for f in usr/include/xsig/xsig.h usr/include/xsig/lifecycle.h "$multi/libxsig.a" "$multi/pkgconfig/xsig.pc" "$multi/pkgconfig/xsig-static.pc" \
  "$multi/cmake/xsig/xsigConfig.cmake" usr/share/man/man3/xsig.3 usr/share/man/man3/xsig-lifecycle.3; do
  has "${debs[1]}" "$f"
done
has "${debs[1]}" "$multi/libxsig.so -> libxsig.so.0"
field "${debs[2]}" Depends | grep -q "^libxsig0 (>= ${ver}-1), libc6 (>= " ||
  { echo "package.sh: xsig Depends: $(field "${debs[2]}" Depends)" >&2; exit 1; }
has "${debs[2]}" usr/bin/xsig
has "${debs[2]}" usr/share/man/man1/xsig.1
tgz=$tbuild/xsig-$ver-Linux.tar.gz
tlist=$(tar -tzf "$tgz")
for f in bin/xsig lib/libxsig.so.0 lib/libxsig.a lib/pkgconfig/xsig.pc include/xsig/xsig.h \
  share/man/man1/xsig.1 share/man/man3/xsig.3; do
  grep -q "^xsig-$ver-Linux/$f$" <<<"$tlist" || { echo "package.sh: $tgz lacks $f" >&2; exit 1; }
done
# Unpacked in a fresh directory, its CLI runs with its own library.
unpacked=$(mktemp -d /tmp/xsig-tgz-XXXXXX)
tar -xzf "$tgz" -C "$unpacked"
out=$(env -u LD_LIBRARY_PATH "$unpacked/xsig-$ver-Linux/bin/xsig" --version)
libs=$(env -u LD_LIBRARY_PATH ldd "$unpacked/xsig-$ver-Linux/bin/xsig")
grep -q "$unpacked/xsig-$ver-Linux/bin/../lib/libxsig.so.0" <<<"$libs" ||
  { echo "package.sh: the unpacked .tar.gz's xsig does not use its own library: $libs" >&2; exit 1; }
rm -rf "$unpacked"
check "$out" "xsig $ver ($(uname -s | tr A-Z a-z))" "unpacked xsig --version"

if [ $dpkg_test = 1 ]; then
  echo "=== package: dpkg -i, consumers, dpkg -r"
  bash ci/dpkg-test.sh "${debs[@]}"
fi
echo "ci/package.sh: passed in $(($(date +%s) - start)) s"
