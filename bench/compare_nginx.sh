#!/usr/bin/env bash
# Measures agentd against nginx serving a static JSON body, on loopback, with wrk — the
# performance targets of the core issue:
#   GET /health        within 10% of nginx
#   GET /agents/{id}   within 20% of nginx
#   POST /agents       >= 5,000 durable creates per second
# Runs are interleaved (nginx, agentd, nginx, agentd, ...) and medians compared, because
# these machines vary by 10-30% from run to run. Bounded: ROUNDS x DURATION per target.
# Usage: bench/compare_nginx.sh [build-dir]   (env: ROUNDS=3 DURATION=5 CONNECTIONS=64)
set -euo pipefail
build=${1:-build/release}
rounds=${ROUNDS:-3}; duration=${DURATION:-5}; conns=${CONNECTIONS:-64}
SUDO=$([ "$(id -u)" = 0 ] || echo sudo)
need=(); command -v wrk >/dev/null || need+=(wrk); command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || need+=(nginx-light); command -v bc >/dev/null || need+=(bc)
if [ ${#need[@]} -gt 0 ]; then $SUDO apt-get install -y -qq "${need[@]}" >/dev/null; fi
work=$(mktemp -d -t agentd-bench.XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

# nginx: one worker per core, a static JSON file, keep-alive.
health='{"status":"healthy","checks":{"storage":{"status":"pass","component_type":"datastore"}}}'
mkdir -p "$work/www" "$work/nginx"; printf '%s' "$health" > "$work/www/health.json"
cat > "$work/nginx.conf" <<CONF
worker_processes auto; daemon off; pid $work/nginx.pid; error_log $work/nginx/error.log;
events { worker_connections 4096; }
http { access_log off; keepalive_requests 1000000; client_body_temp_path $work/nginx;
  proxy_temp_path $work/nginx; fastcgi_temp_path $work/nginx; uwsgi_temp_path $work/nginx; scgi_temp_path $work/nginx;
  server { listen 127.0.0.1:18081; location / { root $work/www; default_type application/json; } } }
CONF
/usr/sbin/nginx -c "$work/nginx.conf" & pids+=($!)

head -c 48 /dev/urandom | base64 | tr -d '\n/+=' > "$work/secret"
"$build/reference/agentd" --port 0 --port-file "$work/port" --data-dir "$work/data" \
  --jwt-secret-file "$work/secret" --log-requests false 2>"$work/agentd.log" & pids+=($!)
for _ in $(seq 1 200); do [ -s "$work/port" ] && break; sleep 0.05; done
port=$(cat "$work/port"); base="http://127.0.0.1:$port"
tok() { "$build/conformance/agentcheck" token --identity "$1" --jwt-secret-file "$work/secret" --target "$base"; }
viewer=$(tok viewer); operator=$(tok operator)
id=$(curl -sS -X POST "$base/agents" -H "Authorization: Bearer $operator" -H 'Content-Type: application/json' \
  --data '{"name":"bench-target","version":"1.0.0","capabilities":[{"name":"summarize"}]}' | sed -E 's/.*"id":"([^"]+)".*/\1/')

rps() { wrk -t1 -c"$conns" -d"${duration}s" "$@" | awk '/Requests\/sec/ {print $2}'; }
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
cat > "$work/post.lua" <<LUA
counter = 0
request = function()
  counter = counter + 1
  local body = '{"name":"b' .. counter .. '-' .. math.random(1, 1000000000) .. '","version":"1.0.0"}'
  return wrk.format("POST", "/agents", {["Authorization"] = "Bearer $operator", ["Content-Type"] = "application/json"}, body)
end
LUA
: > "$work/nginx.txt"; : > "$work/health.txt"; : > "$work/get.txt"; : > "$work/post.txt"
for r in $(seq 1 "$rounds"); do
  echo "round $r/$rounds" >&2
  rps http://127.0.0.1:18081/health.json >> "$work/nginx.txt"
  rps "$base/health" >> "$work/health.txt"
  rps -H "Authorization: Bearer $viewer" "$base/agents/$id" >> "$work/get.txt"
  rps -s "$work/post.lua" "$base/agents" >> "$work/post.txt"
done
n=$(median < "$work/nginx.txt"); h=$(median < "$work/health.txt"); g=$(median < "$work/get.txt"); p=$(median < "$work/post.txt")
printf '%-28s %12s %8s\n' "target (median of $rounds)" "requests/s" "vs nginx"
printf '%-28s %12.0f %8s\n' "nginx static JSON" "$n" "1.00"
printf '%-28s %12.0f %8.2f\n' "agentd GET /health" "$h" "$(echo "$h / $n" | bc -l)"
printf '%-28s %12.0f %8.2f\n' "agentd GET /agents/{id}" "$g" "$(echo "$g / $n" | bc -l)"
printf '%-28s %12.0f %8s\n' "agentd POST /agents (durable)" "$p" "-"
