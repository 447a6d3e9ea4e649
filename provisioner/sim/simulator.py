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


class Simulator:
    """The landscape simulator.

    `landscape` is a YAML file path, an already parsed landscape dict, or None for the built-in default.
    `job_seconds` is the duration of asynchronous jobs and `token_seconds` the lifetime of access tokens (seconds).
    `faults` is a faults object (docs/simulator.md, "Faults"); None injects nothing. `clock` (an object with
    `monotonic() -> float` seconds and `sleep(seconds)`) drives job progress and latency injection; None is the
    real clock. `ssl_context` (a server-side context with its certificate) serves HTTPS (`https://HOST:PORT`), as
    clients that only speak https (SAP's sap-xssec reads `https://<uaadomain>/token_keys`) need. Raises
    `LandscapeError` or `FaultsError` (both ValueError) for invalid input.
    """

    def __init__(self, landscape: str | Path | dict[str, Any] | None = None, host: str = "127.0.0.1",
                 port: int = 0, job_seconds: float = 1.0, token_seconds: int = 1199,
                 faults: dict[str, Any] | None = None, clock: Clock | None = None,
                 ssl_context: ssl.SSLContext | None = None) -> None:
        self.host = host
        self.ssl_context = ssl_context
        self.port = port
        self.app = SimApp(landscape, Config(job_seconds=job_seconds, token_seconds=token_seconds),
                          clock or SystemClock(), faults)
        self._server: Any = None
        self._thread: threading.Thread | None = None
        self._url: str | None = None

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
        host = self.host
        if host in ("", "0.0.0.0"):
            host = "127.0.0.1"
        elif host == "::":
            host = "::1"
        if ":" in host:
            host = f"[{host}]"
        self._url = f"{'https' if self.ssl_context else 'http'}://{host}:{server.port}"
        self.app.set_url(self._url)
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01},
                                        name="provisioner-sim", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    def info(self) -> dict[str, Any]:
        """`{"url", "cf_api", "cf_username", "cf_password", "cis_key": {...}}`; RuntimeError before start."""
        self.url  # noqa: B018 - raises before start
        return self.app.info()

    def __enter__(self) -> Simulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
