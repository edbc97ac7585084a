#!/usr/bin/env python3
"""The contract documents, the wire contract, the spec and the harness agree (ctest
contract.documents).

Usage: test_contract_documents.py [REPO_ROOT]   (default: three levels up from this file)

PROTOCOL.md is read from ../shared/PROTOCOL.md beside the repository (or $AGENT_PROTOCOL);
without it the comparisons with its text are reported as skipped and the others still run.

openapi.yaml and asyncapi.yaml are written by hand; this test reads every value it compares
from the files themselves — PROTOCOL.md's text, SPEC.md and catalogue.json, the checks' own
sources in conformance/suites/ — and never states a pattern or a limit of its own, so a change
to any one of them that the others do not follow fails here, naming both sides:

- routes: every METHOD /path that PROTOCOL.md, SPEC.md or catalogue.json names is an
  operation of openapi.yaml, and every operation is named in PROTOCOL.md; a requirement whose
  text names a route is listed in that operation's x-requirements;
- status codes: a status a PROTOCOL.md bullet or a requirement gives for the routes it names
  is a response of (one of) those operations; every operation but the WebSocket upgrades has a
  2xx answer (redocly's rule for that is off: see conformance/redocly.yaml);
- patterns and limits: names, capability names, metadata keys, X-Request-ID, custom event
  types, the lengths and counts of section 2, page limits, max_attempts, sleep's ms — each
  equal in openapi.yaml (and asyncapi.yaml), PROTOCOL.md, SPEC.md and the harness's
  boundary cases (the value the harness accepts and the next one it refuses);
- enums: statuses and their moves, task statuses and types, event types, features, circuit
  states, roles;
- shapes: the fields of each resource PROTOCOL.md lists ({"a", "b"?, ...}) are the
  properties of its schema, the ones without "?" required;
- requirement IDs: every ID either document mentions exists in catalogue.json;
- roles: open routes have no security; x-roles is the cumulative set above the security
  requirement's role; PROTOCOL.md's "(operator)"/"(admin)" notes hold;
- AsyncAPI: the channels are the upgrade routes, the status stream's messages are the
  message types of PROTOCOL.md §5 with their fields, the event stream carries the Event
  schema of openapi.yaml, and the close codes of §5 are documented.
"""
import json
import os
import re
import sys
import unittest

import yaml

ROOT = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 and not sys.argv[1].startswith("-")
                       else os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                         ".."))
CONF = os.path.join(ROOT, "conformance")


def find_protocol():
    # PROTOCOL.md lives beside the repository (../shared/PROTOCOL.md); AGENT_PROTOCOL overrides.
    for p in (os.environ.get("AGENT_PROTOCOL", ""), os.path.join(ROOT, "..", "shared", "PROTOCOL.md"),
              os.path.join(ROOT, "PROTOCOL.md")):
        if p and os.path.exists(p):
            return p
    return None


PROTOCOL_PATH = find_protocol()
OPENAPI = yaml.safe_load(open(os.path.join(CONF, "openapi.yaml")))
ASYNCAPI = yaml.safe_load(open(os.path.join(CONF, "asyncapi.yaml")))
CATALOGUE = json.load(open(os.path.join(CONF, "catalogue.json")))
SPEC = open(os.path.join(CONF, "SPEC.md"), encoding="utf-8").read()
PROTOCOL = open(PROTOCOL_PATH, encoding="utf-8").read() if PROTOCOL_PATH else ""
SUITES = {name: open(os.path.join(CONF, "suites", name), encoding="utf-8").read()
          for name in sorted(os.listdir(os.path.join(CONF, "suites"))) if name.endswith(".cpp")}
REQS = {r["id"]: r for r in CATALOGUE["requirements"]}
METHODS = ("get", "put", "post", "delete", "patch")
ROUTE = re.compile(r"\b(GET|POST|PUT|DELETE|PATCH) (/[A-Za-z0-9_.{}/-]*)")
ROLE_ORDER = ["viewer", "operator", "admin"]


def norm(path):
    path = path.rstrip("/") or "/"
    return re.sub(r"\{[^}]+\}", "{id}", path)


def operations():
    out = {}
    for path, item in OPENAPI["paths"].items():
        for m, op in item.items():
            if m in METHODS:
                out[(m.upper(), norm(path))] = op
    return out


OPS = operations()


def resolve(node, doc=OPENAPI):
    while isinstance(node, dict) and "$ref" in node:
        ptr = node["$ref"].split("#", 1)[1]
        node = doc
        for part in ptr.strip("/").split("/"):
            node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def schema(name, doc=OPENAPI):
    return resolve({"$ref": f"#/components/schemas/{name}"}, doc)


