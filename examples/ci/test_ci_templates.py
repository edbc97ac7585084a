#!/usr/bin/env python3
"""The CI templates of examples/ci/ against the agentcheck they call.

Usage: test_ci_templates.py AGENTCHECK

- github-actions.yml and gitlab-ci.yml are valid YAML with the structure their CI expects.
- Every `agentcheck ...` command line of their run:/script: blocks (and of README.md's shell
  blocks) names a subcommand the binary has and only flags that subcommand takes, each with
  a value when it takes one; the binary's own `--help` is the reference, so a renamed flag
  breaks this test. The run and load commands of the templates, with their variables
  expanded, are accepted by agentcheck itself (run: --dry-run exits 0; load: against a
  closed loopback port exits 3, which it does only after the scenario, the thresholds and
  every other value were accepted).
- The files the commands write (the names come from `--report-dir`'s help) are uploaded:
  junit.xml and every HTML report; junit.xml is published as test results; summary.md is
  posted (GitHub: the job summary; GitLab, which has none: the job log and the artifacts);
  the agent is stopped however the job ends.
- The checks can fail: mutated copies of the templates (a renamed flag, an unknown
  subcommand, a flag without its value, a missing upload, a malformed threshold, an upload
  that runs only on success) must each be reported.
"""

import os
import re
import socket
import subprocess
import sys
import tempfile
from fnmatch import fnmatch

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
GITHUB = os.path.join(HERE, "github-actions.yml")
GITLAB = os.path.join(HERE, "gitlab-ci.yml")
README = os.path.join(HERE, "README.md")

# ---------------------------------------------------------------------------------------------
# What agentcheck says it accepts (parsed from its --help, never written down here)


class Command:
    """One (sub)command's options and subcommands, from `agentcheck [path] --help`."""

    # "  -q,--quiet   doc", "  --level TEXT=must   doc", "  --agent-cmd TEXT REQUIRED   doc":
    # the names, then (one space apart) the value's type, then two or more spaces and the doc
    OPTION = re.compile(r"^  (?:(-\w),)?(--[\w-]+)((?: \S+)*)(?:\s{2,}(.*))?$")

    def __init__(self, binary, path):
        self.path = path
        out = subprocess.run([binary, *path, "--help"], capture_output=True, text=True,
                             timeout=30)
        if out.returncode != 0:
            raise RuntimeError(f"agentcheck {' '.join(path)} --help exited {out.returncode}")
        self.help = out.stdout
        self.options = {}  # name -> {"value": bool, "required": bool, "default": str, "doc": str}
        self.subcommands = set()
        self.positionals = False
        section = None
        last = None
        for line in self.help.splitlines():
            if line.startswith("Usage:"):
                words = line.split()[2 + len(path):]
                self.positionals = any(w not in ("[OPTIONS]", "[SUBCOMMAND]", "SUBCOMMAND")
                                       for w in words)
            elif re.match(r"^\w[\w ]*:$", line):  # Positionals:, Options:, Subcommands:
                section = line
            elif section == "Options:" and (m := self.OPTION.match(line)):
                short, long, spec, doc = m.groups()
                spec = spec.split()
                kind = spec[0] if spec else ""
                takes = re.match(r"[A-Z]+\b", kind) is not None
                default = kind.split("=", 1)[1] if "=" in kind else None
                opt = {"value": takes, "required": "REQUIRED" in spec, "default": default,
                       "doc": doc or "", "name": long}
                self.options[long] = opt
                if short:
                    self.options[short] = opt
                last = opt
            elif section == "Options:" and last and line.startswith("    "):
                last["doc"] += " " + line.strip()  # a description on the next line
            elif section == "Subcommands:" and re.match(r"^  \S", line):
                self.subcommands.add(line.split()[0])
        if "--help" not in self.options:
            raise RuntimeError(f"no option list in agentcheck {' '.join(path)} --help")

    def report_files(self):
        """The file names --report-dir's help says the command writes there."""
        opt = self.options.get("--report-dir")
        if not opt:
            return []
        return re.findall(r"\b[\w-]+\.(?:json|xml|md|html)\b", opt["doc"])


