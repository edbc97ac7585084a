#!/usr/bin/env python3
"""A small agent-service/1 implementation with deliberate bugs, for testing agentcheck.

It plays the part of a team's own agent: Python's standard library only, a subset of
sections 0-2 (discovery, health, HS256 bearer tokens, the agent registry with ETags and
cursor pages), answering like a real agent would. Each --bug flag breaks one rule, so a
test can assert that agentcheck reports exactly that bug, once, and that the rest reads
as blocked or passing.

Usage: agent.py --jwt-secret-file FILE [--port-file FILE] [--port N] [--bug NAME ...]
Bugs:  create-200          POST /agents answers 200 instead of 201
       no-request-id       X-Request-ID is neither echoed nor generated
       problem-text        errors are text/plain instead of problem documents
       ignore-if-match     PUT ignores If-Match (no 412, no 428)
Traffic is served on 127.0.0.1 only. Stops on SIGTERM. Its state is in memory only: a
restart loses it (which agentcheck's crash durability check must notice).
"""
import argparse
import base64
import hashlib
import hmac
import json
import os
import re
import signal
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

NAME = re.compile(r"^[a-z][a-z0-9-]{0,63}$")
ROLES = {"viewer": 1, "operator": 2, "admin": 3}
STATUSES = {"registered": {"active", "deregistered"}, "active": {"inactive", "deregistered"},
            "inactive": {"active", "deregistered"}, "deregistered": set()}


