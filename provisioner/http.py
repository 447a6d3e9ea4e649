"""The HTTP layer shared by every API client (CF, UAA/XSUAA, BTP).

- One pooled ``requests.Session`` per origin (scheme, host, port), shared by all clients and threads of a process.
- Connect and read timeouts on every request (seconds; default 5 and 30).
- Retries with exponential backoff and jitter (urllib3 ``Retry``) on 429, 502, 503, 504 and on connection errors,
  for GET, PUT, DELETE and HEAD; ``Retry-After`` and ``X-RateLimit-Reset`` are honoured. A connection that fails
  before a POST is sent is retried too; a POST that may have reached the server is never repeated blindly: the step
  that sent it re-reads the state and adopts what exists.
- A 401 on a request made with a token refreshes the token once and repeats the request.
- TLS verification is on; a CA bundle can be given. Plain ``http://`` is refused except to loopback addresses.
- Errors become :class:`provisioner.errors.ApiError` carrying the API's code, title and detail (CF v3 envelope
  ``{"errors":[...]}``, BTP ``{"error":{...}}``, UAA ``{"error": "...", "error_description": "..."}``).
- ``--verbose`` logging (logger ``provisioner.http``) prints method, URL, status and duration only: headers and
  bodies, which carry tokens, passwords and client secrets, are never logged.
"""

from __future__ import annotations

import ipaddress
import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import urljoin, urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from provisioner import clock
from provisioner.errors import ApiError, BadInput

log = logging.getLogger("provisioner.http")

RETRY_STATUSES = (429, 502, 503, 504)
RETRY_METHODS = frozenset({"GET", "PUT", "DELETE", "HEAD"})


class RateLimitRetry(Retry):
    """urllib3 ``Retry`` that also honours ``X-RateLimit-Reset`` on a 429.

    CF sends the reset as Unix epoch seconds, BTP (per its spec) as epoch milliseconds; values that are not in the
    future are ignored. Waits are capped at ``max_backoff`` seconds (``Retry.DEFAULT_BACKOFF_MAX`` = 120) and taken on
    :mod:`provisioner.clock`, as every wait of the tool is.
    """

    def get_retry_after(self, response):  # noqa: D102 - urllib3 hook
        seconds = super().get_retry_after(response)
        if seconds is not None:
            return min(seconds, self.backoff_max)
        reset = response.headers.get("X-RateLimit-Reset") or response.headers.get("X-Ratelimit-Reset")
        if response.status == 429 and reset and reset.strip().isdigit():
            value = int(reset)
            if value > 10**11:  # epoch milliseconds
                value = value / 1000
            wait = value - time.time()
            if 0 < wait:
                return min(wait, self.backoff_max)
        return None

    def sleep(self, response=None) -> None:  # noqa: D102 - urllib3 hook: wait on provisioner.clock
        if self.respect_retry_after_header and response is not None:
            retry_after = self.get_retry_after(response)
            if retry_after:
                clock.sleep(retry_after)
                return
        clock.sleep(self.get_backoff_time())


@dataclass
class HttpSettings:
    """Transport settings: timeouts in seconds, retry count, TLS CA bundle (path) or True for the system store."""

    connect_timeout: float = 5.0
    read_timeout: float = 30.0
    retries: int = 5
    backoff_factor: float = 0.25
    backoff_max: float = 30.0
    verify: bool | str = True
    max_in_flight_per_host: int = 16


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


def is_loopback(host: str | None) -> bool:
    """True for ``localhost`` and loopback IP addresses (127.0.0.0/8, ::1)."""
    if not host:
        return False
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_url(url: str, what: str) -> str:
    """Return ``url`` if it is https, or http to a loopback host; else raise :class:`BadInput`."""
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return url
    if parts.scheme == "http" and is_loopback(parts.hostname):
        return url
    if parts.scheme == "http":
        raise BadInput(f"{what}: refusing plain http:// to {parts.hostname}; use https:// "
                       "(plain http is allowed to loopback addresses only)")
    raise BadInput(f"{what}: {url!r} is not an https:// URL")


class SessionPool:
    """One ``requests.Session`` per origin, with retrying adapters and a cap on requests in flight per origin."""

    def __init__(self, settings: HttpSettings | None = None):
        self.settings = settings or HttpSettings()
        self._sessions: dict[str, requests.Session] = {}
        self._gates: dict[str, threading.BoundedSemaphore] = {}
        self._lock = threading.Lock()

    def _origin(self, url: str) -> str:
        p = urlsplit(url)
        return f"{p.scheme}://{p.netloc}".lower()

    def session(self, url: str, *, retry_post: bool = False) -> tuple[requests.Session, threading.BoundedSemaphore]:
        """The session for the URL's origin; ``retry_post`` gives one whose retries also cover POST (for
        idempotent POSTs such as token requests)."""
        origin = self._origin(url)
        key = origin + (" +post" if retry_post else "")
        with self._lock:
            if key not in self._sessions:
                s = requests.Session()
                s.trust_env = False  # proxies/netrc from the environment must not capture credentials
                retry = RateLimitRetry(
                    total=self.settings.retries, connect=self.settings.retries, read=self.settings.retries,
                    status=self.settings.retries, other=0,
                    allowed_methods=RETRY_METHODS | {"POST"} if retry_post else RETRY_METHODS,
                    status_forcelist=RETRY_STATUSES,
                    backoff_factor=self.settings.backoff_factor, backoff_max=self.settings.backoff_max,
                    backoff_jitter=self.settings.backoff_factor, respect_retry_after_header=True,
                    raise_on_status=False, raise_on_redirect=False,
                )
                size = max(self.settings.max_in_flight_per_host, 1)
                adapter = HTTPAdapter(max_retries=retry, pool_connections=1, pool_maxsize=size)
                s.mount(origin, adapter)
                s.verify = self.settings.verify
                self._sessions[key] = s
                self._gates.setdefault(origin, threading.BoundedSemaphore(size))
            return self._sessions[key], self._gates[origin]

    def close(self) -> None:
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