class Agentcheck:
    def __init__(self, binary):
        self.binary = os.path.abspath(binary) if os.sep in binary else binary
        self.commands = {}

    def command(self, path):
        key = tuple(path)
        if key not in self.commands:
            self.commands[key] = Command(self.binary, list(path))
        return self.commands[key]


# ---------------------------------------------------------------------------------------------
# A small POSIX shell word splitter: quotes, escapes, variable expansion with field splitting of
# unquoted expansions, operators, comments, line continuations. Enough for CI scripts.

OPERATORS = ["&&", "||", ";;", ">>", ">&", "<<", "|", "&", ";", "(", ")", "<", ">", "\n"]
CONTROL = {"&&", "||", ";;", "|", "&", ";", "(", ")", "\n"}
REDIRECT = {">>", ">&", "<<", "<", ">"}
PREFIX_WORDS = {"if", "then", "else", "elif", "do", "while", "until", "!", "time", "exec",
                "sudo", "env", "{", "}", "nohup", "setsid"}
VAR = re.compile(r"\$(?:\{(\w+)(?::?[-=+?]([^}]*))?\}|(\w+)|([?!$#@*0-9]))")


class Word(str):
    pass


class Op(str):
    pass


def expand_in(text, env, unset):
    def sub(m):
        name, default, plain, special = m.groups()
        name = name or plain
        if special:
            return "0"
        if name in env:
            return env[name]
        if default is not None:
            return default
        unset.add(name)
        return f"UNSET-{name}"

    return VAR.sub(sub, text)


def split_shell(text, env, unset, nested):
    """Tokens of a shell script: Word (expanded, fields split) and Op. The scripts of command
    substitutions go to nested (their value is not known: CMDSUBST)."""
    tokens = []
    i, n = 0, len(text)
    word, have_word, adjacent_digits = [], False, False

    def flush():
        nonlocal word, have_word
        if have_word:
            tokens.append(Word("".join(word)))
        word, have_word = [], False

    while i < n:
        c = text[i]
        if c == "\\" and i + 1 < n and text[i + 1] == "\n":
            i += 2  # a line continuation
            continue
        if c in " \t":
            flush()
            i += 1
            continue
        if c == "#" and not have_word:
            while i < n and text[i] != "\n":
                i += 1
            continue
        op = next((o for o in OPERATORS if text.startswith(o, i)), None)
        if op:
            if op in REDIRECT and have_word and "".join(word).isdigit():
                word, have_word = [], False  # 2> : the descriptor belongs to the redirection
            flush()
            tokens.append(Op(op))
            i += len(op)
            continue
        if c == "\\":
            word.append(text[i + 1] if i + 1 < n else "")
            have_word = True
            i += 2
            continue
        if c == "'":
            j = text.index("'", i + 1)
            word.append(text[i + 1:j])
            have_word = True
            i = j + 1
            continue
        if c == '"':
            j = i + 1
            buf = []
            while text[j] != '"':
                if text[j] == "\\" and text[j + 1] in '"\\$`':
                    buf.append(text[j + 1])
                    j += 2
                elif text[j] == "$" and text.startswith("$(", j):
                    k = matching_paren(text, j + 1)
                    nested.append(text[j + 2:k])
                    buf.append("CMDSUBST")
                    j = k + 1
                else:
                    buf.append(text[j])
                    j += 1
            word.append(expand_in("".join(buf), env, unset))
            have_word = True
            i = j + 1
            continue
        if c == "$" and text.startswith("$(", i):
            k = matching_paren(text, i + 1)
            nested.append(text[i + 2:k])
            word.append("CMDSUBST")
            have_word = True
            i = k + 1
            continue
        if c == "$":
            m = VAR.match(text, i)
            if m:
                value = expand_in(m.group(0), env, unset)
                fields = value.split()
                # field splitting: the first field joins the word, the last starts the next
                if fields:
                    if value[:1].isspace():
                        flush()
                    word.append(fields[0])
                    have_word = True
                    for f in fields[1:]:
                        flush()
                        word.append(f)
                        have_word = True
                    if value[-1:].isspace():
                        flush()
                i = m.end()
                continue
        word.append(c)
        have_word = True
        i += 1
    flush()
    return tokens


