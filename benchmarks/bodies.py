"""`make bench` (e): the client's peak memory facing answers too large to read (issue 18): a 50 MB JSON array, and
the same sent chunked (no ``Content-Length``: only reading tells its size), and a gzip body of about 200 KB that
inflates to 200 MB. Each is asked for once by the provisioner's HTTP client
(``HttpClient.request``, default settings: ``http.max_body_bytes`` 32 MiB) in a fresh subprocess, whose peak RSS
(``ru_maxrss``) is printed beside that of the same subprocess asking for a small answer. Target: under 300 MB."""

from __future__ import annotations

import gzip
import io
import json
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from landscapes import verdict

PEAK_RSS_TARGET_MB = 300

CLIENT = """
import re, resource, sys
from provisioner.errors import TooLarge
from provisioner.clients.http import HttpClient
client = HttpClient(sys.argv[1], what="bench")
try:
    client.request("GET", sys.argv[2], auth=False).json()
    said = "read"
except TooLarge as exc:
    said = "refused: " + exc.detail.split("; reading", 1)[0]
try:  # this process's own peak (ru_maxrss may keep the parent's from before exec)
    peak = int(re.search(r"VmHWM:\\s+(\\d+)", open("/proc/self/status").read()).group(1)) / 1024
except (OSError, AttributeError):
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(peak, said)
"""


def _answers() -> dict[str, tuple[dict[str, str], bytes]]:
    array = b"[" + b",".join([b'"0123456789abcdef0123456789"'] * 1_700_000) + b"]"  # about 50 MB
    bomb = io.BytesIO()
    with gzip.GzipFile(fileobj=bomb, mode="wb", compresslevel=9) as z:
        chunk = b"0" * (1 << 20)
        for _ in range(200):  # 200 MB inflated
            z.write(chunk)
    plain = {"Content-Type": "application/json"}
    return {"/small": (plain, json.dumps({"resources": []}).encode()), "/array": (plain, array),
            "/bomb": ({**plain, "Content-Encoding": "gzip"}, bomb.getvalue())}


def bodies() -> None:
    """(e) Serve the answers on loopback; one client subprocess per answer; print sizes, peak RSS and verdicts."""
    answers = _answers()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:  # noqa: N802 - http.server's hook
            if self.path == "/array-chunked":  # no Content-Length: only reading tells the size
                self.send_response(200)
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                body = answers["/array"][1]
                try:
                    for i in range(0, len(body), 1 << 16):
                        piece = body[i:i + (1 << 16)]
                        self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
                    self.wfile.write(b"0\r\n\r\n")
                except OSError:
                    pass
                return
            headers, body = answers[self.path]
            self.send_response(200)
            for k, v in {**headers, "Content-Length": str(len(body))}.items():
                self.send_header(k, v)
            self.end_headers()
            try:
                self.wfile.write(body)
            except OSError:  # the client stopped at its cap
                pass

        def log_message(self, *args: object) -> None:
            pass

    class Quiet(ThreadingHTTPServer):
        def handle_error(self, request: object, client_address: object) -> None:
            pass  # a client that stopped reading at its cap and closed the connection

    server = Quiet(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    print("\n(e) Answers too large to read: the client's peak RSS (one subprocess per answer, default settings)")
    try:
        for path, what in (("/small", "a small answer (baseline)"), ("/array", "a 50 MB JSON array"),
                           ("/array-chunked", "the same, chunked (no Content-Length)"),
                           ("/bomb", "a gzip body inflating to 200 MB")):
            wire = len(answers[path.replace("-chunked", "")][1])
            out = subprocess.run([sys.executable, "-c", CLIENT, url, path], capture_output=True, text=True,
                                 check=True, timeout=120).stdout.split(" ", 1)
            rss = float(out[0])
            target = "" if path == "/small" else \
                f"  (target < {PEAK_RSS_TARGET_MB} MB: {verdict(rss, PEAK_RSS_TARGET_MB - 1e-9)})"
            print(f"  {what:<38} {wire / 1e6:6.2f} MB: peak RSS {rss:6.1f} MB{target}; {out[1].strip()}")
    finally:
        server.shutdown()
        server.server_close()


if __name__ == "__main__":
    bodies()
