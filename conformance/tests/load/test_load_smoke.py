#!/usr/bin/env python3
"""agentcheck load against the reference agent, end to end (part of make test):

- a short open-model run of the mixed scenario with thresholds that gate, as CI would use them;
- a breached threshold exits 1 and names the breach; an unknown metric is a usage error (2);
- three shards run side by side as separate processes, merged with `load merge`: the merged
  totals equal the sum of the shards and those of one process sending the same requests;
- `load compare` of a run with itself finds nothing worse.

Bounded: a few seconds of load on loopback."""
import json
import os
import shutil
import subprocess
import sys
import time

failures = []


def check(ok, message):
    if not ok:
        failures.append(message)
        print("FAIL:", message)


def start_agentd(agentd, work, secret):
    port_file = os.path.join(work, "agentd.port")
    proc = subprocess.Popen([agentd, "--port", "0", "--port-file", port_file,
                             "--data-dir", os.path.join(work, "data"),
                             "--jwt-secret-file", secret, "--log-requests", "false",
                             "--threads", "1"],  # the single-thread path (no strands)
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(200):
        if os.path.exists(port_file) and open(port_file).read().strip():
            return proc, "http://127.0.0.1:" + open(port_file).read().strip()
        time.sleep(0.05)
    proc.kill()
    raise SystemExit("agentd did not start")


def load(agentcheck, url, secret, report_dir, *args, timeout=120):
    cmd = [agentcheck, "load", "--target", url, "--jwt-secret-file", secret,
           "--report-dir", report_dir, "-q", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)


def results(report_dir):
    with open(os.path.join(report_dir, "results.json")) as f:
        return json.load(f)


def main():
    agentcheck, agentd, fixtures, work = sys.argv[1:5]
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    secret = os.path.join(work, "secret")
    with open(secret, "w") as f:
        f.write(os.urandom(24).hex())
    proc, url = start_agentd(agentd, work, secret)
    try:
        # 1. The mixed scenario at a fixed rate, gated.
        out = load(agentcheck, url, secret, os.path.join(work, "mixed"),
                   "--scenario", os.path.join(fixtures, "mixed.json"), "--rate", "300",
                   "--duration", "3s", "--seed", "7",
                   "--threshold", "errors<1%", "--threshold", "rps>=0.9*rate",
                   "--threshold", "p99<500ms", "--threshold", "stream_gaps<=0",
                   "--record-history", "5",
                   # ctest runs other tests beside this one on a 2-core machine, and the
                   # coverage build is slow: the default 5 ms bound on the generator's schedule
                   # lag measures that machine, not this pipeline. 50 ms (the soak's bound)
                   # still fails a generator that cannot keep up.
                   "--max-lag", "50ms")
        check(out.returncode == 0, f"mixed run exits 0: {out.returncode}\n{out.stdout}{out.stderr}")
        r = results(os.path.join(work, "mixed"))
        check(r["verdict"] == "pass", f"verdict pass: {r['verdict']}")
        check(r["options"]["max_lag_ms"] == 50, f"the lag bound is recorded: {r['options']}")
        check(r["generator"]["keeping_up"], "the generator kept up")
        check(abs(r["summary"]["intended"] - 900) <= 1, f"900 arrivals: {r['summary']['intended']}")
        names = {op["name"] for op in r["operations"]}
        check({"get_agent", "create_agent", "status_move", "enqueue_task", "publish_event"} <= names,
              f"every operation ran: {names}")
        check(r["summary"]["requests"] == sum(op["requests"] for op in r["operations"]),
              "the summary is the sum of the operations")
        check(len(r["series"]) >= 3, f"a per-second series: {len(r['series'])}")
        sub = r["subscribers"]
        check(sub and sub["subscribers"] == 4 and sub["messages"] > 0,
              f"four subscribers saw the run's events: {sub and sub['messages']}")
        check(sub and sub["gaps"] == 0 and sub["duplicates"] == 0,
              f"the event stream stayed gapless under load: {sub}")
        check("teardown:" in out.stdout, "the agents made by the run are deleted")
        lin = [n for n in r.get("notes", []) if n.startswith("linearizability:")]
        check(len(lin) == 1 and lin[0].endswith(": linearizable") and " 0 operations" not in lin[0],
              f"the history of 5 agents under load was recorded and is linearizable: {lin}")
        html = open(os.path.join(work, "mixed", "results.html")).read()
        check("<svg" in html and "<script" not in html, "results.html has inline SVG plots")

        # 2. A breached threshold and a malformed one.
        out = load(agentcheck, url, secret, os.path.join(work, "breach"), "--duration", "1s",
                   "--threshold", "p50<1us")
        check(out.returncode == 1, f"a breach exits 1: {out.returncode}")
        check("BREACH p50<1us" in out.stdout, "the breach is named")
        out = load(agentcheck, url, secret, os.path.join(work, "bad"), "--duration", "1s",
                   "--threshold", "p98<1ms")
        check(out.returncode == 2 and "unknown metric" in out.stderr,
              f"an unknown metric is a usage error: {out.returncode} {out.stderr}")

        # 3. Three shards side by side, merged, against one process sending the same requests.
        shards = []
        for i in range(3):
            cmd = [agentcheck, "load", "--target", url, "--report-dir",
                   os.path.join(work, f"shard{i}"), "-q", "--requests", "1500",
                   "--connections", "4", "--shard", f"{i}/3", "--seed", "3"]
            shards.append(subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE))
        for p in shards:
            p.communicate(timeout=120)
            check(p.returncode == 0, f"shard exits 0: {p.returncode}")
        merged_dir = os.path.join(work, "merged")
        out = subprocess.run([agentcheck, "load", "merge", "--report-dir", merged_dir] +
                             [os.path.join(work, f"shard{i}", "results.json") for i in range(3)],
                             capture_output=True, text=True, timeout=60)
        check(out.returncode == 0, f"merge exits 0: {out.stderr}")
        merged = results(merged_dir)
        parts = [results(os.path.join(work, f"shard{i}")) for i in range(3)]
        check(merged["summary"]["requests"] == 1500,
              f"merged requests: {merged['summary']['requests']}")
        check(merged["summary"]["requests"] == sum(p["summary"]["requests"] for p in parts),
              "merged = the sum of the shards")
        check(merged["histograms"]["latency"]["count"] == 1500, "the merged histogram holds all")
        check(merged["shards_merged"] == 3, "three shards merged")
        out = load(agentcheck, url, secret, os.path.join(work, "one"), "--requests", "1500",
                   "--connections", "12", "--seed", "3")
        one = results(os.path.join(work, "one"))
        check(one["summary"]["requests"] == merged["summary"]["requests"] and
              one["summary"]["ok"] == merged["summary"]["ok"] and
              one["histograms"]["latency"]["count"] == merged["histograms"]["latency"]["count"],
              "the merged totals equal one run's")

        # 4. A run compared with itself.
        same = os.path.join(work, "mixed", "results.json")
        out = subprocess.run([agentcheck, "load", "compare", same, same], capture_output=True,
                             text=True, timeout=60)
        check(out.returncode == 0 and "no figure worse" in out.stdout,
              f"compare with itself: {out.returncode} {out.stdout}")
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    if failures:
        print(f"{len(failures)} failure(s)")
        return 1
    print("load smoke: every check passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
