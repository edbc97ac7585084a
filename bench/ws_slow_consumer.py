#!/usr/bin/env python3
"""Measures what WebSocket clients that never read cost agentd (PROTOCOL.md §5, WS-008).

Starts agentd on loopback, opens SLOW clients on /events/stream that complete the upgrade
and then never read (a 4 KiB receive buffer, so the kernel holds little for them), publishes
EVENTS custom events of about 1 KB from 8 keep-alive connections, samples agentd's RSS
(/proc/PID/status VmRSS) every 0.2 s, then reads what each slow client was sent and prints:
the RSS before and at its peak, the growth, and how each slow client ended (the close code).
Bounded: it stops after EVENTS events or TIMEOUT seconds, whichever is first.

Usage: bench/ws_slow_consumer.py [AGENTD] [--events N] [--slow N] [--timeout S]
       (default: build/release/reference/agentd, 100000 events, 4 slow clients, 600 s)
"""
import argparse
import base64
import hashlib
import hmac
import http.client
import json
import os
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def token(secret, role):
    now = int(time.time())
    header = b64url(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    claims = b64url(json.dumps({"sub": "bench-" + role, "roles": [role], "iat": now,
                                "exp": now + 3600}).encode())
    signing = header + "." + claims
    return signing + "." + b64url(hmac.new(secret.encode(), signing.encode(), hashlib.sha256).digest())


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def open_slow(port, tok, path):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.connect(("127.0.0.1", port))
    key = base64.b64encode(os.urandom(16)).decode()
    s.sendall((f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
               f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
               f"Sec-WebSocket-Version: 13\r\nAuthorization: Bearer {tok}\r\n\r\n").encode())
    head = b""
    while b"\r\n\r\n" not in head:
        head += s.recv(1)
    if b" 101 " not in head.split(b"\r\n")[0]:
        raise RuntimeError("upgrade refused: " + head.decode(errors="replace"))
    return s


def drain(s, timeout=10):
    """Reads what the agent sent: (messages, close code or None)."""
    s.settimeout(timeout)
    buf, messages = b"", 0
    while True:
        while len(buf) >= 2:
            op, ln, off = buf[0] & 15, buf[1] & 127, 2
            if ln == 126:
                if len(buf) < 4:
                    break
                ln, off = struct.unpack(">H", buf[2:4])[0], 4
            elif ln == 127:
                if len(buf) < 10:
                    break
                ln, off = struct.unpack(">Q", buf[2:10])[0], 10
            if len(buf) < off + ln:
                break
            payload, buf = buf[off:off + ln], buf[off + ln:]
            if op == 8:
                return messages, struct.unpack(">H", payload[:2])[0] if len(payload) >= 2 else None
            messages += 1
        try:
            data = s.recv(65536)
        except (socket.timeout, ConnectionError):
            return messages, None
        if not data:
            return messages, None
        buf += data


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("agentd", nargs="?", default="build/release/reference/agentd")
    ap.add_argument("--events", type=int, default=100000)
    ap.add_argument("--slow", type=int, default=4)
    ap.add_argument("--timeout", type=float, default=600)
    a = ap.parse_args()
    work = tempfile.mkdtemp(prefix="agentd-ws-bench-")
    secret = os.urandom(24).hex()
    with open(os.path.join(work, "secret"), "w") as f:
        f.write(secret)
    proc = subprocess.Popen([a.agentd, "--port", "0", "--port-file", work + "/port",
                             "--data-dir", work + "/data", "--jwt-secret-file", work + "/secret",
                             "--log-requests", "false", "--synchronous", "normal"],
                            stderr=subprocess.DEVNULL)
    try:
        for _ in range(200):
            if os.path.exists(work + "/port"):
                break
            time.sleep(0.05)
        port = int(open(work + "/port").read())
        viewer, operator = token(secret, "viewer"), token(secret, "operator")
        slow = [open_slow(port, viewer, "/events/stream?types=x_bench") for _ in range(a.slow)]
        time.sleep(0.5)
        before = rss_kib(proc.pid)
        peak = [before]
        done = threading.Event()

        def sample():
            while not done.is_set():
                peak[0] = max(peak[0], rss_kib(proc.pid))
                time.sleep(0.2)

        sampler = threading.Thread(target=sample)
        sampler.start()
        body = json.dumps({"type": "x_bench", "data": {"pad": "p" * 1000}})
        sent = [0]
        lock = threading.Lock()
        deadline = time.time() + a.timeout

        def publisher():
            c = http.client.HTTPConnection("127.0.0.1", port)
            while time.time() < deadline:
                with lock:
                    if sent[0] >= a.events:
                        return
                    sent[0] += 1
                    n = sent[0]
                c.request("POST", "/events", body, {"Authorization": "Bearer " + operator,
                                                    "Content-Type": "application/json"})
                r = c.getresponse()
                r.read()
                if r.status != 201:
                    raise RuntimeError(f"POST /events answered {r.status}")
                if n % 10000 == 0:
                    print(f"  {n} events published, agentd RSS {rss_kib(proc.pid) // 1024} MiB",
                          flush=True)

        started = time.time()
        threads = [threading.Thread(target=publisher) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.time() - started
        done.set()
        sampler.join()
        ends = [drain(s) for s in slow]
        print(f"published {sent[0]} events in {elapsed:.1f} s to {a.slow} clients that never read")
        print(f"agentd RSS: {before // 1024} MiB before, {peak[0] // 1024} MiB at the peak "
              f"(growth {(peak[0] - before) / 1024:.1f} MiB)")
        for i, (messages, code) in enumerate(ends):
            print(f"  slow client {i + 1}: {messages} messages, then "
                  f"{'close ' + str(code) if code else 'the connection cut (a close frame cannot reach a client that never reads)'}")
    finally:
        proc.terminate()
        proc.wait(timeout=15)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