def assigned_names(script):
    """Variables a script sets itself (NAME=..., export NAME=..., for NAME in, read NAME)."""
    names = set(re.findall(r"(?:^|[\s;&|(])(?:export\s+|local\s+|readonly\s+)?([A-Za-z_]\w*)=",
                           script, re.M))
    names |= set(re.findall(r"\bfor\s+(\w+)\s+in\b", script))
    names |= set(re.findall(r"\bread\s+(?:-\w+\s+)*(\w+)", script))
    return names


def matching_paren(text, open_at):
    depth = 0
    for k in range(open_at, len(text)):
        if text[k] == "(":
            depth += 1
        elif text[k] == ")":
            depth -= 1
            if depth == 0:
                return k
    raise ValueError("unbalanced $( in a script")


def agentcheck_commands(script, env, unset):
    """The argument lists (after `agentcheck`) of every agentcheck command in a script."""
    nested = []
    tokens = split_shell(script, env, unset, nested)
    found = []
    for inner in nested:
        found += agentcheck_commands(inner, env, unset)
    at_command = True
    i = 0
    while i < len(tokens):
        t = tokens[i]
        if isinstance(t, Op):
            at_command = t in CONTROL
            if t in REDIRECT:
                i += 1  # the redirection's target
            i += 1
            continue
        if at_command and (t in PREFIX_WORDS or re.match(r"^\w+=", t) or t.startswith("-")):
            i += 1  # sudo -E, env X=1, if, ...: the command is still ahead
            continue
        if at_command and (t == "agentcheck" or t.endswith("/agentcheck")):
            args = []
            i += 1
            while i < len(tokens) and not (isinstance(tokens[i], Op) and tokens[i] in CONTROL):
                if isinstance(tokens[i], Op):  # a redirection and its target
                    i += 2
                    continue
                args.append(str(tokens[i]))
                i += 1
            found.append(args)
            continue
        at_command = False
        i += 1
    return found


# ---------------------------------------------------------------------------------------------
# One command line against agentcheck's help


def check_command(ac, args):
    """Problems of one agentcheck command line; returns (problems, parsed) where parsed is
    {"path": [...], "options": {long: [values]}}."""
    problems = []
    path = []
    cmd = ac.command(path)
    options = {}
    positionals = []
    i = 0
    while i < len(args):
        a = args[i]
        if a.startswith("-") and a != "-":
            name, eq, inline = a.partition("=")
            opt = cmd.options.get(name)
            if opt is None:
                listed = ", ".join(sorted(k for k in cmd.options if k.startswith("--")))
                problems.append(f"agentcheck {' '.join(path) or '(top level)'}: no option {name}"
                                f" (its --help lists {listed})")
                i += 1
                continue
            if opt["value"]:
                if eq:
                    value = inline
                elif i + 1 < len(args):
                    value = args[i + 1]
                    i += 1
                else:
                    problems.append(f"agentcheck {' '.join(path)}: {name} takes a value, "
                                    "none given")
                    value = None
            else:
                if eq:
                    problems.append(f"agentcheck {' '.join(path)}: {name} takes no value")
                value = True
            options.setdefault(opt["name"], []).append(value)
            i += 1
            continue
        if a in cmd.subcommands and not positionals:
            path.append(a)
            cmd = ac.command(path)
            options = {}
            i += 1
            continue
        if not path:
            listed = ", ".join(sorted(cmd.subcommands))
            problems.append(f"agentcheck has no subcommand {a!r} (it has {listed})")
            return problems, None
        if not cmd.positionals:
            problems.append(f"agentcheck {' '.join(path)}: takes no argument {a!r}")
        positionals.append(a)
        i += 1
    if path and not any(v is True for v in options.get("--help", [])):
        for name, opt in cmd.options.items():
            if opt["required"] and name.startswith("--") and name not in options:
                problems.append(f"agentcheck {' '.join(path)}: {name} is required")
    return problems, {"path": path, "options": options, "command": cmd}


