"""What the harness's Python-driven tests share: soft assertions and starting a server."""
import os
import signal
import subprocess
import sys
import time

FAILURES = []


def check(condition, what):
    """Records a failed assertion (the test goes on, and fails at the end)."""
    if not condition:
        FAILURES.append(what)
        print("FAILED: " + what, file=sys.stderr)


def start(args, port_file, timeout_s=15):
    """Starts a server that writes its port to port_file; returns (process, base URL)."""
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + timeout_s
    while not (os.path.exists(port_file) and open(port_file).read().strip()):
        if time.time() > deadline or proc.poll() is not None:
            raise RuntimeError("did not start: " + " ".join(args))
        time.sleep(0.05)
    with open(port_file) as f:
        return proc, "http://127.0.0.1:" + f.read().strip()


def stop(proc):
    """SIGTERM, then waits (the servers write what they counted on the way out)."""
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=15)


def finish(success_line):
    """The exit status: 1 with a count when an assertion failed."""
    if FAILURES:
        print(f"{len(FAILURES)} assertions failed", file=sys.stderr)
        return 1
    print(success_line)
    return 0
