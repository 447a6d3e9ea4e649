"""The HTTP layer shared by every API client (CF, UAA/XSUAA, BTP).

- One pooled ``requests.Session`` per origin (scheme, host, port), shared by all clients and threads of a process.
- A cap on the requests in flight to each origin over all the pool's users (:mod:`provisioner.inflight`): fixed
  (``HttpSettings.max_in_flight_per_host``), or by default adapting to the host (grows on fast answers, halves on
  429 and on answers much slower than the host's recent median); :meth:`SessionPool.caps` reports what it did.
- Connect and read timeouts on every request (seconds; default 5 and 30).
- Retries with exponential backoff and jitter (urllib3 ``Retry``) on 429, 502, 503, 504 and on connection errors,
  for GET, PUT, DELETE and HEAD; ``Retry-After`` and ``X-RateLimit-Reset`` are honoured. A connection that fails
  before a POST is sent is retried too; a POST that may have reached the server is never repeated blindly: the step
  that sent it re-reads the state and adopts what exists.
- A 401 on a request made with a token refreshes the token once and repeats the request.
- Proxies from ``HTTPS_PROXY``/``HTTP_PROXY``/``NO_PROXY`` (the playbook's ``http.proxy`` wins), never ``~/.netrc``.
- TLS verification is on; a CA bundle can be given (else ``REQUESTS_CA_BUNDLE``/``SSL_CERT_FILE``). Plain
  ``http://`` is refused except to loopback addresses; a token goes only to the origin it was issued for; what a
  server echoes of a secret is removed (:mod:`provisioner.http_guards`).
- Errors become :class:`provisioner.errors.ApiError` carrying the API's code, title and detail (CF v3 envelope
  ``{"errors":[...]}``, BTP ``{"error":{...}}``, UAA ``{"error": "...", "error_description": "..."}``).
- ``--verbose`` logging (logger ``provisioner.http``) prints method, URL, status and duration only: headers and
  bodies, which carry tokens, passwords and client secrets, are never logged.
"""

from __future__ import annotations

import logging
import os
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
from provisioner.errors import ApiError, StepFailed
from provisioner.fleetshare import FleetShare
from provisioner.http_guards import (
    ca_bundle,
    check_url,
    display_url,
    is_loopback,
    json_or_refuse,
    origin_of,
    parse_error,
    refused,
    retried_on_429,
    scrub,
)
from provisioner.inflight import CEILING, CapReport, InFlightCap
from provisioner.jobtimes import JobTimes, store_path

log = logging.getLogger("provisioner.http")
logging.getLogger("provisioner").addHandler(logging.NullHandler())  # a library: the application logs

RETRY_STATUSES = (429, 502, 503, 504)
RETRY_METHODS = frozenset({"GET", "PUT", "DELETE", "HEAD"})
#: the environment variables that decide a request's proxy (as urllib's getproxies_environment reads them)
PROXY_VARIABLES = (*(case(f"{scheme}_proxy") for scheme in ("http", "https", "all", "no") for case in (str, str.upper)),
                   "REQUEST_METHOD")
SECRET_FORM_FIELDS = frozenset({"password", "client_secret", "refresh_token", "assertion", "code"})


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
    """Transport settings: timeouts in seconds, retry count, TLS CA bundle (path) or True for the environment's
    (``REQUESTS_CA_BUNDLE``, ``SSL_CERT_FILE``, ``CURL_CA_BUNDLE``) else the system store, and a proxy URL that
    wins over ``HTTPS_PROXY``/``HTTP_PROXY``/``NO_PROXY``."""

    connect_timeout: float = 5.0
    read_timeout: float = 30.0
    retries: int = 5
    backoff_factor: float = 0.25
    backoff_max: float = 30.0
    verify: bool | str = True
    #: requests in flight per API host over all tenants: None = adaptive (:mod:`provisioner.inflight`), else fixed
    max_in_flight_per_host: int | None = None
    proxy: str | None = None
    #: Service Manager instance creates a minute, shared by a fleet's runs (:mod:`provisioner.budget`)
    sm_creates_per_minute: float = 50.0


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


def pool_origin(url: str) -> str:
    """``scheme://netloc`` of ``url`` in lower case: what the pool keeps one session (and one cap) for."""
    p = urlsplit(url)
    return f"{p.scheme}://{p.netloc}".lower()