def script_commands(ac, script, env, scratch, where):
    """Every agentcheck command of a script, checked against its --help and then by agentcheck
    itself: (problems, the variables it uses that are set nowhere in env, [(args, parsed)]),
    parsed being None for a command with problems."""
    problems, unset, found = [], set(), []
    for args in agentcheck_commands(script, env, unset):
        bad, parsed = check_command(ac, args)
        if parsed and not bad:
            bad = accepted_by_agentcheck(ac, args, parsed, scratch)
        else:
            parsed = None
        problems += [f"{where}: {p}" for p in bad]
        found.append((args, parsed))
    return problems, unset, found


def report_outputs(parsed):
    """(report dir, [files]) of a parsed command: --report-dir or its default from --help."""
    cmd = parsed["command"]
    files = cmd.report_files()
    if not files:
        return None, []
    given = parsed["options"].get("--report-dir")
    directory = given[-1] if given else cmd.options["--report-dir"]["default"]
    return os.path.normpath(directory), [os.path.normpath(os.path.join(directory, f))
                                         for f in files]


def covers(patterns, path):
    for p in patterns:
        p = p.strip()
        if not p:
            continue
        q = os.path.normpath(p)
        if q == path or path.startswith(q.rstrip("/") + "/") or fnmatch(path, p):
            return True
    return False


# ---------------------------------------------------------------------------------------------
# agentcheck itself accepts the values (run: --dry-run; load: up to connecting)


def refusing_port():
    """A loopback socket bound but not listening: connecting to it is refused, and no other
    process can take its port while it is open."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    return s


def replace_option(args, name, value):
    out, i = [], 0
    while i < len(args):
        if args[i] == name:
            out += [name, value]
            i += 2
        elif args[i].startswith(name + "="):
            out += [name, value]
            i += 1
        else:
            out.append(args[i])
            i += 1
    return out


def option_value(args, name):
    for i, a in enumerate(args):
        if a == name and i + 1 < len(args):
            return args[i + 1]
        if a.startswith(name + "="):
            return a.split("=", 1)[1]
    return None


def accepted_by_agentcheck(ac, args, parsed, scratch):
    """Problems when agentcheck refuses the command's values (exit 2)."""
    sub = parsed["path"]
    secret = os.path.join(scratch, "secret")
    with open(secret, "w") as f:
        f.write("0123456789abcdef" * 3)
    run_args = list(args)
    if "--jwt-secret-file" in parsed["options"]:
        run_args = replace_option(run_args, "--jwt-secret-file", secret)
    if "--report-dir" in parsed["options"]:
        run_args = replace_option(run_args, "--report-dir", os.path.join(scratch, "reports"))
    if sub == ["run"]:
        run_args += ["--dry-run"]
        expected = 0
    elif sub == ["load"]:
        scenario = option_value(run_args, "--scenario")
        if scenario is not None:
            # the templates name the team's copy of a scenario shipped beside them
            local = os.path.join(HERE, os.path.basename(scenario))
            if not os.path.isfile(local):
                return [f"agentcheck load --scenario {scenario}: no {os.path.basename(scenario)} "
                        f"beside the templates to copy"]
            run_args = replace_option(run_args, "--scenario", local)
        expected = 3  # unreachable: every value before connecting was accepted
    else:
        return []
    with refusing_port() as closed:
        if sub == ["load"]:
            port = closed.getsockname()[1]
            run_args = replace_option(run_args, "--target", f"http://127.0.0.1:{port}")
        out = subprocess.run([ac.binary, *run_args], capture_output=True, text=True,
                             timeout=60, cwd=scratch)
    if out.returncode != expected:
        return [f"agentcheck {' '.join(run_args)}: exit {out.returncode}, expected {expected}: "
                f"{(out.stderr or out.stdout).strip()[-400:]}"]
    return []


# ---------------------------------------------------------------------------------------------
# The templates


def always(cond):
    return isinstance(cond, str) and re.search(r"\balways\(\)", cond) is not None


