"""The HTTP layer shared by every API client (CF, UAA/XSUAA, BTP).

- One pooled ``requests.Session`` per origin (scheme, host, port), shared by all clients and threads of a process.
- A cap on the requests in flight to each origin over all the pool's users (:mod:`provisioner.clients.inflight`): fixed
  (``HttpSettings.max_in_flight_per_host``), or by default adapting to the host (grows on fast answers, halves on
  429 and on answers much slower than the host's recent median); :meth:`SessionPool.caps` reports what it did.
- Every URL is parsed once, by urllib3's parser, and refused where another parser reads another host
  (:mod:`provisioner.clients.http_urls`); credentials (a bearer token, Basic auth, an ``Authorization`` header) go
  only to
  the client's own origin, the one that issued them. ``--verbose`` logs the origin each request went to.
- Bounds (:class:`HttpSettings`): connect and read timeouts (5 s, 30 s); a total limit per request, retries and
  their waits included, that a server dripping bytes cannot outlast (``request_timeout``, 300 s;
  :mod:`provisioner.clients.http_watch`); the run's time limit (:func:`provisioner.clock.deadline`); answers of at most
  ``max_body_bytes`` (32 MiB) on the wire and inflated (:mod:`provisioner.clients.http_body`); lists of at most
  ``max_pages`` pages (1000), a page never read twice (:class:`Pages`).
- Retries with exponential backoff and jitter (urllib3 ``Retry``) on 429, 502, 503, 504 and on connection errors,
  for GET, PUT, DELETE and HEAD; ``Retry-After`` and ``X-RateLimit-Reset`` are honoured up to ``max_retry_wait``
  (120 s; :mod:`provisioner.clients.http_retry`). A connection that fails before a POST is sent is retried too; a POST
  that
  may have reached the server is never repeated blindly: the step that sent it re-reads the state and adopts what
  exists.
- A 401 on a request made with a token is a token that expired (or was revoked) early: the token is renewed (first
  the refresh token, then the original grant) and the request repeated, up to :data:`TOKEN_RENEWALS` times with a
  growing pause; refused credentials are only reported when the token endpoint itself refuses them.
- Proxies from ``HTTPS_PROXY``/``HTTP_PROXY``/``NO_PROXY`` (the playbook's ``http.proxy`` wins), never ``~/.netrc``.
- TLS verification is on; a CA bundle can be given (else ``REQUESTS_CA_BUNDLE``/``SSL_CERT_FILE``). Plain
  ``http://`` is refused except to loopback addresses; a token goes only to the origin it was issued for; what a
  server echoes of a secret is removed (:mod:`provisioner.clients.http_guards`).
- Errors become :class:`provisioner.errors.ApiError` carrying the API's code, title and detail (CF v3 envelope
  ``{"errors":[...]}``, BTP ``{"error":{...}}``, UAA ``{"error": "...", "error_description": "..."}``), typed once
  here by what they mean (:mod:`provisioner.clients.http_errors`: ``NotFound``, ``NameTaken``, ``Transient``, ...).
- ``--verbose`` logging (logger ``provisioner.clients.http``) prints method, origin and path, status and duration only:
  headers and bodies, which carry tokens, passwords and client secrets, are never logged.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any, Protocol
from urllib.parse import urljoin

import requests
import urllib3

from provisioner import clock, safetext
from provisioner.clients.http_body import ACCEPT_ENCODING, read_body
from provisioner.clients.http_errors import error_type
from provisioner.clients.http_guards import (
    ambiguity,
    check_url,
    has_scheme,
    json_or_refuse,
    parse_error,
    refused,
    retried_on_429,
    scrub,
    shown_url,
)
from provisioner.clients.http_pool import HttpSettings, RequestStats, SessionPool, default_pool
from provisioner.clients.http_urls import Target, target
from provisioner.clients.http_watch import Exchange, watching
from provisioner.errors import (
    BadInput,
    Disconnected,
    NoAnswer,
    PageLoop,
    ProvisionerError,
    TimedOut,
    TlsFailed,
    TokensRefused,
    UnsafeLink,
)

__all__ = ["TOKEN_RENEWALS", "HttpClient", "HttpSettings", "Pages", "RequestStats", "SessionPool", "TokenSource",
           "default_pool"]

log = safetext.logger("provisioner.http")  # every line shown (no secret, no control character)
logging.getLogger("provisioner").addHandler(logging.NullHandler())  # a library: the application logs

SECRET_FORM_FIELDS = frozenset({"password", "client_secret", "refresh_token", "assertion", "code"})


class TokenSource(Protocol):
    """Anything that yields a bearer token and can be told that the token was refused. A source may also offer
    ``renew(refused_token, again)`` (:class:`provisioner.clients.uaa.OAuthTokenSource`): renew unless another request
    renewed since, by the refresh token (``again`` False) or the original grant."""

    def token(self) -> str: ...

    def refresh(self) -> None: ...

    def sign_in_again(self) -> None: ...


#: how often a request answered 401 gets a new token and is sent again before the 401 stands
TOKEN_RENEWALS = 4


class Pages:
    """The pages of one list: :meth:`next` before each page after the first, with the page's link or token; raises
    :class:`~provisioner.errors.PageLoop` for a link or token seen before, or past ``limit`` pages."""

    def __init__(self, what: str, limit: int, first: str | None = None) -> None:
        self.what, self.limit, self.read, self.seen = what, limit, 1, {first} if first else set[str]()

    def next(self, link: str) -> None:
        if link in self.seen:
            pages = f"{self.read} page{'s' if self.read > 1 else ''}"
            raise PageLoop(f"{self.what}: the next page {shown_url(link, 100)} was read already in this list: "
                           f"the API's pagination loops; stopped after {pages} (report it to the API's operator)")
        if self.read >= self.limit:
            raise PageLoop(f"{self.what}: more than {self.limit} pages (http.max_pages); stopped: a list that "
                           "never ends? raise http.max_pages if it is really that long")
        self.seen.add(link)
        self.read += 1


class HttpClient:
    """A client for one API base URL.

    ``request()`` returns the ``requests.Response`` for an expected status and raises :class:`ApiError` for any
    other. ``token_source`` (optional) supplies ``Authorization: bearer``; on a 401 a new token is asked for and the
    request repeated (module docstring). Credentials go only to the client's own origin: an absolute URL the API
    hands back (``Location``, ``pagination.next.href``) at another origin, or one that parsers read differently, is
    refused (:class:`~provisioner.errors.UnsafeLink`) before anything is sent. ``stats`` counts requests for
    reports. ``on_request`` (optional) is called with ``(method, url, status, seconds)`` after each response (for
    progress displays); it never sees bodies.
    """

    def __init__(self, base_url: str, *, what: str, token_source: TokenSource | None = None,
                 pool: SessionPool | None = None, stats: RequestStats | None = None,
                 on_request: Callable[[str, str, int, float], None] | None = None):
        self.base_url = check_url(base_url.rstrip("/"), what)
        self.what = what
        try:
            self.target = target(self.base_url)
        except UnsafeLink as exc:
            raise BadInput(f"{what}: {exc}; write the URL plainly, e.g. https://api.example.com") from None
        #: the origin credentials go to: the API's own (the one the token was asked for)
        self.origin = self.target.origin
        #: a URL that starts with this is on the base URL's origin (the authority ends at its "/"): it is not
        #: parsed again (about 30 us a request), only checked for characters no URL may hold
        self._own_prefix = self.base_url + "/"
        self.token_source = token_source
        self.pool = pool or default_pool()
        self.stats = stats if stats is not None else RequestStats()
        self.on_request = on_request

    def url(self, path_or_url: str) -> str:
        """Absolute URL: ``path_or_url`` if absolute, else the base URL + the path (as SAP's samples resolve a
        relative BTP ``Location``; with a path-less base URL this equals a URL join)."""
        if has_scheme(path_or_url):
            return path_or_url
        if not path_or_url.startswith("/"):
            return urljoin(self.base_url + "/", path_or_url)
        return self.base_url + path_or_url

    def where(self, url: str) -> Target:
        """The :class:`Target` of an absolute URL; raises :class:`~provisioner.errors.UnsafeLink` naming the URL."""
        if url.startswith(self._own_prefix) and ambiguity(url) is None:
            rest = url[len(self.base_url):].split("?", 1)[0].split("#", 1)[0]
            return Target(url, self.origin, self.target.site, self.target.path + rest)
        try:
            return target(url)
        except UnsafeLink as exc:
            raise UnsafeLink(f"{self.what}: {exc}; no request was sent to it: an API (or a proxy in between) that "
                             "hands back such a link is broken or hostile: report it to its operator") from None

    def request(self, method: str, path_or_url: str, *, params: dict[str, Any] | None = None,
                json: Any = None, data: dict[str, str] | None = None, headers: dict[str, str] | None = None,
                expect: Iterable[int] = (200,), auth: bool = True, basic: tuple[str, str] | None = None,
                idempotent: bool = False, cert: tuple[str, str] | None = None) -> requests.Response:
        """Send a request; ``idempotent`` marks a POST that is safe to repeat (a token request), so the HTTP
        layer's retries cover it too; ``cert``: a client certificate and its private key (PEM file
        paths) for mutual TLS. Raises :class:`ApiError` for any status not in ``expect``, the bounds'
        errors (:mod:`provisioner.errors`: ``UnsafeLink``, ``Throttled``, ``TimedOut``, ``TooLarge``,
        ``RunTimeout``) and :class:`~provisioner.errors.Interrupted` after Ctrl-C."""
        where = self.where(self.url(path_or_url))
        source = self.token_source if auth else None
        with_credentials = source is not None or basic is not None or any(
            k.lower() == "authorization" for k in headers or ())
        if with_credentials and where.origin != self.origin:
            raise UnsafeLink(f"{self.what}: the API pointed to {where.display}, another host than "
                             f"{self.target.display}; the token is only sent to the origin it was issued for, so "
                             "the request was not made")
        expect = tuple(expect)
        renewals = 0
        while True:
            hdrs = {"Accept": "application/json", "Accept-Encoding": ACCEPT_ENCODING, "User-Agent": "provisioner/0.1"}
            if headers:
                hdrs.update(headers)
            token = source.token() if source is not None else None
            if token is not None:
                hdrs["Authorization"] = f"bearer {token}"
            resp = self._send(method, where, params=params, json=json, data=data, headers=hdrs, basic=basic,
                              idempotent=idempotent, cert=cert)
            if resp.status_code == 401 and source is not None and token is not None and renewals < TOKEN_RENEWALS:
                renewals += 1  # expired or revoked early: a new token, sent at once (a pause first after the first)
                if renewals > 1:
                    clock.sleep(min(1.0, 0.1 * 2 ** (renewals - 2)))
                renew = getattr(source, "renew", None)
                if renew is not None:
                    renew(token, again=renewals > 1)
                else:
                    source.refresh() if renewals == 1 else source.sign_in_again()
                continue
            if resp.status_code in expect:
                return json_or_refuse(resp, method)
            code, title, detail = parse_error(resp)
            sent = [token or "", *(basic or ("", ""))[1:], *(v for k, v in (data or {}).items()
                                                             if k in SECRET_FORM_FIELDS)]
            kind = TokensRefused if resp.status_code == 401 and renewals else \
                error_type(method, resp.status_code, code, detail)
            error = kind(resp.status_code, code, scrub(title, sent) if title else title, scrub(detail, sent), method,
                         where.display)
            if kind is TokensRefused:
                error.with_hint(f"the API refused {renewals + 1} tokens in a row, each just issued by its token "
                                "endpoint, which accepted the credentials; re-run, or check that the API and its "
                                "token endpoint belong together")
            raise error

    def _send(self, method: str, where: Target, *, params: dict[str, Any] | None, json: Any,
              data: dict[str, str] | None, headers: dict[str, str], basic: tuple[str, str] | None,
              idempotent: bool, cert: tuple[str, str] | None = None) -> requests.Response:
        clock.check_cancelled(f"{method} {where.display}")  # Ctrl-C: nothing new is sent
        if clock.remaining() <= 0:
            limit = clock.current_deadline()
            raise TimedOut(0, None, "Timeout", f"{limit.describe() if limit else 'the time limit'} ran out before "
                           "this request", method, where.display, "re-run (what is in flight is adopted) or raise "
                           "--timeout")
        session, gate = self.pool.session(where, retry_post=idempotent)
        s = self.pool.settings
        exchange = Exchange(method, where.display, s.request_timeout, s.max_retry_wait)
        left = max(0.001, exchange.left())
        timeout = (min(s.connect_timeout, left), min(s.read_timeout, left))
        ticket = gate.enter()
        sent, status, throttled = clock.monotonic(), None, False
        try:
            with watching(exchange):
                try:
                    resp = session.request(method, where.url, params=params, json=json, data=data, headers=headers,
                                           auth=basic, timeout=timeout, cert=cert, allow_redirects=False, stream=True,
                                           proxies=self.pool.proxies_for(where) or None)
                    # (no proxy: None rather than {}, so that requests has no two proxy settings to merge)
                    status, throttled = resp.status_code, retried_on_429(resp)
                    resp._content = read_body(resp, s.max_body_bytes, method, where.display)
                except ProvisionerError:
                    raise
                except (requests.exceptions.RequestException, urllib3.exceptions.HTTPError, OSError) as exc:
                    if exchange.expired or exchange.left() <= 0:
                        raise exchange.timed_out() from None
                    raise _failed(exc, method, where) from None
        finally:
            gate.leave(ticket, clock.monotonic() - sent, status, throttled, write=method not in ("GET", "HEAD"))
            self.stats.count(method, where.url)
        took = clock.monotonic() - exchange.started
        if log.isEnabledFor(logging.DEBUG):
            log.debug("%s %s%s -> %s (%.3f s)", method, where.origin, where.path, resp.status_code, took)
        if self.on_request:
            self.on_request(method, where.url, resp.status_code, took)
        return resp


def _failed(exc: BaseException, method: str, where: Target) -> NoAnswer:
    """The error of a request that got no (whole) answer: :class:`~provisioner.errors.Disconnected` (transient;
    :class:`~provisioner.errors.TlsFailed` when TLS verification failed), or :class:`~provisioner.errors.NoAnswer`
    when nothing listens there."""
    if isinstance(exc, requests.exceptions.SSLError):
        return TlsFailed(0, None, "TLS", f"TLS verification failed ({type(exc).__name__}); set http.ca_bundle in the "
                         "playbook to your CA bundle", method, where.display)
    if refused(exc):
        return NoAnswer(0, None, "ConnectionRefused", "nothing answers at this address (connection refused): is "
                        "the API running, and is the URL right?", method, where.display)
    return Disconnected(0, None, "ConnectionError", f"no answer after retries ({type(exc).__name__})", method,
                        where.display)
