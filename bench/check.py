#!/usr/bin/python3
"""make bench-check: the micro-benchmarks against their baselines (fixtures/baselines), with
Google Benchmark's compare.py (libbenchmark-tools) and its Mann-Whitney U test.

A benchmark regresses when its median real time is slower than the baseline's by more than the
tolerance AND the U test says the difference is significant (p < alpha): a slow run alone does
not fail, nor does a significant but small change.

Baselines are recorded on one machine and checked on others, so every run is first scaled by
BM_calibration (a fixed amount of integer work in each binary): times are compared as multiples
of what this machine needs for the calibration loop. What this cannot remove (a different cache
size, a different disk) the tolerance must cover: 15% by default; --quick (what `make test`
runs: few repetitions, short runs) allows 100%, so that only a real slowdown fails it.

  bench/check.py [--build DIR] [--quick] [--update] [--tolerance 0.15] [--alpha 0.05]
  --update records new baselines instead of checking."""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
COMPARE = "/usr/share/benchmark/compare.py"
BENCHES = ["agent_micro_bench", "agentcheck_micro_bench"]
CALIBRATION = "BM_calibration"


def run_bench(binary, out, repetitions, min_time):
    cmd = [binary, f"--benchmark_repetitions={repetitions}", f"--benchmark_min_time={min_time}",
           "--benchmark_enable_random_interleaving=true", "--benchmark_report_aggregates_only=false",
           f"--benchmark_out={out}", "--benchmark_out_format=json"]
    done = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                          timeout=900)
    if done.returncode != 0:
        raise SystemExit(f"bench-check: {os.path.basename(binary)} failed: {done.stderr[-500:]}")


def median_real(doc, name):
    times = [b["real_time"] for b in doc["benchmarks"]
             if b.get("run_type") == "iteration" and b["name"] == name]
    return statistics.median(times) if times else None


def scaled(doc, factor):
    out = json.loads(json.dumps(doc))
    for b in out["benchmarks"]:
        for field in ("real_time", "cpu_time"):
            if field in b:
                b[field] *= factor
    return out


def check_one(name, baseline_path, fresh, tolerance, alpha, report_dir):
    with open(baseline_path) as f:
        base = json.load(f)
    base_cal, fresh_cal = median_real(base, CALIBRATION), median_real(fresh, CALIBRATION)
    if not base_cal or not fresh_cal:
        raise SystemExit(f"bench-check: {name}: {CALIBRATION} is missing from a run")
    factor = base_cal / fresh_cal
    tmp = tempfile.mkdtemp(prefix="bench-check-")
    try:
        fresh_path = os.path.join(tmp, "fresh.json")
        with open(fresh_path, "w") as f:
            json.dump(scaled(fresh, factor), f)
        dump = os.path.join(tmp, "compare.json")
        env = dict(os.environ, PYTHONPATH=os.path.join(HERE, "pyshim"))
        done = subprocess.run(["/usr/bin/python3", COMPARE, "--no-color", "-d", dump,
                               "--alpha", str(alpha), "benchmarks", baseline_path, fresh_path],
                              capture_output=True, text=True, env=env, timeout=300)
        if done.returncode != 0:
            raise SystemExit(f"bench-check: compare.py failed: {done.stderr[-800:]}")
        with open(os.path.join(report_dir, name + ".compare.txt"), "w") as f:
            f.write(done.stdout)
        with open(dump) as f:
            rows = json.load(f)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    medians, pvalues = {}, {}
    for r in rows:
        if r.get("run_type") == "aggregate" and r.get("aggregate_name") == "median":
            medians[r["name"].rsplit("_median", 1)[0]] = r["measurements"][0]["time"]
        elif r.get("utest") and r["utest"].get("time_pvalue") is not None:
            pvalues[r["name"]] = r["utest"]["time_pvalue"]
    results = []
    for bench, change in sorted(medians.items()):
        if bench == CALIBRATION:
            continue
        p = pvalues.get(bench)
        significant = p is not None and p < alpha
        verdict = "regressed" if change > tolerance and significant else (
            "improved" if change < -tolerance and significant else "same")
        results.append({"benchmark": bench, "change": change, "pvalue": p, "verdict": verdict})
    return factor, results


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build", default=os.path.join(ROOT, "build", "release"))
    ap.add_argument("--baselines", default=os.path.join(ROOT, "fixtures", "baselines"))
    ap.add_argument("--out", default=os.path.join(ROOT, "reports", "bench-check"))
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--update", action="store_true")
    ap.add_argument("--tolerance", type=float)
    ap.add_argument("--alpha", type=float, default=0.05)
    a = ap.parse_args()
    repetitions, min_time = (5, 0.02) if a.quick else (9, 0.2)
    tolerance = a.tolerance if a.tolerance is not None else (1.0 if a.quick else 0.15)
    if not os.path.exists(COMPARE):
        raise SystemExit("bench-check: compare.py is missing (make deps installs libbenchmark-tools)")
    os.makedirs(a.out, exist_ok=True)
    os.makedirs(a.baselines, exist_ok=True)
    regressed = 0
    summary = {"tolerance": tolerance, "alpha": a.alpha, "repetitions": repetitions,
               "benches": {}}
    for name in BENCHES:
        binary = os.path.join(a.build, "bench", name)
        if not os.path.exists(binary):
            raise SystemExit(f"bench-check: {binary} is missing (make release)")
        fresh_path = os.path.join(a.out, name + ".json")
        print(f"bench-check: running {name} ({repetitions} repetitions)", flush=True)
        run_bench(binary, fresh_path, repetitions, min_time)
        baseline_path = os.path.join(a.baselines, name + ".json")
        if a.update:
            with open(fresh_path) as f:
                doc = json.load(f)
            # A baseline names the benchmark, not the machine or checkout it was recorded on.
            doc["context"]["executable"] = name
            doc["context"]["host_name"] = "baseline"
            with open(baseline_path, "w") as f:
                json.dump(doc, f, indent=2)
                f.write("\n")
            print(f"bench-check: baseline {baseline_path} recorded")
            continue
        if not os.path.exists(baseline_path):
            raise SystemExit(f"bench-check: no baseline {baseline_path} (bench/check.py --update)")
        with open(fresh_path) as f:
            fresh = json.load(f)
        factor, results = check_one(name, baseline_path, fresh, tolerance, a.alpha, a.out)
        print(f"  calibration: this machine runs {CALIBRATION} at {1 / factor:.2f}x the "
              f"baseline's time; times are scaled by {factor:.3f}")
        for r in results:
            p = "  n/a" if r["pvalue"] is None else f"{r['pvalue']:.4f}"
            print(f"  {r['benchmark']:<34} {r['change'] * 100:+7.1f}%  p={p}  {r['verdict']}")
            regressed += r["verdict"] == "regressed"
        summary["benches"][name] = {"scale": factor, "results": results}
    if a.update:
        return 0
    with open(os.path.join(a.out, "bench-check.json"), "w") as f:
        json.dump(summary, f, indent=1)
    print(f"bench-check: {regressed} regression(s) beyond {tolerance * 100:.0f}% (p < {a.alpha})")
    return 1 if regressed else 0


if __name__ == "__main__":
    sys.exit(main())