def github_expressions(text, env):
    """GitHub substitutes ${{ }} in run: blocks before the shell sees them."""

    def sub(m):
        expr = m.group(1).strip()
        if expr.startswith("env."):
            return env.get(expr[4:], "")
        if expr.startswith("secrets."):
            return "***"
        return "EXPR"

    return re.sub(r"\$\{\{(.*?)\}\}", sub, text)


def check_github(ac, path, scratch, runtime_env):
    problems = []
    with open(path) as f:
        doc = yaml.safe_load(f)
    if not isinstance(doc, dict):
        return ["github: not a mapping"]
    # YAML 1.1 (PyYAML) reads the key `on` as true; GitHub reads it as "on"
    if "on" not in doc and True not in doc:
        problems.append("github: no `on:` trigger")
    jobs = doc.get("jobs")
    if not isinstance(jobs, dict) or not jobs:
        return problems + ["github: no jobs"]
    commands = []
    for job_name, job in jobs.items():
        where = f"github: job {job_name}"
        if "runs-on" not in job:
            problems.append(f"{where}: no runs-on")
        steps = job.get("steps")
        if not isinstance(steps, list) or not steps:
            problems.append(f"{where}: no steps")
            continue
        env = {k: str(v) for k, v in {**(doc.get("env") or {}), **(job.get("env") or {})}.items()}
        env = {**env, **runtime_env}
        exported = set()  # NAME=... >> $GITHUB_ENV: in the environment of the steps after
        agent_started = uploads = junit = summary = stopped = None
        report_files = []
        for index, step in enumerate(steps):
            name = step.get("name", f"step {index + 1}")
            if ("run" in step) == ("uses" in step):
                problems.append(f"{where}: {name}: needs exactly one of run: and uses:")
            if "uses" in step:
                uses = step["uses"]
                action, _, ref = uses.partition("@")
                if not ref or ref in ("main", "master", "latest"):
                    problems.append(f"{where}: {name}: {uses} is not pinned to a version")
                with_ = step.get("with") or {}
                if action == "actions/upload-artifact":
                    uploads = (index, step, str(with_.get("path", "")).splitlines())
                if action in ("mikepenz/action-junit-report", "dorny/test-reporter",
                              "EnricoMi/publish-unit-test-result-action"):
                    keys = ("report_paths", "path", "files", "junit_files")
                    junit = (index, step, [p for k in keys for p in str(with_.get(k, "")).split(",")
                                           for p in p.splitlines()])
                continue
            step_env = {**env, **{k: str(v) for k, v in (step.get("env") or {}).items()}}
            script = github_expressions(str(step["run"]), step_env)
            if "$AGENT_CMD" in script or "${AGENT_CMD}" in script:
                agent_started = index
                if "/readyz" not in script:
                    problems.append(f"{where}: {name}: starts the agent without waiting for "
                                    "/readyz")
            if re.search(r">>\s*\"?\$\{?GITHUB_STEP_SUMMARY", script):
                summary = (index, step, script)
            if re.search(r"\bkill\s+(?:-\w+\s+)?(?:--\s+)?\"?-?\$\{?AGENT_PID\b", script):
                stopped = (index, step)
            bad, unset, found = script_commands(ac, script, step_env, scratch, f"{where}: {name}")
            problems += bad
            for args, parsed in found:
                commands.append(args)
                if parsed:
                    if parsed["path"] and step.get("continue-on-error"):
                        problems.append(f"{where}: {name}: continue-on-error hides agentcheck's "
                                        "exit code")
                    if (parsed["path"] and agent_started is None
                            and parsed["path"][0] in ("run", "load")):
                        problems.append(f"{where}: {name}: runs before the agent is started")
                    report_files += report_outputs(parsed)[1]
            for var in sorted(unset - exported - assigned_names(script)):
                problems.append(f"{where}: {name}: ${var} is set nowhere")
            exported |= set(re.findall(r"echo\s+\"?(\w+)=[^\n]*>>\s*\"?\$\{?GITHUB_ENV", script))
        problems += check_outputs("github", report_files,
                                  uploads and uploads[2], junit and junit[2])
        for what, item in (("upload-artifact", uploads), ("JUnit publisher", junit),
                           ("job summary", summary), ("agent stop", stopped)):
            if item is None:
                problems.append(f"{where}: no {what} step")
            elif not always(item[1].get("if")):
                problems.append(f"{where}: the {what} step must run `if: always()`")
        if agent_started is None:
            problems.append(f"{where}: no step starts the agent ($AGENT_CMD)")
        elif stopped and stopped[0] < agent_started:
            problems.append(f"{where}: the agent is stopped before it is started")
        if summary:
            dirs = {os.path.dirname(f) for f in report_files if f.endswith("/summary.md")}
            if not dirs:
                problems.append(f"{where}: no agentcheck command writes a summary.md")
            for d in dirs:
                if not re.search(r"\bcat\s+\"?" + re.escape(d) + r"/summary\.md", summary[2]):
                    problems.append(f"{where}: {d}/summary.md is not posted to "
                                    "$GITHUB_STEP_SUMMARY")
    if not commands:
        problems.append("github: no agentcheck command")
    return problems