def only(sources, what):
    """The one value every source ({where: value}) gives; fails naming each source's value
    when they differ."""
    sources = {k: v for k, v in sources.items() if v is not None}
    vals = set(sources.values())
    if len(sources) < 2 or len(vals) != 1:
        listing = "; ".join(f"{k}: {v!r}" for k, v in sources.items())
        raise AssertionError(f"{what} disagree: {listing}")
    return vals.pop()


def needs_protocol(test):
    return unittest.skipUnless(PROTOCOL, "PROTOCOL.md not found (../shared/PROTOCOL.md, or set "
                               "AGENT_PROTOCOL): the comparisons with it are skipped")(test)


def proto_grab(pattern, what, group=1, flags=0):
    """A value read from PROTOCOL.md, or None (left out of the comparison) without it."""
    return grab(pattern, PROTOCOL, what, group, flags) if PROTOCOL else None


def proto_int(pattern, what):
    v = proto_grab(pattern, what)
    return None if v is None else int(v)


def proto_groups(pattern, n):
    m = re.search(pattern, PROTOCOL) if PROTOCOL else None
    if PROTOCOL and not m:
        raise AssertionError(f"PROTOCOL.md: /{pattern}/ not found")
    return m.groups() if m else (None,) * n


def req_text(rid):
    return REQS[rid]["text"]


def spec_row(rid):
    m = re.search(r"^\| <a id=\"" + rid.lower() + r"\"></a>" + rid + r" \|.*$", SPEC, re.M)
    if not m:
        raise AssertionError(f"SPEC.md has no row for {rid}")
    return m.group(0)


def grab(pattern, text, what, group=1, flags=0):
    m = re.search(pattern, text, flags)
    if not m:
        raise AssertionError(f"{what}: /{pattern}/ not found")
    return m.group(group)


def pattern_bound(rx):
    """The longest string a ^[class]{m,n}$ or ^[a][class]{m,n}$ pattern accepts."""
    m = re.fullmatch(r"\^((?:\[[^\]]+\])?)\[[^\]]+\]\{(\d+),(\d+)\}\$", rx)
    if not m:
        raise AssertionError(f"cannot read a length bound from the pattern {rx}")
    return (1 if m.group(1) else 0) + int(m.group(3))


def harness_validation(req, slug_re, need_refused=True):
    """(accepted, refused) boundary numbers of the harness's add_validation cases of `req`
    whose slug matches slug_re (one number group), read from conformance/suites/."""
    accepted, refused = [], []
    pat = re.compile(r'add_validation\(\s*reg,\s*\{"' + req + r'",\s*"(' + slug_re +
                     r')",.*?,\s*(201|422)\}\)', re.S)
    for src in SUITES.values():
        for m in pat.finditer(src):
            n = int(re.search(r"\d+", m.group(1)).group(0))
            (accepted if m.group(2) == "201" else refused).append(n)
    if not need_refused:
        return max(accepted), None
    if not accepted or (need_refused and not refused):
        raise AssertionError(f"harness: no accepted/refused boundary cases of {req} /{slug_re}/")
    return max(accepted), min(refused)


def harness_loop_refused(req, next_req):
    """The NN of the {"NN-chars", ...} cases a harness loop registers for `req` (all 422),
    read from the source between the first mention of `req` and of `next_req`."""
    src = SUITES["s02_registry.cpp"]
    start, end = src.find(f'"{req}"'), src.find(f'"{next_req}"')
    if start < 0 or end < start:
        raise AssertionError(f"harness: {req} .. {next_req} not found in s02_registry.cpp")
    found = [int(n) for n in re.findall(r'\{"(\d+)-chars",', src[start:end])]
    if not found:
        raise AssertionError(f"harness: no NN-chars case of {req}")
    return min(found)


def check_ids(rid):
    """The check IDs SPEC.md lists for a requirement (the harness's registrations)."""
    return re.findall(r"`(" + re.escape(rid) + r"\.[^`]+)`", spec_row(rid))


