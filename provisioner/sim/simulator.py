"""`Simulator`: one HTTP server speaking CF v3, UAA, XSUAA and the BTP account APIs for a simulated landscape,
served from a background thread (docs/simulator.md, "Starting it")."""

from __future__ import annotations

import socket
import ssl
import threading
from pathlib import Path
from typing import Any

from werkzeug.serving import make_server

from provisioner.sim.app import SimApp
from provisioner.sim.core.clock import Clock, SystemClock
from provisioner.sim.core.config import Config
from provisioner.sim.core.serving import QuietHandler
from provisioner.sim.core.tls import authority

#: the hosts plain HTTP (`tls=False`) may be served on
LOOPBACK = ("127.0.0.1", "::1", "localhost")


class Simulator:
    """The landscape simulator.

    `landscape` is a YAML file path, an already parsed landscape dict, or None for the built-in default.
    `job_seconds` is the duration of asynchronous jobs and `token_seconds` the lifetime of access tokens (seconds).
    `faults` is a faults object (docs/simulator.md, "Faults"); None injects nothing. `clock` (an object with
    `monotonic() -> float` seconds and `sleep(seconds)`) drives job progress and latency injection; None is the
    real clock. It serves HTTPS (`https://HOST:PORT`) with a certificate of its own CA (`ca_file`, see
    `provisioner.sim.core.tls`), as every real endpoint does and as clients that only speak https need (SAP's
    sap-xssec reads `https://<uaadomain>/token_keys`); `tls=False` serves plain HTTP, on a loopback host only;
    `ssl_context` serves HTTPS with a context of the caller's. XSUAA's mTLS token endpoint (`certurl` of x509
    bindings) listens on a second loopback port, always HTTPS (`mtls_url`). Raises `LandscapeError` or
    `FaultsError` (both ValueError) for invalid input, ValueError for `tls=False` on a host that is not loopback.
    """

    def __init__(self, landscape: str | Path | dict[str, Any] | None = None, host: str = "127.0.0.1",
                 port: int = 0, job_seconds: float = 1.0, token_seconds: int = 1199,
                 faults: dict[str, Any] | None = None, clock: Clock | None = None,
                 ssl_context: ssl.SSLContext | None = None, tls: bool = True) -> None:
        if not tls and ssl_context is None and host not in LOOPBACK:
            raise ValueError(f"plain HTTP is served on a loopback host only ({', '.join(LOOPBACK)}), not {host!r}")
        self.host = host
        self.ssl_context = ssl_context or (authority().server_context() if tls else None)
        self.port = port
        self.app = SimApp(landscape, Config(job_seconds=job_seconds, token_seconds=token_seconds),
                          clock or SystemClock(), faults)
        self._server: Any = None
        self._mtls: Any = None
        self._threads: list[threading.Thread] = []
        self._url: str | None = None
        self.mtls_url: str | None = None

    @property
    def ca_file(self) -> str:
        """The PEM file of the CA the simulator's certificates come from (trust it to reach it over HTTPS)."""
        return str(authority().ca_file)

    @property
    def url(self) -> str:
        """`http://HOST:PORT` (`https://` with an `ssl_context`) once started; RuntimeError before."""
        if self._url is None:
            raise RuntimeError("the simulator is not started")
        return self._url

    def start(self) -> Simulator:
        """Listen and serve from a background thread; returns once the socket listens (OSError if it cannot)."""
        if self._server is not None:
            return self
        # Bind here so that a busy port raises OSError (werkzeug would print and sys.exit instead).
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        with socket.create_server((self.host, self.port), family=family, backlog=128) as sock:
            server = make_server(self.host, self.port, self.app, threaded=True, request_handler=QuietHandler,
                                 fd=sock.fileno(), ssl_context=self.ssl_context)
        mtls_host = "::1" if family == socket.AF_INET6 and self.host not in ("", "0.0.0.0") else "127.0.0.1"
        mtls = make_server(mtls_host, 0, self.app, threaded=True, request_handler=QuietHandler,
                           ssl_context=authority().mtls_context())
        host = self.host
        if host in ("", "0.0.0.0"):
            host = "127.0.0.1"
        elif host == "::":
            host = "::1"
        if ":" in host:
            host = f"[{host}]"
        self._url = f"{'https' if self.ssl_context else 'http'}://{host}:{server.port}"
        self.mtls_url = f"https://{'[::1]' if ':' in mtls_host else mtls_host}:{mtls.port}"
        self.app.set_url(self._url, self.mtls_url)
        self._server, self._mtls = server, mtls
        self._threads = [threading.Thread(target=s.serve_forever, kwargs={"poll_interval": 0.01}, name=name,
                                          daemon=True) for s, name in ((server, "provisioner-sim"),
                                                                       (mtls, "provisioner-sim-mtls"))]
        for thread in self._threads:
            thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        for server in (self._server, self._mtls):
            server.shutdown()
            server.server_close()
        for thread in self._threads:
            thread.join(timeout=5)
        self._server = self._mtls = None
        self._threads = []

    def info(self) -> dict[str, Any]:
        """`{"url", "cf_api", "cf_username", "cf_password", "cis_key": {...}, "ca_file", "mtls_url"}` (`ca_file`:
        None when served over plain HTTP); RuntimeError before start."""
        url = self.url
        return {**self.app.info(), "ca_file": self.ca_file if url.startswith("https://") else None,
                "mtls_url": self.mtls_url}

    def __enter__(self) -> Simulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