def check_gitlab(ac, path, scratch, runtime_env):
    problems = []
    with open(path) as f:
        doc = yaml.safe_load(f)
    if not isinstance(doc, dict):
        return ["gitlab: not a mapping"]
    stages = doc.get("stages")
    if not isinstance(stages, list) or not stages:
        problems.append("gitlab: no stages: list")
        stages = ["test"]
    reserved = {"stages", "variables", "default", "include", "workflow", "image", "services",
                "cache", "before_script", "after_script"}
    jobs = {k: v for k, v in doc.items()
            if k not in reserved and not str(k).startswith(".") and isinstance(v, dict)}
    if not jobs:
        return problems + ["gitlab: no job"]
    commands = []
    for job_name, job in jobs.items():
        where = f"gitlab: job {job_name}"
        if job.get("stage", "test") not in stages:
            problems.append(f"{where}: stage {job.get('stage')!r} is not in stages:")
        for key in ("before_script", "script", "after_script"):
            value = job.get(key)
            if key == "script" and not value:
                problems.append(f"{where}: no script:")
            if value is not None and not (isinstance(value, list)
                                          and all(isinstance(s, str) for s in value)):
                problems.append(f"{where}: {key}: must be a list of strings")
        variables = {**(doc.get("variables") or {}), **(job.get("variables") or {})}
        env = {k: str(v) for k, v in variables.items()}
        env = {**env, **runtime_env}
        # before_script and script are one shell; after_script is another
        main = "\n".join(job.get("before_script") or []) + "\n" + "\n".join(job.get("script") or [])
        after = "\n".join(job.get("after_script") or [])
        report_files = []
        for label, script in (("script", main), ("after_script", after)):
            bad, unset, found = script_commands(ac, script, env, scratch, f"{where}: {label}")
            problems += bad
            commands += [args for args, _ in found]
            report_files += [f for _, parsed in found if parsed for f in report_outputs(parsed)[1]]
            known = assigned_names(main + "\n" + script)
            for var in sorted(v for v in unset - known if not v.startswith("CI_")):
                problems.append(f"{where}: {label}: ${var} is set nowhere")
        if "$AGENT_CMD" not in main:
            problems.append(f"{where}: the agent is not started ($AGENT_CMD)")
        elif "/readyz" not in main:
            problems.append(f"{where}: the agent is started without waiting for /readyz")
        if not re.search(r"trap\s+\S+\s+EXIT", main):
            problems.append(f"{where}: nothing stops the agent when the script ends "
                            "(trap ... EXIT)")
        artifacts = job.get("artifacts") or {}
        if artifacts.get("when") != "always":
            problems.append(f"{where}: artifacts: must be `when: always`")
        junit = (artifacts.get("reports") or {}).get("junit")
        junit = junit if isinstance(junit, list) else [junit] if junit else None
        problems += check_outputs("gitlab", report_files, artifacts.get("paths"), junit)
        for d in {os.path.dirname(f) for f in report_files if f.endswith("/summary.md")}:
            if not re.search(r"\bcat\s+\"?" + re.escape(d) + r"/summary\.md", main + after):
                problems.append(f"{where}: {d}/summary.md is not printed to the job log")
    if not commands:
        problems.append("gitlab: no agentcheck command")
    return problems