class Routes(unittest.TestCase):
    def test_catalogue_routes_are_the_operations(self):
        named = set()
        for r in REQS.values():
            named |= self.named_routes(r["text"])
        self.assertEqual(sorted(named - set(OPS)), [], "routes of catalogue.json missing from openapi.yaml")
        self.assertEqual(sorted(set(OPS) - named), [], "operations of openapi.yaml no requirement names")

    def named_routes(self, text):
        return {(m, norm(p)) for m, p in ROUTE.findall(text)}

    @needs_protocol
    def test_every_protocol_route_is_an_operation_and_back(self):
        named = self.named_routes(PROTOCOL)
        self.assertGreater(len(named), 15, "PROTOCOL.md's routes were not understood")
        self.assertEqual(sorted(named - set(OPS)), [], "routes of PROTOCOL.md missing from openapi.yaml")
        self.assertEqual(sorted(set(OPS) - named), [], "operations of openapi.yaml PROTOCOL.md does not name")

    def test_every_spec_route_is_an_operation(self):
        for source, text in (("SPEC.md", SPEC),
                             ("catalogue.json", " ".join(r["text"] for r in REQS.values()))):
            self.assertEqual(sorted(self.named_routes(text) - set(OPS)), [],
                             f"routes of {source} missing from openapi.yaml")

    def test_requirements_naming_a_route_are_on_its_operation(self):
        missing = []
        for rid, r in route_rules():
            for route in self.named_routes(r["text"]):
                if rid not in OPS[route].get("x-requirements", []):
                    missing.append(f"{rid} on {route[0]} {route[1]}")
        self.assertEqual(missing, [], "x-requirements lacks requirements whose text names the route")

    def test_statuses_of_protocol_bullets_are_answers(self):
        bad = []
        bullets = re.split(r"\n(?=- )", PROTOCOL)
        texts = [("PROTOCOL.md", b) for b in bullets] + [(rid, r["text"]) for rid, r in route_rules()]
        for where, text in texts:
            routes = self.named_routes(text)
            if not routes:
                continue
            for status in set(re.findall(r"`(\d{3})[` ]", text)):
                if not any(status in OPS[r]["responses"] for r in routes):
                    bad.append(f"{where}: {status} is not a response of {sorted(routes)}")
        self.assertEqual(bad, [])

    def test_success_answers(self):
        for (m, p), op in OPS.items():
            codes = set(op["responses"])
            if op["operationId"] in upgrade_operation_ids():
                self.assertIn("101", codes, f"{m} {p}")
            else:
                self.assertTrue(any(c.startswith("2") for c in codes), f"{m} {p} has no 2xx answer")


def route_rules():
    """The requirements about routes: those of section 0 (the shape of every exchange) name a
    route only as an example or a probe (HTTP-035: "afterwards the agent answers GET /health")."""
    return [(rid, r) for rid, r in REQS.items() if r["section"] != "0"]


def upgrade_operation_ids():
    return {op["operationId"] for (m, p), op in OPS.items() if "101" in op["responses"]}


