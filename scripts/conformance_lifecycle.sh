#!/usr/bin/env bash
# The lifecycle layer against the reference agent, with agentcheck owning agentd's process
# (ctest: conformance.lifecycle; make crash-test). agentcheck starts agentd itself
# (--launch), kills and restarts it on the same data directory.
# Usage: conformance_lifecycle.sh AGENTD AGENTCHECK REPORT_DIR CYCLES [extra agentcheck run flags...]
# AGENTCHECK_CRASH_CYCLES, when set, replaces CYCLES.
# Exits with agentcheck's exit code (0 pass, 1 failures, 2 usage, 3 agent did not start).
set -euo pipefail

agentd=${1:?usage: conformance_lifecycle.sh AGENTD AGENTCHECK REPORT_DIR CYCLES}
agentcheck=${2:?usage: conformance_lifecycle.sh AGENTD AGENTCHECK REPORT_DIR CYCLES}
report_dir=${3:?usage: conformance_lifecycle.sh AGENTD AGENTCHECK REPORT_DIR CYCLES}
cycles=${4:?usage: conformance_lifecycle.sh AGENTD AGENTCHECK REPORT_DIR CYCLES}
cycles=${AGENTCHECK_CRASH_CYCLES:-$cycles} # the sanitizer build runs fewer
shift 4

readonly secret_bytes=48
readonly attempts=3 # a port picked free may be taken before agentd binds it: pick another

dir=$(mktemp -d "${TMPDIR:-/tmp}/agentcheck-life.XXXXXX")
trap 'rm -rf "$dir"' EXIT
trap 'exit 130' INT TERM
head -c $((secret_bytes / 2)) /dev/urandom | od -An -tx1 | tr -d ' \n' > "$dir/secret"
chmod 600 "$dir/secret"

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

code=3
for ((attempt = 1; attempt <= attempts; attempt++)); do
  port=$(free_port)
  rm -rf "$dir/data"
  set +e
  # A short drain timeout keeps the SIGTERM check's worst case short; the task queue and
  # workers are agentd's defaults.
  "$agentcheck" run --target "http://127.0.0.1:$port" --jwt-secret-file "$dir/secret" \
    --launch "$agentd --bind 127.0.0.1 --port $port --data-dir {data_dir} --jwt-secret-file $dir/secret --log-requests false --drain-timeout-ms 5000" \
    --data-dir "$dir/data" --layer lifecycle --level should --crash-cycles "$cycles" \
    --report-dir "$report_dir" "$@"
  code=$?
  set -e
  if ((code != 3)) || ! grep -q "ddress already in use" "$report_dir/agent.log" 2>/dev/null; then
    break
  fi
  echo "conformance_lifecycle: port $port was taken; trying another" >&2
done
exit "$code"
