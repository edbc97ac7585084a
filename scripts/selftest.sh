#!/usr/bin/env bash
# agentcheck selftest against the reference agent built with its failpoints (AGENT_FAILPOINTS:
# the dev and coverage presets): the clean agentd must pass, each failpoint must be killed by
# a check of the requirement it breaks (ctest: conformance.selftest; make selftest).
# Usage: selftest.sh AGENTD AGENTCHECK REPORT_DIR SCOPE [extra agentcheck selftest flags...]
# SCOPE: requirement (quick: each failpoint's own requirement), section or all.
# Exits with agentcheck's exit code (0 pass, 1 a failpoint survived or the clean agent failed).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/launch.sh"

usage="usage: selftest.sh AGENTD AGENTCHECK REPORT_DIR SCOPE"
agentd=${1:?$usage}
agentcheck=${2:?$usage}
report_dir=${3:?$usage}
scope=${4:?$usage}
shift 4

dir=$(mktemp -d "${TMPDIR:-/tmp}/agentcheck-selftest.XXXXXX")
trap 'rm -rf "$dir"' EXIT
trap 'exit 130' INT TERM
make_secret "$dir/secret"

# The settings of conformance.reference: a shallow task queue, short invoke timeouts and
# breaker recovery, a short drain and header timeout, so that the checks wait seconds.
"$agentcheck" selftest --jwt-secret-file "$dir/secret" --scope "$scope" --report-dir "$report_dir" \
  --agent-cmd "$agentd --bind 127.0.0.1 --port {port} --data-dir {data_dir} --jwt-secret-file $dir/secret --log-requests false --task-queue-depth 50 --invoke-timeout-ms 500 --breaker-recovery-ms 1000 --drain-timeout-ms 5000 --header-timeout-ms 2000" \
  "$@"