class SessionPool:
    """One ``requests.Session`` per origin, with retrying adapters and a cap on requests in flight per origin;
    ``shared`` (sign-ins, lookups) and ``job_times`` (job durations, :mod:`provisioner.jobtimes`) are what the runs
    using the pool (one fleet run) learn once and share."""

    def __init__(self, settings: HttpSettings | None = None):
        self.settings = settings or HttpSettings()
        self._sessions: dict[str, requests.Session] = {}
        self._gates: dict[str, InFlightCap] = {}
        self._proxies: dict[tuple[str | None, ...], dict[str, str]] = {}
        self._lock = threading.Lock()
        #: sign-ins and lookups shared by the runs that use this pool (one fleet run)
        self.shared = FleetShare()
        #: how long each kind of async job took, for the polls of the runs that use this pool (and kept between
        #: runs: :func:`provisioner.jobtimes.store_path`; saved by :meth:`close`)
        self.job_times = JobTimes(store=store_path())

    def session(self, url: str, *, retry_post: bool = False,
                origin: str | None = None) -> tuple[requests.Session, InFlightCap]:
        """The session for the URL's origin (``origin``: that origin, ``scheme://netloc`` in lower case, when the
        caller knows it); ``retry_post`` gives one whose retries also cover POST (for idempotent POSTs such as
        token requests). On a loopback origin a refused connection is not retried: nothing listens there, and
        waiting will not change that."""
        origin = origin or pool_origin(url)
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
                retry = RateLimitRetry(
                    total=n, connect=0 if is_loopback(urlsplit(url).hostname) else n, read=n, status=n, other=0,
                    allowed_methods=RETRY_METHODS | {"POST"} if retry_post else RETRY_METHODS,
                    status_forcelist=RETRY_STATUSES,
                    backoff_factor=self.settings.backoff_factor, backoff_max=self.settings.backoff_max,
                    backoff_jitter=self.settings.backoff_factor, respect_retry_after_header=True,
                    raise_on_status=False, raise_on_redirect=False,
                )
                fixed = self.settings.max_in_flight_per_host
                size = CEILING if fixed is None else max(fixed, 1)
                adapter = HTTPAdapter(max_retries=retry, pool_connections=1, pool_maxsize=size)
                s.mount(origin, adapter)
                s.verify = ca_bundle(self.settings.verify)
                self._gates.setdefault(origin, InFlightCap(fixed))
                self._sessions[key] = s
            return self._sessions[key], self._gates[origin]

    def caps(self) -> dict[str, CapReport]:
        """``{origin: CapReport}``: what the in-flight cap of each API host did (see :mod:`provisioner.inflight`)."""
        with self._lock:
            gates = dict(self._gates)
        return {origin: gate.report() for origin, gate in gates.items()}

    def proxies_for(self, url: str, origin: str | None = None) -> dict[str, str]:
        """The proxy for ``url`` (``origin``: its origin, as :meth:`session` takes it): ``http.proxy`` from the
        playbook, else ``HTTPS_PROXY``/``HTTP_PROXY`` unless ``NO_PROXY`` names the host (as curl and requests read
        them); {} for none."""
        if self.settings.proxy:
            return {"http": self.settings.proxy, "https": self.settings.proxy}
        # requests scans the whole environment for them (about 1 ms a request): once per origin and proxy setting
        key = (origin or pool_origin(url), *map(os.environ.get, PROXY_VARIABLES))
        found = self._proxies.get(key)
        if found is None:
            found = self._proxies[key] = requests.utils.get_environ_proxies(url)
        return dict(found)

    def close(self) -> None:
        """Close the sessions and keep the job durations learned (:meth:`JobTimes.save`)."""
        with self._lock:
            for s in self._sessions.values():
                s.close()
            self._sessions.clear()
        self.job_times.save()


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

    def sign_in_again(self) -> None: ...


