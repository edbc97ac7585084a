#!/usr/bin/env python3
"""The reference agent checked against openapi.yaml by a tool nobody here wrote (ctest
contract.prism).

Usage: test_prism_proxy.py AGENTCHECK AGENTD WORKDIR

agentd starts as scripts/conformance_reference.sh starts it (a fresh secret, --port 0,
--task-queue-depth 50, --invoke-timeout-ms 500, --breaker-recovery-ms 1000); Stoplight Prism
(`prism proxy`, from tools/contract, installed by `make deps`) sits in front of it on a free
loopback port and validates every request and every response against conformance/openapi.yaml;
`agentcheck run` goes through Prism. Prism runs without --errors, so it forwards everything and
only reports: the harness deliberately sends requests that break the schema, and those must
reach agentd. The test fails, listing them, on:

- any violation of a response (status not in the document, a header or body that breaks its
  schema): agentd and the document disagree;
- any violation of a request that agentd accepted (a 2xx answer): the document is stricter
  than the agent (and than the harness, which expects that request to succeed);
- an operation of the document that no request reached (the run proves nothing about it);
- an agentcheck run that does not pass.

What cannot go through a proxy is left out, each with its reason in EXCLUDED below: Prism (a
Node.js HTTP server) answers some requests itself, re-frames bodies and cannot forward
WebSocket upgrades. The harness covers those rules against agentd directly
(conformance.reference). Rules Prism cannot express are listed in conformance/README.md.
"""
import collections
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", "..", ".."))
OPENAPI = os.path.join(ROOT, "conformance", "openapi.yaml")
PRISM = os.environ.get("PRISM", os.path.join(ROOT, "tools", "contract", "node_modules", ".bin",
                                             "prism"))
READY_TIMEOUT_S = 20
RUN_TIMEOUT_S = 240

# Checks that cannot pass through a proxy, with why. Layers robustness (raw sockets: framing,
# smuggling, malformed heads) and lifecycle (agentcheck owns the process) are not selected.
EXCLUDED = {
    # Section 5 and the workflows that follow a stream: Prism does not forward WebSocket
    # upgrades.
    "5": "WebSocket streams (Prism does not proxy upgrades)",
    "WF-*": "workflows that follow a WebSocket stream",
    # Connection management is Prism's, not agentd's, through a proxy.
    "HTTP-001": "keep-alive (Prism's connection)",
    "HTTP-002": "pipelining (Prism's connection)",
    "HTTP-003": "Connection: close (Prism's connection)",
    "HTTP-004": "Connection: close echoed (Prism's connection)",
    # Prism parses JSON bodies itself: it answers some malformed ones on its own (400
    # application/json), re-encodes invalid UTF-8 and re-frames chunked or oversized bodies.
    "HTTP-006": "invalid JSON (answered by Prism's body parser)",
    "HTTP-007": "invalid UTF-8 (re-encoded by Prism)",
    "HTTP-011.string-body": "a JSON string body (Prism's body parser)",
    "HTTP-011.null-body": "a JSON null body (Prism's body parser)",
    "HTTP-012.problem-400": "a 400 answered by Prism",
    "HTTP-012.problem-413": "body limit (Prism buffers the body)",
    "HTTP-012.problem-431": "head limit (Prism's HTTP server)",
    "HTTP-019": "body limit (Prism buffers the body)",
    "HTTP-020": "body limit (Prism buffers the body)",
    "HTTP-021": "head limit (Prism's HTTP server)",
    "HTTP-022": "slow heads (Prism's HTTP server)",
    "HTTP-033": "chunked request bodies (re-framed by Prism)",
    "HTTP-034": "missing Host (Prism's HTTP server)",
    "AUTH-041.*-bad-json": "malformed JSON (answered by Prism)",
    "AUTH-042.viewer-bad-json": "malformed JSON (answered by Prism)",
    "AUTH-043.413-before-400": "body limit (Prism buffers the body)",
    "AUTH-044.400-before-422": "invalid UTF-8 (re-encoded by Prism)",
    # Prism matches the scheme name `Bearer` case-sensitively, though RFC 9110 §11.1 makes it
    # case-insensitive: it flags `bearer <token>` as an invalid security scheme.
    "AUTH-030.lowercase-scheme": "lower-case `bearer` (Prism compares the scheme case-sensitively)",
    # These send HEAD and OPTIONS requests, which Prism answers 500 (the document has no HEAD
    # or OPTIONS operations; agentd answers them as described in its info section).
    "HTTP-028.request-id-everywhere": "HEAD/OPTIONS (Prism answers 500)",
    "HTTP-029.nosniff-everywhere": "HEAD/OPTIONS (Prism answers 500)",
    "TRC-001.every-response": "HEAD/OPTIONS (Prism answers 500)",
    "TRC-002.continued": "HEAD/OPTIONS (Prism answers 500)",
}

