#!/usr/bin/env bash
# make bench-compare: the reference agent side by side with nginx, with the same CPU budget, and
# agentcheck load side by side with wrk and h2load.
#
# Fairness, as stated in the table it writes:
#   - one core for each server: nginx with one worker, agentd with --threads 1, each pinned with
#     taskset to SERVER_CPU (every thread of the process: agentd's writer and log threads too);
#   - the generator pinned to the other core (GEN_CPU);
#   - access logging on for both, buffered, to a file (nginx: access_log buffer=64k; agentd:
#     its default per-request JSON log), on a memory file system (/dev/shm) when there is one:
#     written back to the disk that holds agentd's database, the hundreds of megabytes that the
#     read runs log held up the write-ahead log's fsyncs for up to 100 ms each, 30 s later
#     (the kernel's write-back age), in the middle of a later run;
#   - the same generator (agentcheck load, closed model, CONNECTIONS connections) for both
#     servers; wrk and h2load drive nginx at the same connection count to calibrate it;
#   - ROUNDS interleaved rounds (every measurement once per round), medians reported, because
#     these machines vary by 10-30% from run to run: read the ratios;
#   - the servers' CPU time per request from /proc/PID/stat (utime + stime of every thread).
# Then the latency of each agentd route at half of its measured maximum rate (open model).
# With FSYNC_TIMES=FILE, every fsync agentd makes is timed into FILE (start ns, duration µs,
# path): `sort -k2 -n -r FILE | head` shows the disk's slowest flushes.
# Writes OUT/bench-compare.md and OUT/bench-compare.json. Bounded: about
# ROUNDS x 9 x DURATION seconds, plus 3 x DURATION.
# Usage: bench/compare.sh [build-dir] [out-dir]  (env: ROUNDS=3 DURATION=5 CONNECTIONS=64)
set -euo pipefail
build=${1:-build/release}
out=${2:-reports/bench-compare}
rounds=${ROUNDS:-3}
duration=${DURATION:-5}
conns=${CONNECTIONS:-64}
server_cpu=${SERVER_CPU:-1}
gen_cpu=${GEN_CPU:-0}
agentcheck="$build/conformance/agentcheck"
agentd="$build/reference/agentd"
for bin in "$agentcheck" "$agentd"; do
  [ -x "$bin" ] || { echo "bench-compare: $bin is missing (make release)" >&2; exit 2; }
done
if [ "$(nproc)" -lt 2 ]; then
  echo "bench-compare: needs two cores (one for the server, one for the generator)" >&2; exit 2
