#!/usr/bin/env bash
# The lifecycle layer against the reference agent, with agentcheck owning agentd's process
# (ctest: conformance.lifecycle; make crash-test). agentcheck starts agentd itself
# (--launch), kills and restarts it on the same data directory.
# Usage: conformance_lifecycle.sh AGENTD AGENTCHECK REPORT_DIR CYCLES [extra agentcheck run flags...]
# AGENTCHECK_CRASH_CYCLES, when set, replaces CYCLES.
# Exits with agentcheck's exit code (0 pass, 1 failures, 2 usage, 3 agent did not start).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/launch.sh"

agentd=${1:?usage: conformance_lifecycle.sh AGENTD AGENTCHECK REPORT_DIR CYCLES}
agentcheck=${2:?usage: conformance_lifecycle.sh AGENTD AGENTCHECK REPORT_DIR CYCLES}
report_dir=${3:?usage: conformance_lifecycle.sh AGENTD AGENTCHECK REPORT_DIR CYCLES}
cycles=${4:?usage: conformance_lifecycle.sh AGENTD AGENTCHECK REPORT_DIR CYCLES}
cycles=${AGENTCHECK_CRASH_CYCLES:-$cycles} # the sanitizer build runs fewer
shift 4

dir=$(mktemp -d "${TMPDIR:-/tmp}/agentcheck-life.XXXXXX")
trap 'rm -rf "$dir"' EXIT
trap 'exit 130' INT TERM
make_secret "$dir/secret"

lifecycle() {
  rm -rf "$dir/data"
  # A short drain timeout keeps the SIGTERM check's worst case short; the task queue and
  # workers are agentd's defaults.
  "$agentcheck" run --target "http://127.0.0.1:$port" --jwt-secret-file "$dir/secret" \
    --launch "$agentd --bind 127.0.0.1 --port $port --data-dir {data_dir} --jwt-secret-file $dir/secret --log-requests false --drain-timeout-ms 5000" \
    --data-dir "$dir/data" --layer lifecycle --level should --crash-cycles "$cycles" \
    --report-dir "$report_dir" "$@"
}
code=0
with_free_port conformance_lifecycle "$report_dir/agent.log" lifecycle "$@" || code=$?
exit "$code"
