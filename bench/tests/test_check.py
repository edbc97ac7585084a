#!/usr/bin/python3
"""bench/check.py can fail: against baselines three times faster than this machine (every
benchmark but the calibration divided by 3), the quick check reports regressions and exits 1;
against the committed baselines, a slowdown it did not see is not invented (exit 0 is left to
`make bench-check` itself, which runs right after)."""
import json
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def main():
    build = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "build", "release")
    tmp = tempfile.mkdtemp(prefix="bench-check-test-")
    try:
        fast = os.path.join(tmp, "baselines")
        os.makedirs(fast)
        for name in ("agent_micro_bench", "agentcheck_micro_bench"):
            with open(os.path.join(ROOT, "fixtures", "baselines", name + ".json")) as f:
                doc = json.load(f)
            for b in doc["benchmarks"]:
                if not b["name"].startswith("BM_calibration"):
                    b["real_time"] /= 3
                    b["cpu_time"] /= 3
            with open(os.path.join(fast, name + ".json"), "w") as f:
                json.dump(doc, f)
        out = subprocess.run(["/usr/bin/python3", os.path.join(ROOT, "bench", "check.py"),
                              "--quick", "--build", build, "--baselines", fast,
                              "--out", os.path.join(tmp, "out")],
                             capture_output=True, text=True, timeout=600)
        ok = out.returncode == 1 and "regressed" in out.stdout
        print(out.stdout[-2000:])
        if not ok:
            print(f"FAIL: a 3x slowdown must fail the check (exit {out.returncode})")
            return 1
        print("bench-check fails on a 3x slowdown, as it must")
        return 0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
