#!/usr/bin/env bash
# Installs the Debian packages the build and the tests need; does nothing when
# they are all present. Usage: ci/deps.sh [native|windows|hardening|bench|ports]...
set -euo pipefail
want=(cmake make gcc g++ clang googletest util-linux procps python3 pkg-config
  libuv1-dev libevent-dev dpkg-dev file abigail-tools groff-base mandoc) # ci/package.sh
for set in "$@"; do
  case "$set" in
    native) want+=(tini) ;; # tests/run_compare.sh runs xsig run beside tini
    windows) want+=(mingw-w64 g++-mingw-w64-x86-64-posix gcc-mingw-w64-x86-64-posix
      g++-mingw-w64-i686-posix gcc-mingw-w64-i686-posix wine64 wine) ;;
    hardening) want+=(clang libclang-rt-14-dev valgrind) ;; # ci/fuzz.sh, ci/soak.sh, ci/valgrind.sh
    bench) want+=(libuv1-dev libevent-dev pkg-config strace valgrind) ;;
    ports) want+=(musl-tools gcc-aarch64-linux-gnu libc6-dev-arm64-cross gcc-i686-linux-gnu
      libc6-dev-i386-cross qemu-user) ;;
    *) echo "deps.sh: unknown set $set" >&2; exit 2 ;;
  esac
done
missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "installing: ${missing[*]}"
SUDO=; [ "$(id -u)" -eq 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
