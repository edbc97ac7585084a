#!/usr/bin/env bash
# Runs agentcheck against a freshly started reference agent (ctest: conformance.reference).
# Usage: conformance_reference.sh AGENTD AGENTCHECK REPORT_DIR [extra agentcheck run flags...]
# Exits with agentcheck's exit code (0 pass, 1 failures, 2 usage, 3 agent unreachable).
# AGENTCHECK_TLS=1: agentd serves HTTPS with certificates made now (make_test_certs.sh), and
# agentcheck trusts their CA with --ca-file. AGENTCHECK_PROMTOOL=1: after the run, promtool
# check metrics reads agentd's /metrics (every route has been exercised by then).
set -euo pipefail

agentd=${1:?usage: conformance_reference.sh AGENTD AGENTCHECK REPORT_DIR}
agentcheck=${2:?usage: conformance_reference.sh AGENTD AGENTCHECK REPORT_DIR}
report_dir=${3:?usage: conformance_reference.sh AGENTD AGENTCHECK REPORT_DIR}
shift 3

readonly secret_bytes=48      # length of the HS256 secret
readonly ready_timeout_s=10   # how long agentd may take to listen and be ready
readonly poll_interval_s=0.1

dir=$(mktemp -d "${TMPDIR:-/tmp}/agentcheck-ref.XXXXXX")
pid=""
cleanup() {
  if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
  rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# 48 bytes of random text (hex), no trailing newline.
head -c $((secret_bytes / 2)) /dev/urandom | od -An -tx1 | tr -d ' \n' > "$dir/secret"
chmod 600 "$dir/secret"

scheme=http
tls_args=()
curl_args=()
check_args=()
if [[ "${AGENTCHECK_TLS:-0}" == 1 ]]; then
  bash "$(dirname "${BASH_SOURCE[0]}")/make_test_certs.sh" "$dir/certs"
  scheme=https
  tls_args=(--tls-cert "$dir/certs/server.pem" --tls-key "$dir/certs/server.key")
  curl_args=(--cacert "$dir/certs/ca.pem")
  check_args=(--ca-file "$dir/certs/ca.pem")
fi

# A shallow task queue (50), so that the full-queue check fills it in bounded time; short
# invoke timeouts and breaker recovery, so that the resilience checks wait seconds, not tens.
"$agentd" --port 0 --port-file "$dir/port" --data-dir "$dir/data" \
  --jwt-secret-file "$dir/secret" --log-requests false --task-queue-depth 50 \
  --invoke-timeout-ms 500 --breaker-recovery-ms 1000 "${tls_args[@]}" \
  > "$dir/agentd.log" 2>&1 &
pid=$!

deadline=$((SECONDS + ready_timeout_s))
port=""
while ((SECONDS < deadline)); do
  if ! kill -0 "$pid" 2>/dev/null; then
    echo "conformance_reference: agentd exited early:" >&2
    cat "$dir/agentd.log" >&2
    exit 3
  fi
  if [[ -z "$port" && -s "$dir/port" ]]; then
    port=$(tr -dc '0-9' < "$dir/port")
  fi
  if [[ -n "$port" ]] && curl -fsS "${curl_args[@]}" -o /dev/null "$scheme://127.0.0.1:$port/readyz" 2>/dev/null; then
    break
  fi
  sleep "$poll_interval_s"
done
if [[ -z "$port" ]] || ! curl -fsS "${curl_args[@]}" -o /dev/null "$scheme://127.0.0.1:$port/readyz" 2>/dev/null; then
  echo "conformance_reference: agentd was not ready within ${ready_timeout_s}s" >&2
  cat "$dir/agentd.log" >&2
  exit 3
fi

set +e
"$agentcheck" run --target "$scheme://127.0.0.1:$port" --jwt-secret-file "$dir/secret" \
  "${check_args[@]}" --level should --report-dir "$report_dir" "$@"
code=$?
if [[ "${AGENTCHECK_PROMTOOL:-0}" == 1 ]]; then
  if ! curl -fsS "${curl_args[@]}" "$scheme://127.0.0.1:$port/metrics" > "$dir/metrics.txt" ||
     ! promtool check metrics < "$dir/metrics.txt"; then
    echo "conformance_reference: promtool check metrics failed on /metrics after the run" >&2
    code=1
  else
    echo "conformance_reference: promtool check metrics: /metrics is valid after the run" \
      "($(grep -c '^agent_' "$dir/metrics.txt") samples)"
  fi
fi
set -e

kill -TERM "$pid" 2>/dev/null || true
wait "$pid" 2>/dev/null || true
pid=""
exit "$code"
