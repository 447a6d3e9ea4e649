"""The HTTP layer's settings and connections: :class:`HttpSettings` (timeouts, retries, TLS, proxy and the bounds
of :mod:`provisioner.clients.http`), :class:`RequestStats` (requests counted for reports) and :class:`SessionPool` (one
pooled ``requests.Session`` per origin, with bounded retries, :mod:`provisioner.clients.http_retry`, and connections
that
report to their request's time limit, :mod:`provisioner.clients.http_watch`; a cap on the requests in flight per origin,
:mod:`provisioner.clients.inflight`): a transport only; what a run or a fleet shares is its run context's
(:class:`provisioner.engine.context.RunContext`).
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import requests

from provisioner.clients.http_guards import ca_bundle, is_loopback
from provisioner.clients.http_retry import BoundedRetry
from provisioner.clients.http_urls import Target
from provisioner.clients.http_watch import WatchedAdapter
from provisioner.clients.inflight import CEILING, CapReport, InFlightCap

RETRY_STATUSES = (429, 502, 503, 504)
RETRY_METHODS = frozenset({"GET", "PUT", "DELETE", "HEAD"})
#: the environment variables that decide a request's proxy (as urllib's getproxies_environment reads them)
PROXY_VARIABLES = (*(case(f"{scheme}_proxy") for scheme in ("http", "https", "all", "no") for case in (str, str.upper)),
                   "REQUEST_METHOD")

@dataclass
class HttpSettings:
    """Transport settings: timeouts in seconds, retry count, TLS CA bundle (path) or True for the environment's
    (``REQUESTS_CA_BUNDLE``, ``SSL_CERT_FILE``, ``CURL_CA_BUNDLE``) else the system store, a proxy URL that
    wins over ``HTTPS_PROXY``/``HTTP_PROXY``/``NO_PROXY``, and the bounds of the module docstring."""

    connect_timeout: float = 5.0
    read_timeout: float = 30.0
    retries: int = 5
    backoff_factor: float = 0.25
    backoff_max: float = 30.0
    verify: bool | str = True
    #: requests in flight per API host over all tenants: None = adaptive (:mod:`provisioner.clients.inflight`), else
    #: fixed
    max_in_flight_per_host: int | None = None
    proxy: str | None = None
    #: Service Manager instance creates a minute, shared by a fleet's runs (:mod:`provisioner.clients.budget`)
    sm_creates_per_minute: float = 50.0
    #: seconds one request may take in all: connection, headers, body, the retries and their waits
    request_timeout: float = 300.0
    #: the longest wait a Retry-After or X-RateLimit-Reset may ask for (seconds); a longer one is not taken
    max_retry_wait: float = 120.0
    #: the largest answer, in bytes on the wire and inflated
    max_body_bytes: int = 32 * 1024 * 1024
    #: the most pages of one list
    max_pages: int = 1000

    @classmethod
    def of(cls, config: Any, max_in_flight_per_host: int | None = None) -> HttpSettings:
        """The settings of a playbook's ``http`` section (:class:`provisioner.playbook.limits.HttpConfig`)."""
        return cls(connect_timeout=config.connect_timeout, read_timeout=config.read_timeout, retries=config.retries,
                   verify=config.ca_bundle or True, proxy=config.proxy, max_in_flight_per_host=max_in_flight_per_host,
                   request_timeout=config.request_timeout, max_retry_wait=config.max_retry_wait,
                   max_body_bytes=config.max_body_bytes, max_pages=config.max_pages)


@dataclass
class RequestStats:
    """Counts of requests a run made (for reports): total and writes (POST, PUT, PATCH, DELETE)."""

    requests: int = 0
    writes: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def count(self, method: str, url: str = "") -> None:
        """Count one request; token requests (``POST .../oauth/token``) are sign-ins, not writes."""
        with self._lock:
            self.requests += 1
            if method not in ("GET", "HEAD") and not urlsplit(url).path.endswith("/oauth/token"):
                self.writes += 1