class TokenSource(Protocol):
    """Anything that yields a bearer token and can be told that the token was refused."""

    def token(self) -> str: ...

    def refresh(self) -> None: ...


def parse_error(resp: requests.Response) -> tuple[int | None, str | None, str]:
    """Return ``(code, title, detail)`` from a CF v3, BTP or UAA error body; tolerate non-JSON bodies."""
    try:
        body = resp.json()
    except ValueError:
        text = (resp.text or "").strip().splitlines()
        return None, None, (text[0][:200] if text else resp.reason or "")
    if isinstance(body, dict):
        errs = body.get("errors")
        if isinstance(errs, list) and errs and isinstance(errs[0], dict):
            e = errs[0]
            return e.get("code"), e.get("title"), str(e.get("detail") or "")
        err = body.get("error")
        if isinstance(err, dict):
            msg = str(err.get("message") or "")
            details = err.get("details")
            if isinstance(details, list) and details and isinstance(details[0], dict) and details[0].get("message"):
                msg = f"{msg}: {details[0]['message']}" if msg else str(details[0]["message"])
            return err.get("code"), None, msg
        if isinstance(err, str):
            return None, err, str(body.get("error_description") or "")
        if "description" in body:
            return None, None, str(body["description"])
    return None, None, resp.reason or ""


class HttpClient:
    """A client for one API base URL.

    ``request()`` returns the ``requests.Response`` for an expected status and raises :class:`ApiError` for any
    other. ``token_source`` (optional) supplies ``Authorization: bearer``; on a 401 it is refreshed once and the
    request repeated. ``stats`` counts requests for reports. ``on_request`` (optional) is called with
    ``(method, url, status, seconds)`` after each response (for progress displays); it never sees bodies.
    """

    def __init__(self, base_url: str, *, what: str, token_source: TokenSource | None = None,
                 pool: SessionPool | None = None, stats: RequestStats | None = None,
                 on_request: Callable[[str, str, int, float], None] | None = None):
        self.base_url = check_url(base_url.rstrip("/"), what)
        self.what = what
        self.token_source = token_source
        self.pool = pool or default_pool()
        self.stats = stats if stats is not None else RequestStats()
        self.on_request = on_request

    def url(self, path_or_url: str) -> str:
        """Absolute URL: ``path_or_url`` if absolute, else the base URL + the path (as SAP's samples resolve a
        relative BTP ``Location``; with a path-less base URL this equals a URL join)."""
        if urlsplit(path_or_url).scheme:
            return path_or_url
        if not path_or_url.startswith("/"):
            return urljoin(self.base_url + "/", path_or_url)
        return self.base_url + path_or_url

    def request(self, method: str, path_or_url: str, *, params: dict[str, Any] | None = None,
                json: Any = None, data: dict[str, str] | None = None, headers: dict[str, str] | None = None,
                expect: Iterable[int] = (200,), auth: bool = True, basic: tuple[str, str] | None = None,
                idempotent: bool = False) -> requests.Response:
        """Send a request; ``idempotent`` marks a POST that is safe to repeat (a token request), so the HTTP
        layer's retries cover it too. Raises :class:`ApiError` for any status not in ``expect``."""
        url = self.url(path_or_url)
        check_url(url, self.what)
        expect = tuple(expect)
        refreshed = False
        while True:
            hdrs = {"Accept": "application/json", "User-Agent": "provisioner/0.1"}
            if headers:
                hdrs.update(headers)
            if auth and self.token_source is not None:
                hdrs["Authorization"] = f"bearer {self.token_source.token()}"
            resp = self._send(method, url, params=params, json=json, data=data, headers=hdrs, basic=basic,
                              idempotent=idempotent)
            if (resp.status_code == 401 and auth and self.token_source is not None and not refreshed):
                refreshed = True
                self.token_source.refresh()
                continue
            if resp.status_code in expect:
                return resp
            code, title, detail = parse_error(resp)
            raise ApiError(resp.status_code, code, title, detail, method, _display_url(resp.url or url))

    def _send(self, method, url, *, params, json, data, headers, basic, idempotent) -> requests.Response:
        session, gate = self.pool.session(url, retry_post=idempotent)
        s = self.pool.settings
        start = clock.monotonic()
        with gate:
            try:
                resp = session.request(method, url, params=params, json=json, data=data, headers=headers,
                                       auth=basic, timeout=(s.connect_timeout, s.read_timeout),
                                       allow_redirects=False)
            except requests.exceptions.SSLError as exc:
                raise ApiError(0, None, "TLS", f"TLS verification failed ({type(exc).__name__}); set http.ca_bundle "
                               "in the playbook to your CA bundle", method, _display_url(url)) from None
            except requests.exceptions.RequestException as exc:
                raise ApiError(0, None, "ConnectionError", f"no answer after retries ({type(exc).__name__})",
                               method, _display_url(url)) from None
            finally:
                self.stats.count(method, url)
        took = clock.monotonic() - start
        log.debug("%s %s -> %s (%.3f s)", method, _display_url(url), resp.status_code, took)
        if self.on_request:
            self.on_request(method, url, resp.status_code, took)
        return resp


def _display_url(url: str) -> str:
    """The URL without its query string or userinfo (neither ever carries a secret here, but keep logs short)."""
    p = urlsplit(url)
    host = p.hostname or ""
    if p.port:
        host = f"{host}:{p.port}"
    return f"{p.scheme}://{host}{p.path}"
