#!/usr/bin/env python3
"""agentcheck as a team with a broken agent meets it (ctest: conformance.broken_agent).

Runs agentcheck against agent.py (a small Python agent) without bugs and with one
deliberate bug at a time, and asserts what a user must see: one bug reads as one bug
(the requirements failing with the bug are those failing without it plus the bug's own),
checks that depend on a broken rule are blocked and grouped under one root cause, a
failing fixture is requested once, the output and summary.md stay short, and a bad setup
(wrong secret) is named in one line before any check runs.

Usage: test_broken_agent.py AGENTCHECK WORK_DIR
"""
import fnmatch
import json
import os
import re
import shutil
import socket
import subprocess
import sys

from support import check, finish, start, stop

HERE = os.path.dirname(os.path.abspath(__file__))
AGENT = os.path.join(HERE, "agent.py")
SEED = "20261202"


class Agent:
    """agent.py on an ephemeral loopback port, stopped (SIGTERM) on exit."""

    def __init__(self, work, name, bugs, secret_file):
        self.dir = os.path.join(work, name)
        os.makedirs(self.dir, exist_ok=True)
        port_file = os.path.join(self.dir, "port")
        self.counts_file = os.path.join(self.dir, "counts.json")
        args = [sys.executable, AGENT, "--jwt-secret-file", secret_file, "--port-file",
                port_file, "--counts-file", self.counts_file]
        for bug in bugs:
            args += ["--bug", bug]
        self.proc, self.url = start(args, port_file)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        stop(self.proc)

    def counts(self):
        with open(self.counts_file) as f:
            return json.load(f)


def run(agentcheck, agent, secret_file, report_dir, *extra):
    args = [agentcheck, "run", "--target", agent.url, "--jwt-secret-file", secret_file,
            "--report-dir", report_dir, "--seed", SEED, "--jobs", "2",
            # agent.py has no head timeout and hangs on some malformed bodies: these checks
            # would wait out their timeouts in every run without telling the bugs apart.
            "--exclude", "HTTP-022", "--exclude", "HTTP-011.null-body", *extra]
    done = subprocess.run(args, capture_output=True, text=True, timeout=600)
    report = None
    path = os.path.join(report_dir, "report.json")
    if os.path.exists(path):
        with open(path) as f:
            report = json.load(f)
    return done, report


# What each bug must change, check by check: every check whose verdict differs from the
# clean agent's run must match one pattern (first match wins), with that verdict and a
# message containing that text; every pattern must match a changed check.
CHANGES = {
    "create-200": [
        ("REG-020.create-location", "fail", "POST /agents answered 200, not 201, to a valid agent"),
        ("*", "blocked", "POST /agents answered 200, not 201, to a valid agent"),
    ],
    "no-request-id": [
        ("HTTP-012.problem-*", "fail", 'problem member "request_id" must equal the X-Request-ID'),
        ("HTTP-013.request-id-in-problem", "fail",
         'problem member "request_id" must equal the X-Request-ID'),
        ("HTTP-025.echo-*", "fail", "X-Request-ID not echoed on"),
        ("HTTP-026.replace-*", "fail", "no X-Request-ID generated for an invalid one"),
        ("HTTP-027.generated", "fail", "no X-Request-ID generated"),
    ],
    "problem-text": [
        ("HTTP-012.problem-*", "fail", "an error response must be application/problem+json"),
        ("HTTP-013.request-id-in-problem", "fail",
         "an error response must be application/problem+json"),
    ],
    "ignore-if-match": [
        ("HTTP-012.problem-412", "fail", "a stale If-Match: answered 200 instead of 412"),
        ("HTTP-012.problem-428", "fail", "a PUT without If-Match: answered 200 instead of 428"),
        ("REG-028.put-no-if-match", "fail", "PUT without If-Match: answered 200 instead of 428"),
        ("REG-029.put-stale-if-match", "fail",
         "PUT with a wrong If-Match: answered 200 instead of 412"),
        ("REG-029.put-superseded-etag", "fail",
         "PUT with a superseded ETag: answered 200 instead of 412"),
        ("AUTH-047.428-before-422", "fail", "answered 422 instead of 428"),
        ("AUTH-047.412-before-422", "fail", "answered 422 instead of 412"),
    ],
}