def check_outputs(ci, report_files, uploads, junit):
    problems = []
    if not report_files:
        problems.append(f"{ci}: no agentcheck command writes reports")
    for f in report_files:
        name = os.path.basename(f)
        if name == "junit.xml" or name.endswith(".html"):
            if not uploads or not covers(uploads, f):
                problems.append(f"{ci}: {f} is not uploaded as an artifact")
        if name == "junit.xml" and (not junit or not covers(junit, f)):
            problems.append(f"{ci}: {f} is not published as test results")
    if not any(os.path.basename(f) == "junit.xml" for f in report_files):
        problems.append(f"{ci}: no agentcheck command writes junit.xml")
    return problems


def fenced_blocks(text):
    """(language, body) of each ``` block of a Markdown text."""
    blocks, lang, body = [], None, []
    for line in text.splitlines():
        fence = re.match(r"^\s*```\s*(\S*)", line)
        if fence and lang is None:
            lang, body = fence.group(1), []
        elif fence:
            blocks.append((lang, "\n".join(body) + "\n"))
            lang = None
        elif lang is not None:
            body.append(line)
    return blocks


def shell_values(node):
    """The strings under run:, script:, before_script: and after_script: keys, at any depth."""
    found = []
    if isinstance(node, dict):
        for k, v in node.items():
            if k in ("run", "script", "before_script", "after_script"):
                found += [v] if isinstance(v, str) else [s for s in v or [] if isinstance(s, str)]
            else:
                found += shell_values(v)
    elif isinstance(node, list):
        for v in node:
            found += shell_values(v)
    return found


def check_readme(ac, path):
    problems = []
    with open(path) as f:
        text = f.read()
    scripts = []
    for lang, block in fenced_blocks(text):
        if lang in ("", "sh", "bash", "console", "shell"):
            scripts.append(block)
        elif lang in ("yaml", "yml"):  # steps or jobs: their run: and script: blocks
            try:
                scripts += shell_values(yaml.safe_load(block))
            except yaml.YAMLError as e:
                problems.append(f"README.md: a yaml block is not YAML: {e}")
    count = 0
    for script in scripts:
        for args in agentcheck_commands(script, {}, set()):
            count += 1
            bad, _ = check_command(ac, args)
            problems += [f"README.md: agentcheck {' '.join(args)}: {p}" for p in bad]
    if count == 0:
        problems.append("README.md: no agentcheck command in its shell blocks")
    return problems


# ---------------------------------------------------------------------------------------------


def analyse(ac, github, gitlab, scratch):
    runtime = {  # what the runners set (GitLab's CI_* variables are taken as set)
        "RUNNER_TEMP": scratch,
        "GITHUB_STEP_SUMMARY": os.path.join(scratch, "summary"),
        "GITHUB_ENV": os.path.join(scratch, "env"),
        "GITHUB_OUTPUT": os.path.join(scratch, "output"),
        "GITHUB_WORKSPACE": scratch,
        "HOME": scratch,
        "PATH": os.environ.get("PATH", ""),
    }
    return check_github(ac, github, scratch, runtime) + check_gitlab(ac, gitlab, scratch, runtime)


def mutate(src, dst, old, new, count=1):
    with open(src) as f:
        text = f.read()
    if old not in text:
        raise AssertionError(f"mutation: {old!r} not in {os.path.basename(src)}")
    with open(dst, "w") as f:
        f.write(text.replace(old, new, count))