# The two operations that are WebSocket upgrades: not reached through Prism.
UPGRADE_OPERATIONS = {"streamAgentStatus", "streamEvents"}

LINE = re.compile(r"^\[[^\]]*\] ›\s+\[(?P<who>[A-Z ]+)\] (?P<rest>.*)$")
RECEIVED = re.compile(r"^(?P<method>[a-z]+) (?P<path>\S+) \S+\s+info\s+Request received")
RETURNED = re.compile(r"The upstream call to (?P<path>\S+) has returned (?P<status>\d{3})")
VIOLATION = re.compile(r"^\S+\s+(?P<level>error|warning)\s+Violation: (?P<where>\S+) ?(?P<what>.*)$")


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(cond, timeout, what, proc, log):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            sys.exit(f"FAIL: {what}: the process exited ({proc.returncode}):\n"
                     + open(log, errors="replace").read()[-4000:])
        value = cond()
        if value:
            return value
        time.sleep(0.1)
    sys.exit(f"FAIL: {what} within {timeout} s:\n" + open(log, errors="replace").read()[-4000:])


def connectable(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def operations():
    """(method, compiled path regex, operationId) for every operation of the document."""
    doc = yaml.safe_load(open(OPENAPI))
    out = []
    for path, item in doc["paths"].items():
        rx = re.compile("^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(path)) + "$")
        for method, op in item.items():
            if method in ("get", "put", "post", "delete", "patch", "head", "options"):
                out.append((method, rx, op["operationId"]))
    return out


def parse_log(text):
    """One record per request Prism received: method, path, upstream status, violations.

    agentcheck runs with --jobs 1, so requests mostly follow one another; Prism logs a
    request's violations after its upstream answer, before the next request. A line that
    cannot be placed is kept apart and reported."""
    requests = []
    current = None
    for raw in text.splitlines():
        m = LINE.match(raw)
        if not m:
            continue
        who, rest = m.group("who").strip(), m.group("rest")
        if who == "HTTP SERVER":
            r = RECEIVED.match(rest)
            if r:
                current = {"method": r.group("method"), "path": r.group("path"), "status": None,
                           "violations": []}
                requests.append(current)
        elif who == "PROXY" and current is not None:
            r = RETURNED.search(rest)
            if r:
                current["status"] = int(r.group("status"))
        elif who == "VALIDATOR":
            v = VIOLATION.match(rest)
            if v and current is not None:
                current["violations"].append((v.group("level"), v.group("where"), v.group("what")))
    return requests


def main():
    agentcheck, agentd, work = sys.argv[1:4]
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    if not os.access(PRISM, os.X_OK):
        sys.exit(f"FAIL: {PRISM} is missing: `make deps` installs it (npm ci --prefix tools/contract)")
    secret = os.path.join(work, "secret")
    with open(secret, "w") as f:
        f.write(os.urandom(24).hex())
    os.chmod(secret, 0o600)
    procs = []
    started = time.monotonic()
    try:
        agent_log = os.path.join(work, "agentd.log")
        port_file = os.path.join(work, "port")
        agent = subprocess.Popen(
            [agentd, "--port", "0", "--port-file", port_file, "--data-dir",
             os.path.join(work, "data"), "--jwt-secret-file", secret, "--log-requests", "false",
             "--task-queue-depth", "50", "--invoke-timeout-ms", "500",
             "--breaker-recovery-ms", "1000"],
            stdout=open(agent_log, "w"), stderr=subprocess.STDOUT)
        procs.append(agent)
        agent_port = wait_for(
            lambda: os.path.exists(port_file) and open(port_file).read().strip().isdigit()
            and int(open(port_file).read().strip()), READY_TIMEOUT_S, "agentd listening", agent,
            agent_log)
        wait_for(lambda: connectable(agent_port), READY_TIMEOUT_S, "agentd accepting", agent,
                 agent_log)

        prism_log = os.path.join(work, "prism.log")
        for _ in range(3):  # a port picked free may be taken before Prism binds it
            prism_port = free_port()
            prism = subprocess.Popen(
                [PRISM, "proxy", OPENAPI, f"http://127.0.0.1:{agent_port}", "--host",
                 "127.0.0.1", "--port", str(prism_port), "--cors", "false"],
                stdout=open(prism_log, "w"), stderr=subprocess.STDOUT, start_new_session=True)
            deadline = time.monotonic() + READY_TIMEOUT_S
            while time.monotonic() < deadline and prism.poll() is None:
                if "Prism is listening" in open(prism_log, errors="replace").read():
                    break
                time.sleep(0.2)
            if prism.poll() is None and connectable(prism_port):
                break
            if prism.poll() is None:
                os.killpg(prism.pid, signal.SIGTERM)
                prism.wait()
        else:
            sys.exit("FAIL: prism proxy did not start:\n" + open(prism_log).read()[-4000:])
        procs.append(prism)
        print(f"agentd on {agent_port}, prism proxy on {prism_port} "
              f"({time.monotonic() - started:.1f} s)")

        cmd = [agentcheck, "run", "--target", f"http://127.0.0.1:{prism_port}",
               "--jwt-secret-file", secret, "--level", "should", "--jobs", "1",
               "--layer", "unit", "integration", "e2e", "property", "--property-runs", "20",
               "--report-dir", os.path.join(work, "report"), "-q", "--exclude", *EXCLUDED]
        run = subprocess.run(cmd, capture_output=True, text=True, timeout=RUN_TIMEOUT_S)
        print(run.stdout[-3000:], end="")
        print(run.stderr[-2000:], end="")
    finally:
        for p in reversed(procs):
            if p.poll() is None:
                if p is procs[0]:
                    p.send_signal(signal.SIGTERM)
                else:
                    os.killpg(p.pid, signal.SIGTERM)
                try:
                    p.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()

    failures = []
    if run.returncode != 0:
        failures.append(f"agentcheck run through prism exited {run.returncode} (0 expected)")

    requests = parse_log(open(prism_log, errors="replace").read())
    response_violations = collections.Counter()
    strict_requests = collections.Counter()
    for r in requests:
        for level, where, what in r["violations"]:
            # One line per kind of violation: ids and array indices folded.
            key = f"{r['method'].upper()} {re.sub(r'[0-9a-f-]{36}', '{id}', r['path'])} -> " \
                  f"{r['status']}: " + re.sub(r"\.\d+(?=[. ]|$)", ".*", f"{where} {what}")
            if where.startswith("response"):
                response_violations[key] += 1
            elif r["status"] is not None and 200 <= r["status"] < 300:
                strict_requests[key] += 1
    for key, n in sorted(response_violations.items()):
        failures.append(f"response breaks openapi.yaml ({n}x): {key}")
    for key, n in sorted(strict_requests.items()):
        failures.append(f"request accepted by agentd breaks openapi.yaml ({n}x): {key}")

    reached = collections.Counter()
    ops = operations()
    for r in requests:
        path = r["path"].split("?", 1)[0]
        for method, rx, op in ops:
            if method == r["method"] and rx.match(path):
                reached[op] += 1
    for method, rx, op in ops:
        if op not in UPGRADE_OPERATIONS and not reached[op]:
            failures.append(f"no request reached operation {op} ({method.upper()} {rx.pattern})")

    print(f"prism saw {len(requests)} requests on {len(reached)} of {len(ops)} operations; "
          f"{sum(len(r['violations']) for r in requests)} violations reported "
          f"({sum(response_violations.values())} of responses, "
          f"{sum(strict_requests.values())} of requests answered 2xx); "
          f"{time.monotonic() - started:.1f} s")
    if len(requests) < 100:
        failures.append(f"prism's log shows only {len(requests)} requests: was its log format "
                        "understood? (see prism.log in the work directory)")
    for f in failures:
        print("FAIL:", f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