def b64url_decode(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Store:
    def __init__(self):
        self.lock = threading.Lock()
        self.agents = {}  # id -> agent, in creation order
        self.seq = {}  # id -> creation number (kept after a delete)
        self.created = 0
        self.counts = {}  # "METHOD path-template" -> requests seen


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "broken-agent/1"

    def log_message(self, fmt, *args):  # quiet; requests are counted instead
        pass

    # --- plumbing -------------------------------------------------------------------
    def bug(self, name):
        return name in self.server.bugs

    def count(self, template):
        with self.server.store.lock:
            counts = self.server.store.counts
            counts[template] = counts.get(template, 0) + 1

    def request_id(self):
        if self.bug("no-request-id"):
            return None
        given = self.headers.get("X-Request-ID", "")
        if re.fullmatch(r"[A-Za-z0-9._-]{1,128}", given or ""):
            return given
        return str(uuid.uuid4())

    def send(self, status, body=None, headers=None, media="application/json"):
        data = b"" if body is None else (body if isinstance(body, bytes) else
                                          json.dumps(body).encode())
        self.send_response(status)
        rid = self.rid
        if rid:
            self.send_header("X-Request-ID", rid)
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if body is not None:
            self.send_header("Content-Type", media)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def problem(self, status, title, detail, headers=None, errors=None):
        if self.bug("problem-text"):
            return self.send(status, f"{title}: {detail}".encode(), headers, "text/plain")
        doc = {"type": "about:blank", "title": title, "status": status, "detail": detail,
               "instance": self.path, "request_id": self.rid or ""}
        if errors:
            doc["errors"] = errors
        return self.send(status, doc, headers, "application/problem+json")

    def body_json(self):
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if (self.headers.get("Content-Type") or "").split(";")[0].strip() != "application/json":
            self.problem(415, "Unsupported Media Type", "send application/json")
            return None
        try:
            return json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            self.problem(400, "Bad Request", "the body is not JSON")
            return None

    def principal(self, need):
        header = self.headers.get("Authorization", "")
        if not header.lower().startswith("bearer "):
            self.problem(401, "Unauthorized", "a bearer token is required",
                         {"WWW-Authenticate": 'Bearer realm="agent"'})
            return None
        token = header[7:].strip()
        try:
            head, payload, sig = token.split(".")
            header_doc = json.loads(b64url_decode(head))
            claims = json.loads(b64url_decode(payload))
            good = hmac.new(self.server.secret, f"{head}.{payload}".encode(),
                            hashlib.sha256).digest()
            if header_doc.get("alg") != "HS256" or not hmac.compare_digest(good,
                                                                            b64url_decode(sig)):
                raise ValueError("signature")
            now = time.time()
            if "exp" not in claims or "sub" not in claims or now >= claims["exp"] + 30:
                raise ValueError("expired")
            if "nbf" in claims and now < claims["nbf"] - 30:
                raise ValueError("not yet valid")
        except (ValueError, KeyError, TypeError, AttributeError):
            self.problem(401, "Unauthorized", "invalid token",
                         {"WWW-Authenticate": 'Bearer error="invalid_token"'})
            return None
        roles = claims.get("roles") if isinstance(claims.get("roles"), list) else []
        level = max([ROLES.get(r, 0) for r in roles if isinstance(r, str)] or [0])
        if level < ROLES[need]:
            self.problem(403, "Forbidden", f"the {need} role is required")
            return None
        return {"sub": claims["sub"], "level": level}

    # --- routes ---------------------------------------------------------------------
    def route(self):
        self.rid = self.request_id()
        path, _, query = self.path.partition("?")
        method = "GET" if self.command == "HEAD" else self.command
        if path == "/.well-known/agent-service" and method == "GET":
            return self.discovery()
        if path in ("/health", "/livez", "/readyz") and method == "GET":
            return self.send(200, {"status": "healthy" if path == "/health" else "ok"})
        if path == "/agents":
            if method == "GET":
                return self.list_agents(query)
            if method == "POST":
                return self.create()
            return self.problem(405, "Method Not Allowed", "use GET or POST",
                                {"Allow": "GET, HEAD, POST, OPTIONS"})
        match = re.fullmatch(r"/agents/([^/]+)(/status|/capabilities)?", path)
        if match:
            agent_id, sub = match.group(1), match.group(2)
            if sub is None and method in ("GET", "PUT", "DELETE"):
                return {"GET": self.get_agent, "PUT": self.put_agent,
                        "DELETE": self.delete_agent}[method](agent_id)
            if sub == "/status" and method == "PUT":
                return self.put_status(agent_id)
            if sub == "/capabilities" and method == "GET":
                return self.capabilities(agent_id)
            return self.problem(405, "Method Not Allowed", "not here", {"Allow": "GET"})
        return self.problem(404, "Not Found", f"no route {path}")

    def discovery(self):
        self.send(200, {"protocol": "agent-service/1",
                        "implementation": {"name": "broken-agent", "version": "1"},
                        "features": [],
                        "auth": {"algorithms": ["HS256"]},
                        "limits": {"max_body_bytes": 1048576, "max_header_bytes": 16384,
                                   "page_limit_default": 50, "page_limit_max": 500}})

    def find(self, agent_id):
        with self.server.store.lock:
            return self.server.store.agents.get(agent_id)

    def etag(self, agent):
        return f'"{agent["revision"]}"'

    def validate(self, body, partial_ok=False):
        errors = []
        if not isinstance(body, dict):
            return [{"pointer": "", "detail": "must be an object"}]
        if not isinstance(body.get("name"), str) or not NAME.match(body.get("name", "")):
            errors.append({"pointer": "/name", "detail": "must match ^[a-z][a-z0-9-]{0,63}$"})
        if not isinstance(body.get("version"), str):
            errors.append({"pointer": "/version", "detail": "must be a string"})
        return errors

    def create(self):
        self.count("POST /agents")
        who = self.principal("operator")
        if not who:
            return
        body = self.body_json()
        if body is None:
            return
        # agentcheck's plain fixture agent (its context's agent_body with no overrides).
        if (isinstance(body, dict) and str(body.get("name", "")).startswith("ac-agent-")
                and body.get("metadata") == {"origin": "agentcheck"}):
            self.count("POST /agents (plain fixture)")
        errors = self.validate(body)
        if errors:
            return self.problem(422, "Unprocessable Content", "invalid agent", errors=errors)
        now = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())
        agent = {"id": str(uuid.uuid4()), "name": body["name"], "version": body["version"],
                 "capabilities": body.get("capabilities", []),
                 "metadata": body.get("metadata", {}), "status": "registered",
                 "owner": who["sub"], "revision": 1, "created_at": now, "updated_at": now}
        if "endpoint" in body:
            agent["endpoint"] = body["endpoint"]
        with self.server.store.lock:
            if any(a["name"] == agent["name"] for a in self.server.store.agents.values()):
                taken = True
            else:
                taken = False
                self.server.store.agents[agent["id"]] = agent
                self.server.store.created += 1
                self.server.store.seq[agent["id"]] = self.server.store.created
        if taken:
            return self.problem(409, "Conflict", f"the name {agent['name']} is taken")
        status = 200 if self.bug("create-200") else 201
        self.send(status, agent, {"Location": f"/agents/{agent['id']}", "ETag": self.etag(agent)})

    def list_agents(self, query):
        if not self.principal("viewer"):
            return
        params = dict(p.split("=", 1) for p in query.split("&") if "=" in p)
        try:
            limit = int(params.get("limit", "50"))
        except ValueError:
            return self.problem(400, "Bad Request", "limit must be an integer")
        if not 1 <= limit <= 500:
            return self.problem(400, "Bad Request", "limit must be 1-500")
        with self.server.store.lock:
            items = list(self.server.store.agents.values())
        # The cursor is the creation number of the last item shown, so that a walk goes on
        # past agents deleted meanwhile (REG-042).
        start = 0
        if "cursor" in params:
            try:
                after = int(params["cursor"])
            except ValueError:
                return self.problem(400, "Bad Request", "unknown cursor")
            start = next((i for i, a in enumerate(items) if self.server.store.seq[a["id"]] > after),
                         len(items))
        page = items[start:start + limit]
        more = start + limit < len(items)
        cursor = str(self.server.store.seq[page[-1]["id"]]) if more and page else None
        self.send(200, {"items": page, "next_cursor": cursor})

    def get_agent(self, agent_id):
        if not self.principal("viewer"):
            return
        agent = self.find(agent_id)
        if not agent:
            return self.problem(404, "Not Found", f"no agent {agent_id}")
        if self.headers.get("If-None-Match") == self.etag(agent):
            return self.send(304, None, {"ETag": self.etag(agent)})
        self.send(200, agent, {"ETag": self.etag(agent)})

    def capabilities(self, agent_id):
        if not self.principal("viewer"):
            return
        agent = self.find(agent_id)
        if not agent:
            return self.problem(404, "Not Found", f"no agent {agent_id}")
        self.send(200, {"agent_id": agent_id, "capabilities": agent["capabilities"]})

    def writable(self, agent_id, who):
        agent = self.find(agent_id)
        if not agent:
            self.problem(404, "Not Found", f"no agent {agent_id}")
            return None
        if who["level"] < ROLES["admin"] and agent["owner"] != who["sub"]:
            self.problem(403, "Forbidden", "not your agent")
            return None
        return agent

    def mutation(self, agent_id):
        """(body, agent) for a PUT by an operator who may change the agent; None after
        answering the refusal (401/403, 415/400, 404)."""
        who = self.principal("operator")
        if not who:
            return None
        body = self.body_json()
        if body is None:
            return None
        agent = self.writable(agent_id, who)
        return (body, agent) if agent else None

    def put_agent(self, agent_id):
        allowed = self.mutation(agent_id)
        if not allowed:
            return
        body, agent = allowed
        if not self.bug("ignore-if-match"):
            given = self.headers.get("If-Match")
            if given is None:
                return self.problem(428, "Precondition Required", "send If-Match")
            if given != self.etag(agent):
                return self.problem(412, "Precondition Failed", "stale ETag",
                                    {"ETag": self.etag(agent)})
        errors = self.validate(body)
        if errors:
            return self.problem(422, "Unprocessable Content", "invalid agent", errors=errors)
        with self.server.store.lock:
            for key in ("name", "version", "capabilities", "metadata", "endpoint"):
                agent.pop(key, None)
                if key in body:
                    agent[key] = body[key]
            agent.setdefault("capabilities", [])
            agent.setdefault("metadata", {})
            agent["revision"] += 1
        self.send(200, agent, {"ETag": self.etag(agent)})

    def put_status(self, agent_id):
        allowed = self.mutation(agent_id)
        if not allowed:
            return
        body, agent = allowed
        wanted = body.get("status") if isinstance(body, dict) else None
        if wanted not in STATUSES:
            return self.problem(422, "Unprocessable Content", "unknown status",
                                errors=[{"pointer": "/status", "detail": "unknown"}])
        if wanted not in STATUSES[agent["status"]]:
            return self.problem(409, "Conflict", f"{agent['status']} cannot become {wanted}")
        with self.server.store.lock:
            agent["status"] = wanted
            agent["revision"] += 1
        self.send(200, agent, {"ETag": self.etag(agent)})

    def delete_agent(self, agent_id):
        who = self.principal("operator")
        if not who:
            return
        agent = self.writable(agent_id, who)
        if not agent:
            return
        with self.server.store.lock:
            self.server.store.agents.pop(agent_id, None)
        self.send(204)

    do_GET = do_HEAD = do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = route


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        # A client that hangs up mid-answer (the harness does, on purpose) is not an error.
        if isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            return
        super().handle_error(request, client_address)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jwt-secret-file", required=True)
    parser.add_argument("--port-file", help="write the port listened on here")
    parser.add_argument("--port", type=int, default=0, help="listen here (0: any free port)")
    parser.add_argument("--bug", action="append", default=[],
                        choices=["create-200", "no-request-id", "problem-text",
                                 "ignore-if-match"])
    parser.add_argument("--counts-file", help="on exit, write requests seen per route here")
    args = parser.parse_args()
    with open(args.jwt_secret_file, "rb") as f:
        secret = f.read().rstrip(b"\r\n")
    server = Server(("127.0.0.1", args.port), Handler)
    server.secret = secret
    server.bugs = set(args.bug)
    server.store = Store()
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    if args.port_file:
        with open(args.port_file + ".tmp", "w") as f:
            f.write(str(server.server_address[1]))
        os.replace(args.port_file + ".tmp", args.port_file)
    server.serve_forever()
    if args.counts_file:
        with open(args.counts_file, "w") as f:
            json.dump(server.store.counts, f)
    return 0


if __name__ == "__main__":
    sys.exit(main())
