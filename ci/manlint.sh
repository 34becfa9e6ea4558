#!/usr/bin/env bash
# The manuals render without a warning: groff -ww (what man -l runs) and
# mandoc -T lint at warning level; each names the project's version, which
# CMake reads from include/xsig/xsig.h. Usage: ci/manlint.sh
set -euo pipefail
cd "$(dirname "$0")/.."
ver=$(awk '/^#define XSIG_VERSION_(MAJOR|MINOR|PATCH) /{v = v (v == "" ? "" : ".") $3} END{print v}' include/xsig/xsig.h)
fail=0
for m in man/xsig.1 man/xsig.3 man/xsig-lifecycle.3; do
  out=$(groff -ww -man -z "$m" 2>&1) || { echo "manlint: groff failed on $m" >&2; fail=1; }
  [ -z "$out" ] || { echo "manlint: groff -ww on $m:"; echo "$out"; fail=1; } >&2
  if command -v mandoc >/dev/null; then
    out=$(mandoc -T lint -W warning "$m" 2>&1) || true
    [ -z "$out" ] || { echo "manlint: mandoc -T lint on $m:"; echo "$out"; fail=1; } >&2
  else
    echo "manlint: mandoc is missing (ci/deps.sh installs it)" >&2
    fail=1
  fi
  head -1 "$m" | grep -q "\"xsig $ver\"" || { echo "manlint: $m's .TH does not say xsig $ver" >&2; fail=1; }
done
[ $fail = 0 ] && echo "manlint: 3 manuals clean (groff -ww, mandoc -T lint), version $ver"
exit $fail
