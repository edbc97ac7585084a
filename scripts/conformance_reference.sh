#!/usr/bin/env bash
# Runs agentcheck against a freshly started reference agent (ctest: conformance.reference).
# Usage: conformance_reference.sh AGENTD AGENTCHECK REPORT_DIR [extra agentcheck run flags...]
# Exits with agentcheck's exit code (0 pass, 1 failures, 2 usage, 3 agent unreachable).
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

# A shallow task queue (50), so that the full-queue check fills it in bounded time; short
# invoke timeouts and breaker recovery, so that the resilience checks wait seconds, not tens.
"$agentd" --port 0 --port-file "$dir/port" --data-dir "$dir/data" \
  --jwt-secret-file "$dir/secret" --log-requests false --task-queue-depth 50 \
  --invoke-timeout-ms 500 --breaker-recovery-ms 1000 \
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
  if [[ -n "$port" ]] && curl -fsS -o /dev/null "http://127.0.0.1:$port/readyz" 2>/dev/null; then
    break
  fi
  sleep "$poll_interval_s"
done
if [[ -z "$port" ]] || ! curl -fsS -o /dev/null "http://127.0.0.1:$port/readyz" 2>/dev/null; then
  echo "conformance_reference: agentd was not ready within ${ready_timeout_s}s" >&2
  cat "$dir/agentd.log" >&2
  exit 3
fi

set +e
"$agentcheck" run --target "http://127.0.0.1:$port" --jwt-secret-file "$dir/secret" \
  --level should --report-dir "$report_dir" "$@"
code=$?
set -e

kill -TERM "$pid" 2>/dev/null || true
wait "$pid" 2>/dev/null || true
pid=""
exit "$code"
