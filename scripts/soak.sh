#!/usr/bin/env bash
# make soak: agentcheck soak against the reference agent. agentcheck starts agentd itself
# (--launch) on a free port with a fresh secret and data directory, holds the built-in soak
# scenario (fixtures/load/soak.json) on it, samples its memory and descriptors once a second
# and stops it with SIGTERM.
# Usage: soak.sh AGENTD AGENTCHECK REPORT_DIR DURATION RATE [extra agentcheck soak flags...]
# Exits with agentcheck's exit code (0 pass, 1 fail, 2 usage, 3 agent did not start).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/launch.sh"

usage="usage: soak.sh AGENTD AGENTCHECK REPORT_DIR DURATION RATE"
agentd=${1:?$usage}
agentcheck=${2:?$usage}
report_dir=${3:?$usage}
duration=${4:?$usage}
rate=${5:?$usage}
shift 5

dir=$(mktemp -d "${TMPDIR:-/tmp}/agentcheck-soak.XXXXXX")
trap 'rm -rf "$dir"' EXIT
trap 'exit 130' INT TERM
make_secret "$dir/secret"

soak() {
  "$agentcheck" soak --target "http://127.0.0.1:$port" --jwt-secret-file "$dir/secret" \
    --launch "$agentd --bind 127.0.0.1 --port $port --data-dir {data_dir} --jwt-secret-file $dir/secret --log-requests false" \
    --duration "$duration" --rate "$rate" --report-dir "$report_dir" "$@"
}
code=0
with_free_port soak "$report_dir/agent.log" soak "$@" || code=$?
exit "$code"