class PatternsAndLimits(unittest.TestCase):
    def test_agent_name(self):
        s = schema("AgentName")
        rx = only({"PROTOCOL.md": proto_grab(r"`name` `(\^[^`]+\$)`", "PROTOCOL name"),
                   "catalogue REG-001": grab(r"`name` matching `(\^[^`]+\$)`", req_text("REG-001"), "REG-001"),
                   "SPEC.md REG-001": grab(r"`name` matching `(\^[^`]+\$)`", spec_row("REG-001"), "SPEC REG-001"),
                   "openapi AgentName.pattern": s["pattern"]}, "agent name pattern")
        acc, ref = harness_validation("REG-003", r"name-\d+-chars")
        only({"the pattern's bound": pattern_bound(rx), "openapi AgentName.maxLength": s["maxLength"],
              "harness: longest accepted": acc, "harness: shortest refused - 1": ref - 1,
              "catalogue REG-003": int(grab(r"of (\d+) characters is accepted", req_text("REG-003"), "REG-003"))},
             "agent name length")

    def test_capability_name(self):
        s = schema("CapabilityName")
        rx = only({"PROTOCOL.md": proto_grab(r"unique `name` `(\^[^`]+\$)`", "PROTOCOL capability name"),
                   "catalogue REG-010": grab(r"`name` matching `(\^[^`]+\$)`", req_text("REG-010"), "REG-010"),
                   "openapi CapabilityName.pattern": s["pattern"]}, "capability name pattern")
        only({"the pattern's bound": pattern_bound(rx), "openapi CapabilityName.maxLength": s["maxLength"],
              "harness: shortest refused - 1": harness_loop_refused("REG-010", "REG-011") - 1},
             "capability name length")

    def test_metadata(self):
        s = schema("Metadata")
        rx = only({"PROTOCOL.md": proto_grab(r"keys `(\^[^`]+\$)`", "PROTOCOL metadata keys"),
                   "catalogue REG-016": grab(r"key matching `(\^[^`]+\$)`", req_text("REG-016"), "REG-016"),
                   "openapi Metadata.propertyNames": s["propertyNames"]["pattern"]}, "metadata key pattern")
        acc, _ = harness_validation("REG-016", r"key-\d+-chars", need_refused=False)
        only({"the pattern's bound": pattern_bound(rx), "harness: longest accepted": acc,
              "harness: shortest refused - 1": harness_loop_refused("REG-016", "REG-017") - 1},
             "metadata key length")
        acc, ref = harness_validation("REG-015", r"metadata-\d+")
        only({"PROTOCOL.md": proto_int(r"`metadata` ≤ (\d+)", "PROTOCOL metadata"),
              "catalogue REG-015": int(grab(r"with (\d+) entries is accepted", req_text("REG-015"), "REG-015")),
              "openapi Metadata.maxProperties": s["maxProperties"],
              "harness: most accepted": acc, "harness: fewest refused - 1": ref - 1}, "metadata entries")
        acc, ref = harness_validation("REG-017", r"value-\d+-chars")
        only({"PROTOCOL.md": proto_int(r"values ≤ (\d+) chars", "PROTOCOL metadata values"),
              "catalogue REG-017": int(grab(r"at most (\d+) characters", req_text("REG-017"), "REG-017")),
              "openapi Metadata value maxLength": s["additionalProperties"]["maxLength"],
              "harness: longest accepted": acc, "harness: shortest refused - 1": ref - 1},
             "metadata value length")

    def test_version_capabilities_description_endpoint(self):
        cases = [
            ("version", "SemVer.maxLength", schema("SemVer")["maxLength"],
             r"`version` SemVer 2\.0\.0, ≤ (\d+) chars", "REG-007", r"of (\d+) characters is accepted",
             r"version-\d+-chars"),
            ("capabilities", "Capabilities.maxItems", schema("Capabilities")["maxItems"],
             r"`capabilities` ≤ (\d+) items", "REG-008", r"with (\d+) items is accepted",
             r"capabilities-\d+"),
            ("description", "Capability.description.maxLength",
             schema("Capability")["properties"]["description"]["maxLength"],
             r"`description`\s+≤ (\d+) chars", "REG-011", r"of (\d+) characters",
             r"description-\d+-ascii"),
            ("endpoint", "Endpoint.maxLength", schema("Endpoint")["maxLength"], r"URL ≤ (\d+) chars",
             "REG-014", r"of (\d+) characters is accepted", r"endpoint-\d+"),
        ]
        for what, where, doc, proto_re, rid, spec_re, slug in cases:
            with self.subTest(what):
                acc, ref = harness_validation(rid, slug)
                only({f"openapi {where}": doc,
                      "PROTOCOL.md": proto_int(proto_re, f"PROTOCOL {what}"),
                      f"catalogue {rid}": int(grab(spec_re, req_text(rid), rid)),
                      "harness: largest accepted": acc, "harness: smallest refused - 1": ref - 1},
                     f"{what} limit")

    def test_semver_pattern_is_semver(self):
        rx = re.compile(schema("SemVer")["pattern"])
        # The harness's own cases: every version_is("...") of its REG-005 groups (accepted),
        # every bad_versions({...}) list (refused).
        src = SUITES["s02_registry.cpp"]
        good = [v for block in re.findall(r'add_validation_group\(\s*reg, "REG-005".*?\b201\);', src, re.S)
                for v in re.findall(r'version_is\("([^"]*)"\)', block)]
        bad = [v for block in re.findall(r"bad_versions\(\{(.*?)\}\), 422\)", src, re.S)
               for v in re.findall(r'"([^"]*)"', block)]
        self.assertTrue(good and bad, "harness: SemVer cases not found")
        for v in good:
            self.assertTrue(rx.fullmatch(v), f"openapi SemVer.pattern refuses {v!r}, which the harness expects accepted")
        for v in bad:
            self.assertFalse(rx.fullmatch(v), f"openapi SemVer.pattern accepts {v!r}, which the harness expects refused")

    def test_request_id(self):
        rx = only({"PROTOCOL.md": proto_grab(r"matches `(\^[^`]+\$)`", "PROTOCOL X-Request-ID"),
                   "catalogue HTTP-025": grab(r"matching `(\^[^`]+\$)`", req_text("HTTP-025"), "HTTP-025"),
                   "openapi header X-Request-ID":
                       resolve(OPENAPI["components"]["headers"]["X-Request-ID"])["schema"]["pattern"],
                   "openapi Problem.request_id": schema("Problem")["properties"]["request_id"]["pattern"],
                   "openapi AuditRecord.request_id": schema("AuditRecord")["properties"]["request_id"]["pattern"]},
                  "X-Request-ID pattern")
        ok = [int(n) for n in re.findall(r'\{"(\d+)-characters", "an id of exactly',
                                         SUITES["s00_shape.cpp"])]
        replaced = [int(n) for n in re.findall(r'\{"(\d+)-characters", "\d+ characters"',
                                               SUITES["s00_shape.cpp"])]
        self.assertTrue(ok and replaced, "harness: no X-Request-ID length cases")
        only({"the pattern's bound": pattern_bound(rx), "harness: longest echoed": max(ok),
              "harness: shortest replaced - 1": min(replaced) - 1}, "X-Request-ID length")

    def test_custom_event_type(self):
        only({"PROTOCOL.md": proto_grab(r"custom\s+types `(\^[^`]+\$)`", "PROTOCOL custom types"),
              "catalogue EVT-004": grab(r"custom types `(\^[^`]+\$)`", req_text("EVT-004"), "EVT-004"),
              "harness s04_events.cpp": grab(r'std::regex re\("(\^x_[^"]+\$)"\)', SUITES["s04_events.cpp"], "harness"),
              "openapi CustomEventType": schema("CustomEventType")["pattern"],
              "asyncapi Event.type": schema("Event", ASYNCAPI)["properties"]["type"]["anyOf"][1]["pattern"]},
             "custom event type pattern")

    def test_page_limits(self):
        p = resolve(OPENAPI["components"]["parameters"]["Limit"])["schema"]
        lo, hi, default = proto_groups(r"`limit` (\d+)–(\d+) \[(\d+)\]", 3)
        slo, shi = re.search(r"accepts (\d+)–(\d+)", req_text("REG-038")).groups()
        over = [int(re.search(r"limit-(\d+)$", c).group(1)) for c in check_ids("REG-038")
                if re.search(r"limit-\d+$", c)]
        accepted = re.findall(r"limit=(\d+) is accepted", SUITES["s02_registry.cpp"])
        self.assertTrue(over and accepted, "harness: no limit boundary cases")
        only({"PROTOCOL.md": lo and int(lo), "catalogue REG-038": int(slo), "openapi Limit.minimum": p["minimum"]},
             "page limit minimum")
        only({"PROTOCOL.md": hi and int(hi), "catalogue REG-038": int(shi), "openapi Limit.maximum": p["maximum"],
              "harness: smallest refused - 1": min(over) - 1,
              "harness: largest accepted": max(map(int, accepted)),
              "openapi AgentPage.items.maxItems": schema("AgentPage")["properties"]["items"]["maxItems"]},
             "page limit maximum")
        only({"PROTOCOL.md": default and int(default),
              "catalogue REG-037": int(grab(r"limit default (\d+)", req_text("REG-037"), "REG-037")),
              "openapi Limit.default": p["default"]}, "page limit default")
        evt = re.search(r"at most `limit` \((\d+)–(\d+), default (\d+)\)", req_text("EVT-006")).groups()
        self.assertEqual(tuple(map(int, evt)), (p["minimum"], p["maximum"], p["default"]),
                         "EVT-006's page limits vs openapi Limit")

    def test_max_attempts(self):
        s = schema("TaskInput")["properties"]["max_attempts"]
        lo, hi, default = proto_groups(r'"max_attempts"\? \((\d+)–(\d+)\) \[(\d+)\]', 3)
        slo, shi, sdef = re.search(r"is (\d+)–(\d+) \[(\d+)\]", req_text("TASK-002")).groups()
        h = re.search(r"max_attempts (\d+), (\d+), .*? are 422; (\d+) and (\d+) are accepted",
                      SUITES["s06_tasks.cpp"])
        self.assertTrue(h, "harness: the max_attempts range check was not found")
        hdef = grab(r"max_attempts (\d+) by default", SUITES["s06_tasks.cpp"], "harness default")
        only({"PROTOCOL.md": lo and int(lo), "catalogue TASK-002": int(slo), "openapi TaskInput": s["minimum"],
              "harness: smallest accepted": int(h.group(3)), "harness: refused below + 1": int(h.group(1)) + 1},
             "max_attempts minimum")
        only({"PROTOCOL.md": hi and int(hi), "catalogue TASK-002": int(shi), "openapi TaskInput": s["maximum"],
              "harness: largest accepted": int(h.group(4)), "harness: refused above - 1": int(h.group(2)) - 1,
              "openapi Task": schema("Task")["properties"]["max_attempts"]["maximum"]},
             "max_attempts maximum")
        only({"PROTOCOL.md": default and int(default), "catalogue TASK-002": int(sdef), "openapi TaskInput": s["default"],
              "harness": int(hdef)}, "max_attempts default")

    def test_sleep_ms(self):
        rule = schema("TaskInput")["allOf"]
        sleep = [r for r in rule if r["if"]["properties"]["type"]["const"] == "sleep"][0]
        refused = int(grab(r'too_long = post_task\(.*?\{"ms", (\d+)\}', SUITES["s06_tasks.cpp"],
                           "harness sleep", 1, re.S))
        only({"openapi TaskInput (sleep)": sleep["then"]["properties"]["payload"]["properties"]["ms"]["maximum"],
              "PROTOCOL.md": proto_int(r'`sleep \{"ms" ≤ (\d+)\}`', "PROTOCOL sleep"),
              "catalogue TASK-006": int(grab(r'`sleep \{"ms" ≤ (\d+)\}`', req_text("TASK-006"), "TASK-006")),
              "harness: refused - 1": refused - 1}, "sleep ms maximum")

    @needs_protocol
    def test_discovery_defaults(self):
        limits = schema("Discovery")["properties"]["limits"]["properties"]
        units = {"KiB": 1024, "MiB": 1024 * 1024, "s": 1000}
        for name in ("max_body_bytes", "max_header_bytes", "header_timeout_ms"):
            with self.subTest(name):
                n, unit = re.search(r"`" + name + r"`\s+\[(\d+) (KiB|MiB|s)\]", PROTOCOL).groups()
                self.assertEqual(limits[name]["default"], int(n) * units[unit],
                                 f"openapi Discovery limits.{name}.default vs PROTOCOL.md")
        leeway = proto_int(r"clock leeway `leeway_s` \[(\d+)\]", "PROTOCOL leeway")
        self.assertEqual(schema("Discovery")["properties"]["auth"]["properties"]["leeway_s"]["default"],
                         leeway, "openapi Discovery auth.leeway_s.default vs PROTOCOL.md")