class HttpClient:
    """A client for one API base URL.

    ``request()`` returns the ``requests.Response`` for an expected status and raises :class:`ApiError` for any
    other. ``token_source`` (optional) supplies ``Authorization: bearer``; on a 401 it is refreshed and the request
    repeated, and on a second 401 it signs in again with its original grant. A token goes only to the client's own
    origin: an absolute URL the API hands back (``Location``, ``pagination.next.href``) at another host is refused.
    ``stats`` counts requests for reports. ``on_request`` (optional) is called with
    ``(method, url, status, seconds)`` after each response (for progress displays); it never sees bodies.
    """

    def __init__(self, base_url: str, *, what: str, token_source: TokenSource | None = None,
                 pool: SessionPool | None = None, stats: RequestStats | None = None,
                 on_request: Callable[[str, str, int, float], None] | None = None):
        self.base_url = check_url(base_url.rstrip("/"), what)
        self.what = what
        #: origins a bearer token may go to: the API's own (the one the token was asked for)
        self.token_origins = {origin_of(self.base_url)}
        #: a URL that starts with this is on the base URL's origin, which was checked above: neither it nor the
        #: token's origin is checked again for it (once per request otherwise: URL parsing, about 30 us)
        self._own_prefix = self.base_url + "/"
        self._origin = pool_origin(self.base_url)
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
                idempotent: bool = False, cert: tuple[str, str] | None = None) -> requests.Response:
        """Send a request; ``idempotent`` marks a POST that is safe to repeat (a token request), so the HTTP
        layer's retries cover it too; ``cert``: a client certificate and its private key (PEM file paths) for
        mutual TLS. Raises :class:`ApiError` for any status not in ``expect``."""
        url = self.url(path_or_url)
        own = url.startswith(self._own_prefix)
        if not own:
            check_url(url, self.what)
        with_token = auth and self.token_source is not None
        if with_token and not own and origin_of(url) not in self.token_origins:
            raise StepFailed(f"{self.what}: the API pointed to {display_url(url)}, another host than "
                             f"{display_url(self.base_url)}; the token is only sent to the origin it was issued "
                             "for, so the request was not made")
        expect = tuple(expect)
        refreshed = 0
        while True:
            hdrs = {"Accept": "application/json", "User-Agent": "provisioner/0.1"}
            if headers:
                hdrs.update(headers)
            if clock.cancelled():  # Ctrl-C: nothing new is sent
                clock.check_cancelled(f"{method} {display_url(url)}")
            token = self.token_source.token() if with_token and self.token_source is not None else None
            if token is not None:
                hdrs["Authorization"] = f"bearer {token}"
            resp = self._send(method, url, params=params, json=json, data=data, headers=hdrs, basic=basic,
                              idempotent=idempotent, own=own, cert=cert)
            if resp.status_code == 401 and with_token and self.token_source is not None and refreshed < 2:
                # first the refresh token; if the new token is refused too, sign in again with the original grant
                refreshed += 1
                if refreshed == 1:
                    self.token_source.refresh()
                else:
                    self.token_source.sign_in_again()
                continue
            if resp.status_code in expect:
                return json_or_refuse(resp, method)
            code, title, detail = parse_error(resp)
            sent = [token or "", *(basic or ("", ""))[1:], *(v for k, v in (data or {}).items()
                                                             if k in SECRET_FORM_FIELDS)]
            raise ApiError(resp.status_code, code, scrub(title, sent) if title else title, scrub(detail, sent),
                           method, display_url(resp.url or url))

    def _send(self, method, url, *, params, json, data, headers, basic, idempotent,
              own: bool = False, cert: tuple[str, str] | None = None) -> requests.Response:
        origin = self._origin if own else None
        session, gate = self.pool.session(url, retry_post=idempotent, origin=origin)
        s = self.pool.settings
        start = clock.monotonic()
        ticket = gate.enter()
        sent, status, throttled = clock.monotonic(), None, False
        try:
            resp = session.request(method, url, params=params, json=json, data=data, headers=headers,
                                   auth=basic, timeout=(s.connect_timeout, s.read_timeout), cert=cert,
                                   allow_redirects=False, proxies=self.pool.proxies_for(url, origin) or None)
            # (no proxy: None rather than {}, so that requests has no two proxy settings to merge per request)
            status, throttled = resp.status_code, retried_on_429(resp)
        except requests.exceptions.SSLError as exc:
            raise ApiError(0, None, "TLS", f"TLS verification failed ({type(exc).__name__}); set http.ca_bundle "
                           "in the playbook to your CA bundle", method, display_url(url)) from None
        except requests.exceptions.RequestException as exc:
            if refused(exc):
                raise ApiError(0, None, "ConnectionRefused", "nothing answers at this address (connection "
                               "refused): is the API running, and is the URL right?", method,
                               display_url(url)) from None
            raise ApiError(0, None, "ConnectionError", f"no answer after retries ({type(exc).__name__})",
                           method, display_url(url)) from None
        finally:
            gate.leave(ticket, clock.monotonic() - sent, status, throttled, write=method not in ("GET", "HEAD"))
            self.stats.count(method, url)
        took = clock.monotonic() - start
        if log.isEnabledFor(logging.DEBUG):
            log.debug("%s %s -> %s (%.3f s)", method, display_url(url), resp.status_code, took)
        if self.on_request:
            self.on_request(method, url, resp.status_code, took)
        return resp
