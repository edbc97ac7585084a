#!/usr/bin/env bash
# The Debian package, built and used as a user would (ctest: packaging.deb): CPack builds the
# .deb from BUILD_DIR; its control fields and contents are checked; it is unpacked into a
# scratch root, and agentcheck --version and a short conformance run (sections 0 and 1, with
# the packaged agentd) run from there; the man pages render.
# Usage: test_package.sh BUILD_DIR
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/launch.sh"

build=${1:?usage: test_package.sh BUILD_DIR}
work=$(mktemp -d "${TMPDIR:-/tmp}/agentcheck-package.XXXXXX")
pid=""
cleanup() {
  if [[ -n "$pid" ]]; then kill -TERM "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
fail() { echo "package: FAIL: $*" >&2; exit 1; }

cpack --config "$build/CPackConfig.cmake" -B "$work/out" > "$work/cpack.log" 2>&1 ||
  { cat "$work/cpack.log" >&2; fail "cpack did not build the package"; }
deb=$(ls "$work"/out/agent-service_*.deb 2>/dev/null | head -1)
[[ -n "$deb" ]] || fail "no agent-service_*.deb in the CPack output"
echo "package: built $(basename "$deb") ($(du -k "$deb" | cut -f1) KiB)"

# Control fields: the name, the version of the project, and dependencies found by
# dpkg-shlibdeps from the libraries the binaries link (SQLite, OpenSSL, prometheus-cpp).
info=$(dpkg-deb --info "$deb")
grep -q "^ Package: agent-service$" <<<"$info" || fail "Package field: $info"
version=$(sed -n 's/^project(agent_service VERSION \([0-9.]*\).*/\1/p' "$(dirname "$0")/../CMakeLists.txt")
grep -q "^ Version: $version$" <<<"$info" || fail "Version is not $version"
depends=$(sed -n 's/^ Depends: //p' <<<"$info")
for lib in libsqlite3 libssl3 libprometheus-cpp-core libc6 libstdc++6; do
  grep -q "$lib" <<<"$depends" || fail "Depends lacks $lib: $depends"
done

# Contents in the usual places.
contents=$(dpkg-deb --contents "$deb")
for f in ./usr/bin/agentd ./usr/bin/agentcheck ./usr/share/man/man1/agentd.1.gz \
         ./usr/share/man/man1/agentcheck.1.gz ./usr/share/doc/agent-service/SPEC.md \
         ./usr/share/doc/agent-service/REPORT_SCHEMA.md ./usr/share/doc/agent-service/README.md \
         ./usr/share/agent-service/load/; do
  grep -q " $f" <<<"$contents" || fail "the package lacks $f"
done
for doc in openapi.yaml asyncapi.yaml; do
  if [[ -f "$(dirname "$0")/../conformance/$doc" ]]; then
    grep -q " ./usr/share/doc/agent-service/$doc" <<<"$contents" || fail "the package lacks $doc"
  fi
done

# Unpacked into a scratch root, the programs run from there.
root="$work/root"
dpkg-deb -x "$deb" "$root"
"$root/usr/bin/agentcheck" --version | grep -qx "$version" || fail "agentcheck --version"
"$root/usr/bin/agentd" --version | grep -q "$version" || fail "agentd --version"
for page in agentd agentcheck; do
  zcat "$root/usr/share/man/man1/$page.1.gz" | grep -q '^\.TH' || fail "$page.1 is not a man page"
  zcat "$root/usr/share/man/man1/$page.1.gz" | grep -qF -- '\-\-help' || fail "$page.1 lists no flags"
done
zcat "$root/usr/share/man/man1/agentcheck.1.gz" | grep -q 'agentcheck selftest' ||
  fail "agentcheck.1 has no section per command"

make_secret "$work/secret"
"$root/usr/bin/agentd" --port 0 --port-file "$work/port" --data-dir "$work/data" \
  --jwt-secret-file "$work/secret" --log-requests false > "$work/agentd.log" 2>&1 &
pid=$!
for _ in $(seq 100); do [[ -s "$work/port" ]] && break; sleep 0.1; done
[[ -s "$work/port" ]] || { cat "$work/agentd.log" >&2; fail "the packaged agentd did not start"; }
port=$(tr -dc '0-9' < "$work/port")
"$root/usr/bin/agentcheck" run --target "http://127.0.0.1:$port" --jwt-secret-file "$work/secret" \
  --only s0 --only s1 -q --report-dir "$work/reports" ||
  fail "the packaged agentcheck against the packaged agentd did not pass sections 0 and 1"
for f in report.json junit.xml summary.md report.html; do
  [[ -s "$work/reports/$f" ]] || fail "no $f"
done
echo "package: installed into a scratch root; agentcheck $version passed sections 0 and 1 against its agentd"
