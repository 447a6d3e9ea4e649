"""Test doubles on loopback for servers that misbehave, and a forwarding HTTP proxy.

- :class:`ScriptedServer`: answers each ``(method, path)`` with a scripted response (status, headers, body); what
  it does not know it forwards to ``upstream`` (a simulator), so a test can make one endpoint of a real landscape
  hostile: HTML where JSON belongs, a ``pagination.next.href`` at another host, an error that echoes the request.
- :class:`ForwardProxy`: an HTTP forward proxy (absolute-URI requests) that records every request it relays.
"""

from __future__ import annotations

import http.client
import ssl
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

Answer = tuple[int, dict[str, str], bytes]
Script = Callable[[str, str, bytes, dict[str, str]], Answer | None]


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
