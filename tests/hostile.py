"""Test doubles on loopback for servers that misbehave, and a forwarding HTTP proxy.

- :class:`ScriptedServer`: answers each ``(method, path)`` with a scripted response (status, headers, body); what
  it does not know it forwards to ``upstream`` (a simulator), so a test can make one endpoint of a real landscape
  hostile: HTML where JSON belongs, a ``pagination.next.href`` at another host, an error that echoes the request.
- :class:`LandscapeDouble`: a scripted server in front of a whole landscape (every API through it), for a test
  that makes any endpoint hostile: an echo of a secret, control characters in server text, a malformed answer.
- :class:`ForwardProxy`: an HTTP forward proxy (absolute-URI requests) that records every request it relays.
"""

from __future__ import annotations

import http.client
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

Answer = tuple[int, dict[str, str], bytes]
Script = Callable[[str, str, bytes, dict[str, str]], Answer | None]


def _forward(method: str, url: str, headers: dict[str, str], body: bytes) -> Answer:
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    keep = {k: v for k, v in headers.items() if k.lower() not in ("proxy-connection", "connection", "host")}
    conn.request(method, path or "/", body=body or None, headers=keep)
    resp = conn.getresponse()
    data = resp.read()
    out = {k: v for k, v in resp.getheaders() if k.lower() not in ("transfer-encoding", "connection")}
    conn.close()
    return resp.status, out, data


class _Server:
    def __init__(self, handle: Callable[[str, str, dict[str, str], bytes], Answer]):
        outer = handle

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _any(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                status, headers, data = outer(self.command, self.path, dict(self.headers.items()), body)
                self.send_response(status)
                for k, v in headers.items():
                    if k.lower() != "content-length":
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _any

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class ScriptedServer(_Server):
    """``script(method, path, body, headers)`` returns an answer, or None to forward to ``upstream``."""

    def __init__(self, upstream: str, script: Script):
        self.upstream = upstream.rstrip("/")
        super().__init__(lambda m, p, h, b: script(m, p, b, h) or _forward(m, self.upstream + p, h, b))


class ForwardProxy(_Server):
    """Relays absolute-URI requests (``GET http://host:port/path``) and records ``(method, url)`` of each."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str]] = []
        self._lock = threading.Lock()

        def relay(method: str, target: str, headers: dict[str, str], body: bytes) -> Answer:
            with self._lock:
                self.seen.append((method, target))
            if not target.startswith("http://"):
                return 400, {}, b"absolute http:// URI expected"
            return _forward(method, target, headers, body)

        super().__init__(relay)


class LandscapeDouble(ScriptedServer):
    """A :class:`ScriptedServer` in front of a whole simulator landscape: the simulator's URL is rewritten to the
    double's in every answer (bodies and headers), so that every API the landscape serves (CF, UAA, XSUAA, BTP,
    Service Manager, the Cloud ALM API: all on the simulator's one port) is reached through the double when the
    playbook and the cis key name the double. ``script(method, path, body, headers)`` answers what it scripts;
    ``rewrite(method, path, answer)`` (optional) changes a forwarded answer (its URLs already rewritten)."""

    def __init__(self, upstream: str, script: Script | None = None,
                 rewrite: Callable[[str, str, Answer], Answer | None] | None = None):
        self.seen: list[tuple[str, str]] = []
        self._seen_lock = threading.Lock()

        def handle(method: str, path: str, body: bytes, headers: dict[str, str]) -> Answer:
            with self._seen_lock:
                self.seen.append((method, path))
            scripted = script(method, path, body, headers) if script else None
            if scripted is not None:
                return scripted
            status, hdrs, data = _forward(method, self.upstream + path, headers, body)
            mine, theirs = self.url, self.upstream
            answer = (status, {k: v.replace(theirs, mine) for k, v in hdrs.items()},
                      data.replace(theirs.encode(), mine.encode()).replace(theirs.split("//")[1].encode(),
                                                                           mine.split("//")[1].encode()))
            changed = rewrite(method, path, answer) if rewrite else None
            return changed if changed is not None else answer

        super().__init__(upstream, handle)

    def cis_key(self, info: dict) -> dict:
        """The simulator's cis key (``Simulator.info()["cis_key"]``) naming the double instead."""
        import json

        host, mine = self.upstream.split("//")[1], self.url.split("//")[1]
        return json.loads(json.dumps(info["cis_key"]).replace(self.upstream, self.url).replace(host, mine))
