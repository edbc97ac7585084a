#!/usr/bin/env bash
# make demo: start agentd on 127.0.0.1 with a temporary data directory, show it working,
# run the conformance harness against it, and print the verdict and the report's path.
set -euo pipefail
build=${1:-build/release}
agentd="$build/reference/agentd"
agentcheck="$build/conformance/agentcheck"
root=$(pwd)
work=$(mktemp -d -t agentd-demo.XXXXXX)
pid=
cleanup() {
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then kill -TERM "$pid"; wait "$pid" || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

head -c 48 /dev/urandom | base64 | tr -d '\n/+=' > "$work/secret"
"$agentd" --port 0 --port-file "$work/port" --data-dir "$work/data" \
  --jwt-secret-file "$work/secret" --log-requests false 2> "$work/agentd.log" &
pid=$!
for _ in $(seq 1 200); do [ -s "$work/port" ] && break; sleep 0.05; done
[ -s "$work/port" ] || { echo "agentd did not start:"; cat "$work/agentd.log"; exit 1; }
port=$(cat "$work/port")
base="http://127.0.0.1:$port"
echo "== agentd is listening on $base (data in $work/data)"

token=$("$agentcheck" token --identity operator --jwt-secret-file "$work/secret" --target "$base")
echo "== GET /health"
curl -sS "$base/health"; echo
echo "== POST /agents (as an operator)"
curl -sS -X POST "$base/agents" -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
  --data '{"name":"demo-agent","version":"1.0.0","capabilities":[{"name":"summarize"}]}'; echo
echo "== GET /agents without a token"
curl -sS "$base/agents"; echo

echo "== agentcheck run --target $base --level should"
set +e
"$agentcheck" run --target "$base" --jwt-secret-file "$work/secret" --level should \
  --report-dir "$root/reports/latest"
code=$?
set -e
echo
if [ $code -eq 0 ]; then echo "VERDICT: PASS (every applicable MUST and SHOULD requirement holds)"
else echo "VERDICT: FAIL (agentcheck exit code $code)"; fi
echo "Report: $root/reports/latest/report.html"
exit $code