class Enums(unittest.TestCase):
    def moves(self, text):
        out = {}
        for src, dsts in re.findall(r"`(\w+)`→((?:`\w+`\|?)+)", text):
            out[src] = sorted(re.findall(r"`(\w+)`", dsts))
        return out

    def test_statuses_and_moves(self):
        spec = {s: sorted(d.split("\\|") if "\\|" in d else d.split("|"))
                for s, d in re.findall(r"(\w+)→([\w|\\]+)", spec_row("REG-046"))}
        doc = {k: sorted(v) for k, v in OPS[("PUT", "/agents/{id}/status")]["x-status-moves"].items()}
        self.assertEqual(len(spec), 5, "SPEC.md REG-046's moves were not understood")
        self.assertEqual(doc, spec, "x-status-moves vs SPEC.md REG-046")
        if PROTOCOL:
            self.assertEqual(doc, self.moves(PROTOCOL), "x-status-moves vs PROTOCOL.md")
        self.assertEqual(sorted(schema("AgentStatus")["enum"]), sorted(spec), "openapi AgentStatus")
        self.assertEqual(sorted(schema("AgentStatus", ASYNCAPI)["enum"]), sorted(spec), "asyncapi AgentStatus")

    @needs_protocol
    def test_task_statuses_and_types(self):
        task = proto_grab(r"- Task: `(\{.*?\})`", "task resource", 1, re.S)
        st = re.findall(r'"(\w+)"', grab(r'"status": ((?:"\w+"\|?)+)', task, "task statuses"))
        self.assertEqual(sorted(schema("TaskStatus")["enum"]), sorted(st))
        types = re.findall(r"`(\w+)(?: \{[^`]*\})?`", grab(r"- Types: (`noop`.*?)\(GET", PROTOCOL,
                                                            "task types", 1, re.S))
        self.assertEqual(sorted(schema("TaskType")["enum"]), sorted(types))

    def test_event_types(self):
        spec = re.findall(r"`(\w+)`", grab(r"types are (`agent_registered`.*?)and custom",
                                           req_text("EVT-004"), "EVT-004"))
        if PROTOCOL:
            proto = re.findall(r"`(\w+)`", re.sub(r"\([^)]*\)", "", grab(
                r"Types: (`agent_registered`.*?)and custom", PROTOCOL, "event types", 1, re.S)))
            self.assertEqual(sorted(proto), sorted(spec), "PROTOCOL.md vs catalogue EVT-004")
        self.assertEqual(sorted(schema("BuiltinEventType")["enum"]), sorted(spec), "openapi BuiltinEventType")
        self.assertEqual(sorted(schema("Event", ASYNCAPI)["properties"]["type"]["anyOf"][0]["enum"]),
                         sorted(spec), "asyncapi Event.type")

    @needs_protocol
    def test_features_circuit_roles(self):
        feats = re.findall(r"`(\w+)`", grab(r"Optional features, each named here when implemented: (.*?)\.",
                                            PROTOCOL, "features", 1, re.S))
        self.assertEqual(sorted(schema("Discovery")["properties"]["features"]["items"]["enum"]),
                         sorted(feats))
        circuit = re.findall(r'"(\w+)"', grab(r'"circuit": ((?:"\w+"\|?)+)', PROTOCOL, "circuit"))
        self.assertEqual(sorted(schema("Agent")["properties"]["circuit"]["enum"]), sorted(circuit))
        roles = re.findall(r"`(\w+)`", proto_grab(r"`roles`: array of (.*?)\.", "roles"))
        self.assertEqual(roles, ROLE_ORDER, "PROTOCOL.md's roles, lowest first")
        used = {r for op in OPS.values() for r in op.get("x-roles", [])}
        self.assertLessEqual(used, set(roles))


