#!/usr/bin/env bash
# agentcheck against agentd serving certificates with something wrong (ctest:
# conformance.tls_certificates): each run must stop before any check with exit 3 and say
# what is wrong with the certificate in words; --insecure must get past it.
# Usage: tls_certificate_problems.sh AGENTD AGENTCHECK
set -euo pipefail
agentd=${1:?usage: tls_certificate_problems.sh AGENTD AGENTCHECK}
agentcheck=${2:?usage: tls_certificate_problems.sh AGENTD AGENTCHECK}

dir=$(mktemp -d "${TMPDIR:-/tmp}/agentcheck-tls.XXXXXX")
pid=""
stop_agentd() {
  if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
  pid=""
}
trap 'stop_agentd; rm -rf "$dir"' EXIT
bash "$(dirname "${BASH_SOURCE[0]}")/make_test_certs.sh" "$dir/certs"
head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$dir/secret"
failures=0

start_agentd() { # start_agentd CERT
  stop_agentd
  rm -rf "$dir/data" "$dir/port"
  "$agentd" --port 0 --port-file "$dir/port" --data-dir "$dir/data" \
    --jwt-secret-file "$dir/secret" --log-requests false \
    --tls-cert "$dir/certs/$1" --tls-key "$dir/certs/server.key" > "$dir/agentd.log" 2>&1 &
  pid=$!
  for _ in $(seq 100); do
    [[ -s "$dir/port" ]] && return 0
    sleep 0.1
  done
  echo "agentd did not start:" >&2
  cat "$dir/agentd.log" >&2
  exit 1
}

expect() { # expect WHAT CODE PHRASE TARGET [agentcheck flags...]
  local what=$1 want=$2 phrase=$3 target=$4
  shift 4
  local out code=0
  out=$("$agentcheck" run --target "$target" --jwt-secret-file "$dir/secret" --only s1 -q \
    --report-dir "$dir/report" "$@" 2>&1) || code=$?
  if [[ "$code" != "$want" ]] || [[ "$out" != *"$phrase"* ]]; then
    echo "FAIL: $what: exit $code (want $want), output without \"$phrase\":" >&2
    echo "$out" >&2
    failures=$((failures + 1))
  else
    echo "ok: $what: exit $code, \"$phrase\""
  fi
}

start_agentd expired.pem
port=$(tr -dc '0-9' < "$dir/port")
expect "an expired certificate" 3 "certificate has expired" "https://127.0.0.1:$port" \
  --ca-file "$dir/certs/ca.pem"
expect "an expired certificate with --insecure" 0 "PASS" "https://127.0.0.1:$port" --insecure

start_agentd wrongname.pem
port=$(tr -dc '0-9' < "$dir/port")
expect "a certificate for another name" 3 "hostname mismatch" "https://localhost:$port" \
  --ca-file "$dir/certs/ca.pem"
expect "a certificate for another address" 3 "IP address mismatch" "https://127.0.0.1:$port" \
  --ca-file "$dir/certs/ca.pem"

start_agentd server.pem
port=$(tr -dc '0-9' < "$dir/port")
expect "a CA the client does not trust" 3 "unable to get local issuer certificate" \
  "https://127.0.0.1:$port"
expect "the right CA" 0 "PASS" "https://127.0.0.1:$port" --ca-file "$dir/certs/ca.pem"
expect "plain HTTP to the HTTPS port" 3 "cannot reach" "http://127.0.0.1:$port"
expect "a CA file that is not there" 2 "--ca-file" "https://127.0.0.1:$port" \
  --ca-file "$dir/certs/none.pem"

exit $((failures > 0))
