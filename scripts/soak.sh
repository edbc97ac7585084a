#!/usr/bin/env bash
# make soak: agentcheck soak against the reference agent. agentcheck starts agentd itself
# (--launch) on a free port with a fresh secret and data directory, holds the built-in soak
# scenario (fixtures/load/soak.json) on it, samples its memory and descriptors once a second
# and stops it with SIGTERM.
# Usage: soak.sh AGENTD AGENTCHECK REPORT_DIR DURATION RATE [extra agentcheck soak flags...]
# Exits with agentcheck's exit code (0 pass, 1 fail, 2 usage, 3 agent did not start).
set -euo pipefail

usage="usage: soak.sh AGENTD AGENTCHECK REPORT_DIR DURATION RATE"
agentd=${1:?$usage}
agentcheck=${2:?$usage}
report_dir=${3:?$usage}
duration=${4:?$usage}
rate=${5:?$usage}
shift 5

readonly secret_bytes=48
readonly attempts=3 # a port picked free may be taken before agentd binds it: pick another

dir=$(mktemp -d "${TMPDIR:-/tmp}/agentcheck-soak.XXXXXX")
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
  set +e
  "$agentcheck" soak --target "http://127.0.0.1:$port" --jwt-secret-file "$dir/secret" \
    --launch "$agentd --bind 127.0.0.1 --port $port --data-dir {data_dir} --jwt-secret-file $dir/secret --log-requests false" \
    --duration "$duration" --rate "$rate" --report-dir "$report_dir" "$@"
  code=$?
  set -e
  if ((code != 3)) || ! grep -q "ddress already in use" "$report_dir/agent.log" 2>/dev/null; then
    break
  fi
  echo "soak: port $port was taken; trying another" >&2
done
exit "$code"