@needs_protocol
class Shapes(unittest.TestCase):
    def fields(self, pattern, what):
        body = proto_grab(pattern, what, 1, re.S)
        body = re.sub(r"\[\{[^\]]*\}\]", "", body)                      # nested member lists
        body = re.sub(r':\s*"[^"]*"(\|"[^"]*")*', "", body)              # "key": "value"|"value"
        required = re.findall(r'"(\w+)"(?!\?)(?=\s*[:,}])', body)
        optional = re.findall(r'"(\w+)"\?', body)
        return set(required), set(optional)

    def assert_shape(self, s, required, optional, what):
        props = set(s.get("properties", {}))
        self.assertEqual(sorted((required | optional) - props), [], f"{what}: fields missing from the schema")
        self.assertEqual(sorted(set(s.get("required", [])) ^ required), [],
                         f"{what}: required fields differ from PROTOCOL.md")

    def test_agent(self):
        req, opt = self.fields(r"Agent resource:\n`(\{.*?\})`\n", "agent resource")
        self.assertIn("circuit", opt, "the agent resource was not understood")
        self.assert_shape(schema("Agent"), req, opt, "agent")

    def test_event_task_audit_problem(self):
        cases = [("Event", r'Event: `(\{"seq".*?\})`', "event", OPENAPI),
                 ("Event", r'Event: `(\{"seq".*?\})`', "event (asyncapi)", ASYNCAPI),
                 ("Task", r"Task: `(\{.*?\})`", "task", OPENAPI),
                 ("AuditRecord", r"appends\n\s*`(\{.*?\})`", "audit record", OPENAPI)]
        for name, pat, what, doc in cases:
            with self.subTest(what):
                req, opt = self.fields(pat, what)
                self.assert_shape(schema(name, doc), req, opt, what)
        req, opt = self.fields(r'`(\{"type": URI, "title".*?\})`', "problem")
        req |= {"type"}
        self.assert_shape(schema("Problem"), req - {"pointer", "detail"} | {"detail"},
                          opt, "problem")

    def test_stream_messages(self):
        section = proto_grab(r"## 5\..*?(?=\n## 6\.)", "section 5", 0, re.S)
        msgs = {}
        for body in re.findall(r'`(\{"type": "\w+".*?\})`', section, re.S):
            t = re.match(r'\{"type": "(\w+)"', body).group(1)
            body = re.sub(r':\s*"[^"]*"', "", body)
            msgs[t] = set(re.findall(r'"(\w+)"(?=\s*[:,}])', body))
        self.assertEqual(sorted(msgs), ["deleted", "snapshot", "status_changed"], "PROTOCOL.md §5 messages")
        chan = ASYNCAPI["channels"]["agentStatus"]
        self.assertEqual(sorted(chan["messages"]), sorted(msgs), "agentStatus messages")
        for t, fields in msgs.items():
            with self.subTest(t):
                m = resolve(chan["messages"][t], ASYNCAPI)
                payload = resolve(m["payload"], ASYNCAPI)
                self.assertEqual(sorted(payload["required"]), sorted(fields))
                self.assertEqual(payload["properties"]["type"]["const"], t)
        codes = set(re.findall(r"close (\d{4})(?: or (\d{4}))?", section)[0] +
                    re.findall(r"close (\d{4})(?: or (\d{4}))?", section)[1]) - {""}
        documented = {c for ch in ASYNCAPI["channels"].values() for c in ch.get("x-close-codes", {})}
        self.assertLessEqual(codes, documented, "close codes of PROTOCOL.md §5")

    def test_channels_are_the_upgrade_routes(self):
        upgrades = {norm(p) for m, p in re.findall(r"`(GET) (/[^`?]+)[^`]*` \(upgrade\)", PROTOCOL)}
        ops = {p for (m, p), op in OPS.items() if op["operationId"] in upgrade_operation_ids()}
        chans = {norm(c["address"]) for c in ASYNCAPI["channels"].values()}
        self.assertEqual(len(upgrades), 2, "PROTOCOL.md's upgrade routes were not understood")
        self.assertEqual(upgrades, ops, "openapi.yaml's 101 operations")
        self.assertEqual(upgrades, chans, "asyncapi.yaml's channels")
        q = ASYNCAPI["channels"]["events"]["bindings"]["ws"]["query"]["properties"]
        params = re.findall(r"(\w+)=", proto_grab(r"`GET /events/stream\?([^`]*)`", "stream query"))
        self.assertEqual(sorted(q), sorted(params))