def check_changes(bug, clean, report):
    """Asserts CHANGES[bug]: the verdict and the message of every check the bug affects."""
    before = {c["id"]: c["verdict"] for c in clean["checks"]}
    changed = [c for c in report["checks"] if c["verdict"] != before.get(c["id"])]
    used = set()
    for c in changed:
        rule = next((r for r in CHANGES[bug] if fnmatch.fnmatchcase(c["id"], r[0])), None)
        if rule is None:
            check(False, f"{bug}: {c['id']} changed to {c['verdict']} ({c['message'][:120]}), "
                         "which the bug should not affect")
            continue
        used.add(rule[0])
        check(c["verdict"] == rule[1] and rule[2] in c["message"],
              f"{bug}: {c['id']}: want {rule[1]} with {rule[2]!r}, got {c['verdict']} with "
              f"{c['message'][:200]!r}")
    for pattern, verdict, _ in CHANGES[bug]:
        check(pattern in used, f"{bug}: no check matching {pattern} became {verdict}")


def failing(report):
    return {r["id"] for r in report["requirements"] if r["status"] == "fail"}


def main():
    agentcheck, work = sys.argv[1], sys.argv[2]
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    secret = os.path.join(work, "secret")
    with open(secret, "w") as f:
        f.write(os.urandom(24).hex())

    with Agent(work, "clean", [], secret) as agent:
        clean_run, clean = run(agentcheck, agent, secret, os.path.join(work, "r-clean"))
    check(clean is not None, "the clean run wrote report.json")
    base = failing(clean)
    check(any(c["verdict"] == "pass" for c in clean["checks"]
              if c["id"] == "REG-020.create-location"), "the clean agent creates with 201")

    # --- one bug: POST /agents answers 200 ----------------------------------------------
    with Agent(work, "create-200", ["create-200"], secret) as agent:
        bug_run, bug = run(agentcheck, agent, secret, os.path.join(work, "r-create-200"))
    counts = agent.counts()  # written when the agent stops
    check(bug_run.returncode == 1, f"create-200: exit 1 (got {bug_run.returncode})")
    check_changes("create-200", clean, bug)
    check(failing(bug) - base <= {"REG-020"},
          f"create-200: only REG-020 newly fails (also: {sorted(failing(bug) - base - {'REG-020'})})")
    create_checks = [c for c in bug["checks"] if c["id"] == "REG-020.create-location"]
    check(create_checks and create_checks[0]["verdict"] == "fail",
          "create-200: REG-020.create-location fails")
    blocked = [c for c in bug["checks"] if c["verdict"] == "blocked"]
    check(len(blocked) >= 50, f"create-200: at least 50 checks blocked (got {len(blocked)})")
    check(all(c["blocked_by"] == "REG-020" for c in blocked),
          "create-200: every blocked check names REG-020")
    groups = [g for g in bug["root_causes"] if g["verdict"] == "blocked"]
    line = (f"{len(blocked)} checks blocked: POST /agents answered 200, not 201, to a valid "
            "agent (REG-020)")
    check(len(groups) == 1 and groups[0]["summary"] == line,
          f"create-200: one root cause line for the blocked checks: {line!r} "
          f"(got {[g['summary'] for g in groups]})")
    statuses = {r["id"]: r["status"] for r in bug["requirements"]}
    check(statuses.get("REG-034") in ("blocked", "pass"),
          f"create-200: REG-034 (DELETE) is not reported failed (got {statuses.get('REG-034')})")
    check(counts.get("POST /agents (plain fixture)", 0) <= 4,
          "create-200: the failing plain fixture is not requested again by every check "
          f"(sent {counts.get('POST /agents (plain fixture)', 0)} times)")
    check(line in bug_run.stdout, "create-200: the terminal shows the grouped line")
    tail = bug_run.stdout[bug_run.stdout.rfind("Root causes"):]
    check(line in tail, "create-200: the final short summary has the grouped line")
    with open(os.path.join(work, "r-create-200", "summary.md"), encoding="utf-8") as f:
        summary = f.read()
    check(line in summary, "create-200: summary.md has the grouped line")
    check(len(summary.encode()) <= 65536,
          f"create-200: summary.md fits a PR comment (64 KiB; got {len(summary.encode())} bytes)")
    junit = open(os.path.join(work, "r-create-200", "junit.xml"), encoding="utf-8").read()
    check("blocked by REG-020: POST /agents answered 200" in junit,
          "create-200: junit.xml says why a check was skipped")

    # --- -q: one line per root cause ----------------------------------------------------
    with Agent(work, "quiet", ["create-200"], secret) as agent:
        quiet_run, quiet = run(agentcheck, agent, secret, os.path.join(work, "r-quiet"), "-q")
    lines = quiet_run.stdout.strip("\n").split("\n")
    check(len(lines) <= len(quiet["root_causes"]) + 6,
          f"-q: {len(lines)} lines for {len(quiet['root_causes'])} root causes")

    # --- another bug: X-Request-ID never sent -------------------------------------------
    with Agent(work, "no-request-id", ["no-request-id"], secret) as agent:
        _, rid = run(agentcheck, agent, secret, os.path.join(work, "r-no-request-id"))
    check_changes("no-request-id", clean, rid)
    new = failing(rid) - base
    check(new and new <= {"HTTP-025", "HTTP-026", "HTTP-027", "HTTP-013"},
          f"no-request-id: only the X-Request-ID rules newly fail (got {sorted(new)})")

    # --- If-Match ignored ---------------------------------------------------------------
    with Agent(work, "ignore-if-match", ["ignore-if-match"], secret) as agent:
        _, etag = run(agentcheck, agent, secret, os.path.join(work, "r-ignore-if-match"))
    check_changes("ignore-if-match", clean, etag)

    # --- errors as text/plain -----------------------------------------------------------
    with Agent(work, "problem-text", ["problem-text"], secret) as agent:
        _, text = run(agentcheck, agent, secret, os.path.join(work, "r-problem-text"))
    check_changes("problem-text", clean, text)
    new = failing(etag) - base
    check(new and new <= {"REG-028", "REG-029", "AUTH-047"},
          f"ignore-if-match: only the If-Match rules newly fail (got {sorted(new)})")

    # --- a wrong secret: one line, before any check -------------------------------------
    other = os.path.join(work, "other-secret")
    with open(other, "w") as f:
        f.write(os.urandom(24).hex())
    with Agent(work, "wrong-secret", [], secret) as agent:
        wrong_run, wrong = run(agentcheck, agent, other, os.path.join(work, "r-wrong"))
    check(wrong_run.returncode == 2, f"wrong secret: exit 2 (got {wrong_run.returncode})")
    check(wrong_run.stderr.count("\n") == 1 and "refuses tokens signed with --jwt-secret-file"
          in wrong_run.stderr, f"wrong secret: one line on stderr (got {wrong_run.stderr!r})")
    check(wrong is not None and wrong["stopped_early"]["kind"] == "token_refused",
          "wrong secret: report.json says the token was refused")

    # --- state in memory only: the lifecycle layer, with agentcheck owning the process ---
    # agent.py keeps nothing across a restart, so the crash check must count lost writes
    # and name LIFE-006, and the restart check must see the agent gone.
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    life_dir = os.path.join(work, "r-lifecycle")
    life_run = subprocess.run(
        [agentcheck, "run", "--target", f"http://127.0.0.1:{port}", "--jwt-secret-file", secret,
         "--launch", f"{sys.executable} {AGENT} --port {port} --jwt-secret-file {secret}",
         "--layer", "lifecycle", "--crash-cycles", "2", "--report-dir", life_dir,
         "--seed", SEED], capture_output=True, text=True, timeout=600)
    check(life_run.returncode == 1, f"lifecycle: exit 1 (got {life_run.returncode}): "
          f"{life_run.stderr[-500:]}")
    with open(os.path.join(life_dir, "report.json"), encoding="utf-8") as f:
        life = json.load(f)
    crash = [c for c in life["checks"] if c["id"] == "LIFE-006.crash-durability"]
    lost = re.search(r"restart: (\d+) lost", crash[0]["message"]) if crash else None
    check(crash and crash[0]["verdict"] == "fail" and crash[0]["failed_requirement"] == "LIFE-006"
          and lost and int(lost.group(1)) > 0,
          f"lifecycle: the crash check counts lost writes on LIFE-006 (got {crash})")
    restart = [c for c in life["checks"] if c["id"] == "LIFE-006.restart-keeps-state"]
    check(restart and restart[0]["verdict"] == "fail",
          f"lifecycle: the restart check sees the agent gone (got {restart})")
    # The Python agent prints nothing, so only the file itself can be asserted.
    check(os.path.isfile(os.path.join(life_dir, "agent.log")),
          "lifecycle: the agent's output is kept in agent.log")

    return finish("broken agent: every assertion held")

if __name__ == "__main__":
    sys.exit(main())