def main():
    if len(sys.argv) != 2:
        print(__doc__)
        return 2
    ac = Agentcheck(sys.argv[1])
    failures = []

    def expect(cond, what):
        print(("ok   " if cond else "FAIL ") + what)
        if not cond:
            failures.append(what)

    # the help parser sees what the binary offers
    run = ac.command(["run"])
    expect({"--target", "--jwt-secret-file", "--level", "--report-dir"} <= set(run.options)
           and run.options["--jwt-secret-file"]["value"] and not run.options["--dry-run"]["value"],
           "agentcheck run --help parsed: options, which take a value")
    expect("junit.xml" in run.report_files() and "summary.md" in run.report_files(),
           f"agentcheck run --help names its reports: {run.report_files()}")
    expect({"compare", "merge"} <= ac.command(["load"]).subcommands,
           "agentcheck load --help parsed: subcommands")

    with tempfile.TemporaryDirectory() as scratch:
        problems = analyse(ac, GITHUB, GITLAB, scratch)
        for p in problems:
            print("     " + p)
        expect(not problems, "the templates' commands exist, take those flags and values; "
                             "their reports are uploaded, published and posted")
        readme = check_readme(ac, README)
        for p in readme:
            print("     " + p)
        expect(not readme, "examples/ci/README.md: every agentcheck command line is accepted")

        # Each check can fail: one defect per mutated copy, each must be reported.
        cases = [
            ("github", "--level \"$CONFORMANCE_LEVEL\"", "--levels \"$CONFORMANCE_LEVEL\"",
             "no option --levels"),
            ("gitlab", "agentcheck load", "agentcheck loadtest", "no subcommand 'loadtest'"),
            ("github", "--report-dir reports/load -q", "--report-dir",
             "--report-dir takes a value"),
            ("github", "--max-lag \"$LOAD_MAX_LAG\" \\", "--max-lag=\"$LOAD_MAX_LAG\" --quiet=1 \\",
             "--quiet takes no value"),
            ("gitlab", "--threshold \"p99<$LOAD_P99\"", "--threshold \"p99<<$LOAD_P99\"",
             "exit 2, expected 3"),
            ("github", "--level \"$CONFORMANCE_LEVEL\"", "--level \"$CONFORMANCE_LEVL\"",
             "$CONFORMANCE_LEVL is set nowhere"),
            ("github", "            reports/load/\n", "",
             "reports/load/results.html is not uploaded"),
            ("gitlab", "junit: reports/conformance/junit.xml", "junit: reports/junit.xml",
             "reports/conformance/junit.xml is not published"),
            ("github", "cat reports/conformance/summary.md", "cat reports/summary.md",
             "summary.md is not posted"),
            ("gitlab", "when: always #", "when: on_success #", "must be `when: always`"),
            ("github", "      - name: Upload the reports\n        if: always()\n",
             "      - name: Upload the reports\n", "upload-artifact step must run `if: always()`"),
            ("gitlab", "trap stop_agent EXIT", "true", "nothing stops the agent"),
        ]
        for ci, old, new, message in cases:
            github, gitlab = GITHUB, GITLAB
            copy = os.path.join(scratch, f"mutated-{ci}.yml")
            mutate(GITHUB if ci == "github" else GITLAB, copy, old, new)
            if ci == "github":
                github = copy
            else:
                gitlab = copy
            found = analyse(ac, github, gitlab, scratch)
            expect(any(message in p for p in found),
                   f"mutated {ci} ({old.strip()!r} -> {new.strip()!r}) reported: {message!r}"
                   + ("" if any(message in p for p in found) else f" — got {found}"))

        # the README's checker fails on a bad flag too
        bad_readme = os.path.join(scratch, "README.md")
        for old, new, message in [
            ("agentcheck selftest --agent-cmd", "agentcheck selftest --no-such-flag --agent-cmd",
             "no option --no-such-flag"),
            ("agentcheck soak --launch", "agentcheck soak --lanch", "--launch is required"),
        ]:
            mutate(README, bad_readme, old, new)
            found = check_readme(ac, bad_readme)
            expect(any(message in p for p in found),
                   f"mutated README.md ({old!r} -> {new!r}) reported: {message!r}"
                   + ("" if any(message in p for p in found) else f" — got {found}"))

    if failures:
        print(f"{len(failures)} failed")
        return 1
    print("all passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