class AsyncApi(unittest.TestCase):
    def test_channels_are_the_upgrade_operations(self):
        ops = {p for (m, p), op in OPS.items() if op["operationId"] in upgrade_operation_ids()}
        chans = {norm(c["address"]) for c in ASYNCAPI["channels"].values()}
        self.assertEqual(len(ops), 2, "openapi.yaml's 101 operations")
        self.assertEqual(ops, chans, "asyncapi.yaml's channels vs openapi.yaml's upgrades")
        for rid in ("WS-003", "WS-004", "WS-005"):
            t = re.search(r'\{"type": "(\w+)"', req_text(rid)).group(1)
            self.assertIn(t, ASYNCAPI["channels"]["agentStatus"]["messages"], f"{rid}'s message")

    def test_event_stream_carries_the_event_schema(self):
        a = schema("Event", ASYNCAPI)
        o = schema("Event")
        self.assertEqual(sorted(a["required"]), sorted(o["required"]))
        self.assertEqual(sorted(a["properties"]), sorted(o["properties"]))


class RequirementsAndRoles(unittest.TestCase):
    def ids_in(self, node, out):
        if isinstance(node, dict):
            for v in node.values():
                self.ids_in(v, out)
        elif isinstance(node, list):
            for v in node:
                self.ids_in(v, out)
        elif isinstance(node, str):
            out.update(re.findall(r"\b[A-Z]{2,5}-\d{3}\b", node))
        return out

    def test_requirement_ids_exist(self):
        for name, doc, least in (("openapi.yaml", OPENAPI, 100), ("asyncapi.yaml", ASYNCAPI, 8)):
            ids = self.ids_in(doc, set())
            self.assertGreaterEqual(len(ids), least, f"{name}: too few requirement IDs")
            self.assertEqual(sorted(ids - set(REQS)), [], f"{name}: IDs not in catalogue.json")

    @needs_protocol
    def test_open_routes(self):
        open_paths = re.findall(r"`(/[^`]+)`", proto_grab(r"No auth on (.*?);", "open routes"))
        self.assertGreaterEqual(len(open_paths), 4)
        for p in open_paths:
            op = OPS[("GET", p)]
            self.assertEqual(op.get("security"), [], f"GET {p} must have no security")
            self.assertEqual(op.get("x-roles"), [], f"GET {p}")

    def test_roles(self):
        for (m, p), op in OPS.items():
            sec = op.get("security", OPENAPI["security"])
            roles = [r for req in sec for r in req.get("bearerAuth", [])]
            if not roles:
                continue
            with self.subTest(f"{m} {p}"):
                low = ROLE_ORDER.index(roles[0])
                self.assertEqual(op["x-roles"], ROLE_ORDER[low:] if op["x-roles"] else [],
                                 "x-roles is the cumulative set from the security requirement's role")
                if m == "GET" and op["x-roles"] and p.split("/")[1] in ("agents", "events", "tasks"):
                    self.assertEqual(roles[0], "viewer", "viewer reads (GET on agents, events, tasks)")
                if m != "GET":
                    self.assertNotEqual(roles[0], "viewer", "writes need operator")
        for m, p, role in re.findall(r"`(GET|POST|PUT|DELETE) (/[^`?\s]+)[^`]*`[^`\n(]*\((viewer|operator|admin)\)",
                                     PROTOCOL):
            with self.subTest(f"PROTOCOL {m} {p} ({role})"):
                op = OPS[(m, norm(p))]
                self.assertEqual(op["security"][0]["bearerAuth"][0], role)

    @needs_protocol
    def test_headers_named(self):
        text = json.dumps(OPENAPI)
        for h in re.findall(r"`(ETag|If-Match|If-None-Match|Idempotency-Key|Idempotent-Replayed|Retry-After|"
                            r"RateLimit-\w+|X-Request-ID|traceresponse|traceparent|Location|Allow|"
                            r"WWW-Authenticate|Cache-Control|X-Content-Type-Options)", PROTOCOL):
            self.assertIn(h, text, f"openapi.yaml does not mention the header {h}")


if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0]] + [a for a in sys.argv[1:] if a.startswith("-")], verbosity=2)