fi
SUDO=$([ "$(id -u)" = 0 ] || echo sudo)
need=()
command -v wrk >/dev/null || need+=(wrk)
command -v h2load >/dev/null || need+=(nghttp2-client)
[ -x /usr/sbin/nginx ] || need+=(nginx-light)
if [ ${#need[@]} -gt 0 ]; then $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null; fi

work=$(mktemp -d -t agentd-bench.XXXXXX)
logs=$(mktemp -d -p /dev/shm agentd-bench-logs.XXXXXX 2>/dev/null) || logs=$work/logs
mkdir -p "$logs"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work" "$logs"
}
trap cleanup EXIT
mkdir -p "$out"

# nginx: one worker, a static JSON file at /health, keep-alive, buffered access log.
health='{"status":"healthy","checks":{"storage":{"status":"pass","component_type":"datastore"}}}'
mkdir -p "$work/www" "$work/nginx"
printf '%s' "$health" > "$work/www/health"
chmod 755 "$work" "$work/www"; chmod 644 "$work/www/health" # nginx's worker runs unprivileged
nginx_port=$((20000 + RANDOM % 20000))
cat > "$work/nginx.conf" <<CONF
worker_processes 1; daemon off; pid $work/nginx.pid; error_log $logs/nginx-error.log;
events { worker_connections 4096; }
http { access_log $logs/nginx-access.log combined buffer=64k flush=1s; keepalive_requests 1000000;
  client_body_temp_path $work/nginx; proxy_temp_path $work/nginx; fastcgi_temp_path $work/nginx;
  uwsgi_temp_path $work/nginx; scgi_temp_path $work/nginx;
  server { listen 127.0.0.1:$nginx_port; location / { root $work/www; default_type application/json; } } }
CONF
taskset -c "$server_cpu" /usr/sbin/nginx -c "$work/nginx.conf" &
pids+=($!)

head -c 48 /dev/urandom | base64 | tr -d '\n/+=' > "$work/secret"
# FSYNC_TIMES=FILE: every fsync agentd makes, with its duration (the durability tests' probe),
# to tell the disk's flush time from agentd's own.
probe_env=()
if [ -n "${FSYNC_TIMES:-}" ]; then
  probe="$build/reference/libagent_fsync_probe.so"
  [ -f "$probe" ] || { echo "bench-compare: FSYNC_TIMES needs $probe (make release)" >&2; exit 2; }
  probe_env=(env LD_PRELOAD="$probe" AGENTD_FSYNC_TIMES="$FSYNC_TIMES")
fi
taskset -c "$server_cpu" "${probe_env[@]}" "$agentd" --port 0 --port-file "$work/port" --data-dir "$work/data" \
  --jwt-secret-file "$work/secret" --threads 1 2>"$logs/agentd.log" &
agentd_pid=$!
pids+=($agentd_pid)
for _ in $(seq 1 200); do [ -s "$work/port" ] && [ -s "$work/nginx.pid" ] && break; sleep 0.05; done
nginx_pid=$(cat "$work/nginx.pid")
agentd_url="http://127.0.0.1:$(cat "$work/port")"
nginx_url="http://127.0.0.1:$nginx_port"
for url in "$nginx_url/health" "$agentd_url/health"; do
  code=$(curl -s -o /dev/null -w '%{http_code}' "$url")
  [ "$code" = 200 ] || { echo "bench-compare: $url answered $code, not 200" >&2; exit 1; }
done

cat > "$work/get.json" <<'JSON'
{"name": "get_agent", "setup": {"agents": 1}, "teardown": {"delete_created": false},
 "operations": [{"name": "get_agent", "path": "/agents/{agent}", "identity": "viewer", "expect": [200]}]}
JSON
cat > "$work/post.json" <<'JSON'
{"name": "create_agent", "teardown": {"delete_created": false},
 "operations": [{"name": "create_agent", "method": "POST", "path": "/agents", "identity": "operator",
   "body": {"name": "bench-{uniq}", "version": "1.0.0"}, "expect": [201]}]}
JSON

ticks() { # utime + stime of every thread of a process and of its children (nginx's worker)
  local total=0 p
  for p in "$1" $(pgrep -P "$1" || true); do
    total=$((total + $(awk '{print $14 + $15}' "/proc/$p/stat")))
  done
  echo "$total"
}
hz=$(getconf CLK_TCK)
# run NAME PID -- command printing "requests rps" on its last line
measure() {
  local name=$1 pid=$2; shift 3
  local before after line
  before=$(ticks "$pid")
  line=$("$@" | tail -1)
  after=$(ticks "$pid")
  local requests=${line%% *} rps=${line##* }
  local us
  us=$(awk -v t=$((after - before)) -v hz="$hz" -v n="$requests" 'BEGIN { printf "%.1f", (n > 0 ? t / hz * 1e6 / n : 0) }')
  echo "$name $rps $us" >> "$work/samples"
  [ -n "${BENCH_DEBUG:-}" ] && echo "  debug: $name ticks $before..$after line [$line]" >&2
  printf '  %-34s %10.0f req/s  %6s us CPU/request\n' "$name" "$rps" "$us" >&2
}
gen() { taskset -c "$gen_cpu" "$@"; }
with_wrk() {
  gen wrk -t1 -c"$conns" -d"${duration}s" "$1" |
    awk '/requests in/ {n=$1} /Requests\/sec/ {r=$2} END {print n, r}'
}
with_h2load() {
  gen h2load --h1 -t1 -c"$conns" -D "$duration" "$1" 2>/dev/null |
    awk '/^requests:/ {n=$8} /finished in/ {gsub(",", "", $4); r=$4} END {print n, r}'
}
with_agentcheck() { # URL REPORT [scenario args]
  local url=$1 report=$2; shift 2
  gen "$agentcheck" load --target "$url" --connections "$conns" --duration "${duration}s" -q \
    --report-dir "$report" --jwt-secret-file "$work/secret" --keep-agents "$@" >/dev/null || true
  python3 -c 'import json,sys; s=json.load(open(sys.argv[1]))["summary"]; print(s["ok"], s["rps"])' \
    "$report/results.json"
}

: > "$work/samples"
for r in $(seq 1 "$rounds"); do
  echo "round $r/$rounds" >&2
  measure "nginx GET /health|wrk" "$nginx_pid" -- with_wrk "$nginx_url/health"
  measure "nginx GET /health|h2load" "$nginx_pid" -- with_h2load "$nginx_url/health"
  measure "nginx GET /health|agentcheck" "$nginx_pid" -- with_agentcheck "$nginx_url" "$work/r"
  measure "agentd GET /health|agentcheck" "$agentd_pid" -- with_agentcheck "$agentd_url" "$work/r"
  measure "agentd GET /health|wrk" "$agentd_pid" -- with_wrk "$agentd_url/health"
  measure "agentd GET /agents/{id}|agentcheck" "$agentd_pid" -- \
    with_agentcheck "$agentd_url" "$work/r" --scenario "$work/get.json"
  measure "agentd POST /agents|agentcheck" "$agentd_pid" -- \
    with_agentcheck "$agentd_url" "$work/r" --scenario "$work/post.json"
done

# Latency at half of the measured maximum, open model (the generator keeps its schedule).
median_of() { grep -F "$1 " "$work/samples" | awk '{print $(NF-1)}' | sort -n |
  awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
half_rate() { awk -v m="$(median_of "$1")" 'BEGIN {printf "%d", m / 2}'; }
: > "$work/half"
for route in "GET /health|" "GET /agents/{id}|--scenario $work/get.json" "POST /agents|--scenario $work/post.json"; do
  label=${route%%|*}; args=${route#*|}
  rate=$(half_rate "agentd $label|agentcheck")
  # shellcheck disable=SC2086
  gen "$agentcheck" load --target "$agentd_url" --rate "$rate" --duration "${duration}s" -q \
    --connections "$conns" --report-dir "$work/half-r" --jwt-secret-file "$work/secret" \
    --keep-agents $args >/dev/null || true
  python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); s=d["summary"]; l=s["latency_ms"]
print(sys.argv[2] + "\t" + sys.argv[3] + "\t" + str(s["rps"]) + "\t" + str(l["p50"]) + "\t" + str(l["p99"]) + "\t" + str(l["p99.9"]) + "\t" + str(d["generator"]["keeping_up"]))' \
    "$work/half-r/results.json" "$label" "$rate" >> "$work/half"
  # keep each half-rate run's full results (histograms, per-second series) beside the table
  slug=$(echo "$label" | tr -c 'a-zA-Z0-9\n' '-' | tr -s '-' | sed 's/^-//; s/-$//')
  cp "$work/half-r/results.json" "$out/half-rate-$slug.json"
  echo "  half rate $label: $rate req/s" >&2
done

python3 - "$work/samples" "$work/half" "$out" "$rounds" "$duration" "$conns" <<'PY'
import json, os, platform, statistics, sys
samples, half, out, rounds, duration, conns = sys.argv[1:7]
rows = {}
for line in open(samples):
    name, rps, us = line.rsplit(" ", 2)
    rows.setdefault(name, []).append((float(rps), float(us)))
med = {k: (statistics.median(r for r, _ in v), statistics.median(u for _, u in v)) for k, v in rows.items()}
nginx_ac = med["nginx GET /health|agentcheck"][0]
nginx_wrk = med["nginx GET /health|wrk"][0]
def ratio(a, b):
    return a / b if b else 0.0
table = []
for name, (rps, us) in med.items():
    target, generator = name.split("|")
    vs = ""
    if target.startswith("agentd") and generator == "agentcheck":
        vs = ratio(rps, nginx_ac)
    if target.startswith("nginx"):
        vs = ratio(rps, nginx_wrk)
    table.append({"target": target, "generator": generator, "rps": rps, "ratio": vs, "cpu_us_per_request": us})
halves = []
for line in open(half):
    label, rate, rps, p50, p99, p999, ok = line.rstrip("\n").split("\t")
    halves.append({"route": label, "rate": float(rate), "rps": float(rps), "p50_ms": float(p50),
                   "p99_ms": float(p99), "p99.9_ms": float(p999), "generator_kept_up": ok == "True"})
cpu = ""
for l in open("/proc/cpuinfo"):
    if l.startswith("model name"):
        cpu = l.split(":", 1)[1].strip(); break
doc = {"rounds": int(rounds), "duration_s": float(duration), "connections": int(conns),
       "cpu": cpu, "cores": os.cpu_count(), "kernel": platform.release(),
       "budget": "one core per server (taskset), nginx 1 worker vs agentd --threads 1; generator on the other core; access logs on, buffered, both, to a memory file system when there is one",
       "rows": table, "half_rate": halves,
       "generator_vs_wrk": ratio(nginx_ac, nginx_wrk)}
os.makedirs(out, exist_ok=True)
json.dump(doc, open(os.path.join(out, "bench-compare.json"), "w"), indent=1)
md = [f"# bench-compare ({cpu}, {os.cpu_count()} cores, kernel {platform.release()})", "",
      f"Medians of {rounds} interleaved rounds of {duration} s; {conns} connections; " + doc["budget"] + ".", "",
      "| target | generator | req/s | ratio | server CPU µs/request |", "|---|---|---:|---:|---:|"]
for t in table:
    r = "" if t["ratio"] == "" else f"{t['ratio']:.2f}"
    md.append(f"| {t['target']} | {t['generator']} | {t['rps']:,.0f} | {r} | {t['cpu_us_per_request']:.1f} |")
md += ["", "Ratio: nginx rows against wrk on nginx (the generators' efficiency); agentd rows against nginx driven by the same generator (agentcheck load).", "",
       "| agentd at half its maximum (open model) | rate | answered/s | p50 ms | p99 ms | p99.9 ms | generator kept up |",
       "|---|---:|---:|---:|---:|---:|---|"]
for h in halves:
    md.append(f"| {h['route']} | {h['rate']:,.0f} | {h['rps']:,.0f} | {h['p50_ms']:.2f} | {h['p99_ms']:.2f} | {h['p99.9_ms']:.2f} | {h['generator_kept_up']} |")
open(os.path.join(out, "bench-compare.md"), "w").write("\n".join(md) + "\n")
print("\n".join(md))
PY
