# Shared by the scripts that let agentcheck start agentd itself (--launch): a fresh HS256
# secret, a free loopback port, and the retry when that port is taken before agentd binds it.
# Source it: `source "$(dirname "${BASH_SOURCE[0]}")/lib/launch.sh"`.

readonly launch_secret_bytes=48 # length of the HS256 secret (hex text)
readonly launch_attempts=3      # a port picked free may be taken before agentd binds it

# make_secret FILE: 48 bytes of random hex text, no trailing newline, mode 600.
make_secret() {
  head -c $((launch_secret_bytes / 2)) /dev/urandom | od -An -tx1 | tr -d ' \n' > "$1"
  chmod 600 "$1"
}

# free_port: a TCP port on 127.0.0.1 that was free a moment ago.
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# with_free_port NAME AGENT_LOG COMMAND...: runs COMMAND with $port set to a free port; when it
# exits 3 (the agent did not start) and AGENT_LOG says the address was in use, again on another
# port, up to launch_attempts times. Returns COMMAND's exit code.
with_free_port() {
  local name=$1 agent_log=$2 code=3 attempt
  shift 2
  for ((attempt = 1; attempt <= launch_attempts; attempt++)); do
    port=$(free_port)
    set +e
    "$@"
    code=$?
    set -e
    if ((code != 3)) || ! grep -q "ddress already in use" "$agent_log" 2>/dev/null; then
      break
    fi
    echo "$name: port $port was taken; trying another" >&2
  done
  return "$code"
}
