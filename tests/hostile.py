"""Test doubles on loopback for servers that misbehave, and a forwarding HTTP proxy.

- :class:`ScriptedServer`: answers each ``(method, path)`` with a scripted response (status, headers, body); what
  it does not know it forwards to ``upstream`` (a simulator), so a test can make one endpoint of a real landscape
  hostile: HTML where JSON belongs, a ``pagination.next.href`` at another host, an error that echoes the request.
- :class:`LandscapeDouble`: a scripted server in front of a whole landscape (every API through it), for a test
  that makes any endpoint hostile: an echo of a secret, control characters in server text, a malformed answer.
- :class:`ForwardProxy`: an HTTP forward proxy (absolute-URI requests) that records every request it relays.
- :class:`Recorder`: a server at another port that records every request it gets (a link must never lead there).
- :class:`Raw` answers a script may return instead of ``(status, headers, body)``, written by hand on the socket:
  :func:`drip` (headers and/or body one byte every ``every`` seconds) and :func:`silent` (reads the request, never
  answers); both end when the client goes away or the server stops.
"""

from __future__ import annotations

import http.client
import ssl
import sys
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

Answer = tuple[int, dict[str, str], bytes]


class Raw:
    """An answer written by hand: ``write(wfile, stop)`` (``stop``: an event set when the server stops)."""

    def __init__(self, write: Callable[[Any, threading.Event], None]) -> None:
        self.write = write


Script = Callable[[str, str, bytes, dict[str, str]], "Answer | Raw | None"]


def _head(status: int, headers: dict[str, str], length: int) -> bytes:
    lines = [f"HTTP/1.1 {status} X"] + [f"{k}: {v}" for k, v in headers.items()] + [f"Content-Length: {length}", "", ""]
    return "\r\n".join(lines).encode()


def drip(status: int, headers: dict[str, str], body: bytes, *, every: float = 0.5, head_too: bool = False) -> Raw:
    """The answer sent one byte every ``every`` seconds: the body (after the headers at once), or with
    ``head_too`` the headers as well."""

    def write(wfile: Any, stop: threading.Event) -> None:
        head = _head(status, headers, len(body))
        slow = head + body if head_too else body
        if not head_too:
            wfile.write(head)
            wfile.flush()
        for i in range(len(slow)):
            if stop.wait(every):
                return
            wfile.write(slow[i:i + 1])
            wfile.flush()

    return Raw(write)


def silent() -> Raw:
    """No answer at all: the connection stays open until the client closes it or the server stops."""
    return Raw(lambda wfile, stop: stop.wait(120))


def _forward(method: str, url: str, headers: dict[str, str], body: bytes) -> Answer:
    parts = urlsplit(url)
    conn = http.client.HTTPSConnection(parts.hostname, parts.port, timeout=30, context=ssl.create_default_context()) \
        if parts.scheme == "https" else http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    keep = {k: v for k, v in headers.items() if k.lower() not in ("proxy-connection", "connection", "host")}
    conn.request(method, path or "/", body=body or None, headers=keep)
    resp = conn.getresponse()
    data = resp.read()
    out = {k: v for k, v in resp.getheaders() if k.lower() not in ("transfer-encoding", "connection")}
    conn.close()
    return resp.status, out, data


class _Quiet(ThreadingHTTPServer):
    """A client that closes the connection (a body over its cap, a request cut off) is not an error here."""

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], OSError):
            super().handle_error(request, client_address)


class _Server:
    def __init__(self, handle: Callable[[str, str, dict[str, str], bytes], Answer | Raw]):
        outer = handle
        stop = self.stop = threading.Event()

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _any(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                answer = outer(self.command, self.path, dict(self.headers.items()), body)
                if isinstance(answer, Raw):
                    self.close_connection = True
                    try:
                        answer.write(self.wfile, stop)
                    except OSError:  # the client went away
                        pass
                    return
                status, headers, data = answer
                self.send_response(status)
                for k, v in headers.items():
                    if k.lower() != "content-length":
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                try:
                    self.wfile.write(data)
                except OSError:  # the client stopped reading (a body over its cap) and closed the connection
                    self.close_connection = True

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _any

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = _Quiet(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.httpd.shutdown()
        self.httpd.server_close()


class ScriptedServer(_Server):
    """``script(method, path, body, headers)`` returns an answer, or None to forward to ``upstream``."""

    def __init__(self, upstream: str, script: Script):
        self.upstream = upstream.rstrip("/")
        super().__init__(lambda m, p, h, b: script(m, p, b, h) or _forward(m, self.upstream + p, h, b))


class Transparent(ScriptedServer):
    """A double of the simulator at ``upstream`` that forwards everything, every URL of the simulator in its
    answers rewritten to the double's; ``rewrite(method, path, status, headers, body)`` may replace the one answer
    a test makes hostile (None: as forwarded)."""

    def __init__(self, upstream: str, rewrite: Callable[..., Answer | None]) -> None:
        def script(method: str, path: str, body: bytes, headers: dict[str, str]) -> Answer:
            status, hdrs, data = _forward(method, self.upstream + path, headers, body)
            data = data.replace(self.upstream.encode(), self.url.encode())
            hdrs = {k: v.replace(self.upstream, self.url) for k, v in hdrs.items()}
            return rewrite(method, path, status, hdrs, data) or (status, hdrs, data)

        super().__init__(upstream, script)


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


class Recorder(_Server):
    """Records ``(method, path, headers)`` of every request and answers 200 with ``answer`` (JSON of a job, an
    operation or a page that would end a wait)."""

    def __init__(self, answer: bytes = b'{"state": "COMPLETE", "resources": [], "items": []}') -> None:
        self.seen: list[tuple[str, str, dict[str, str]]] = []

        def record(method: str, path: str, headers: dict[str, str], body: bytes) -> Answer:
            self.seen.append((method, path, headers))
            return 200, {"Content-Type": "application/json"}, answer

        super().__init__(record)
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