class SessionPool:
    """One ``requests.Session`` per origin, with retrying adapters and a cap on requests in flight per origin, on
    the transport settings (:class:`HttpSettings`)."""

    def __init__(self, settings: HttpSettings | None = None):
        self.settings = settings or HttpSettings()
        self._sessions: dict[str, requests.Session] = {}
        self._gates: dict[str, InFlightCap] = {}
        self._proxies: dict[tuple[str | None, ...], dict[str, str]] = {}
        self._lock = threading.Lock()

    def session(self, where: Target, *, retry_post: bool = False) -> tuple[requests.Session, InFlightCap]:
        """The session for the target's origin; ``retry_post`` gives one whose retries also cover POST (for
        idempotent POSTs such as token requests). On a loopback origin a refused connection is not retried: nothing
        listens there, and waiting will not change that."""
        origin = where.origin
        key = origin + (" +post" if retry_post else "")
        made = self._sessions.get(key)  # made once per origin: read without the lock (its gate is made first)
        if made is not None:
            return made, self._gates[origin]
        with self._lock:
            if key not in self._sessions:
                s = requests.Session()
                # the environment's proxies and CA bundle are applied per request (see proxies_for and
                # ca_bundle); trust_env stays off so that ~/.netrc never adds credentials to a request
                s.trust_env = False
                n = self.settings.retries
                retry = BoundedRetry(
                    total=n, connect=0 if is_loopback(urlsplit(where.url).hostname) else n, read=n, status=n,
                    other=0, allowed_methods=RETRY_METHODS | {"POST"} if retry_post else RETRY_METHODS,
                    status_forcelist=RETRY_STATUSES,
                    backoff_factor=self.settings.backoff_factor, backoff_max=self.settings.backoff_max,
                    backoff_jitter=self.settings.backoff_factor, respect_retry_after_header=True,
                    raise_on_status=False, raise_on_redirect=False,
                )
                fixed = self.settings.max_in_flight_per_host
                size = CEILING if fixed is None else max(fixed, 1)
                adapter = WatchedAdapter(max_retries=retry, pool_connections=1, pool_maxsize=size)
                s.mount("https://", adapter)  # the session serves one origin: every URL it sends is of it
                s.mount("http://", adapter)
                s.verify = ca_bundle(self.settings.verify)
                self._gates.setdefault(origin, InFlightCap(fixed))
                self._sessions[key] = s
            return self._sessions[key], self._gates[origin]

    def caps(self) -> dict[str, CapReport]:
        """``{origin: CapReport}``: what the in-flight cap of each API host did (see
        :mod:`provisioner.clients.inflight`)."""
        with self._lock:
            gates = dict(self._gates)
        return {origin: gate.report() for origin, gate in gates.items()}

    def proxies_for(self, where: Target) -> dict[str, str]:
        """The proxy for the target: ``http.proxy`` from the playbook, else ``HTTPS_PROXY``/``HTTP_PROXY`` unless
        ``NO_PROXY`` names the host (as curl and requests read them); {} for none."""
        if self.settings.proxy:
            return {"http": self.settings.proxy, "https": self.settings.proxy}
        # requests scans the whole environment for them (about 1 ms a request): once per origin and proxy setting
        key = (where.origin, *map(os.environ.get, PROXY_VARIABLES))
        found = self._proxies.get(key)
        if found is None:
            found = self._proxies[key] = requests.utils.get_environ_proxies(where.url)
        return dict(found)

    def close(self) -> None:
        """Close the sessions."""
        with self._lock:
            for s in self._sessions.values():
                s.close()
            self._sessions.clear()


_default_pool: SessionPool | None = None
_default_lock = threading.Lock()


def default_pool() -> SessionPool:
    global _default_pool
    with _default_lock:
        if _default_pool is None:
            _default_pool = SessionPool()
        return _default_pool
