"""OAuth 2.0 token sources for UAA (Cloud Foundry) and XSUAA (BTP, Cloud ALM keys).

Implements ``POST <uaa>/oauth/token`` with a form body and HTTP Basic client authentication
(docs/sap-facts.md §8 "UAA token endpoint" and §7.1): the ``password``,
``client_credentials`` and ``refresh_token`` grants. Tokens are cached until 30 s before ``expires_in`` runs out.
Any 401 from the token endpoint means bad credentials (as the cf CLI treats it); a 401 from an API means the token
expired or was revoked early, and the HTTP layer asks for a new one (:meth:`OAuthTokenSource.renew`).
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from typing import Any

from provisioner.clients.answers import uaa as answers
from provisioner.clients.fleetshare import FleetShare, SignIn, secret_digest
from provisioner.clients.http import HttpClient, RequestStats, SessionPool
from provisioner.errors import ApiError, StepFailed, Unauthorized
from provisioner.secret import Secret, register_basic

EARLY_REFRESH_SECONDS = 30.0


@dataclass
class Token:
    """An access token (``Secret``), its optional refresh token, expiry (monotonic seconds) and raw scope string."""

    access: Secret
    refresh: Secret | None
    expires_at: float
    scope: str


def request_token(client: HttpClient, client_id: str, client_secret: Secret, form: dict[str, str],
                  what: str, *, client_is: str = "the client", user_is: str | None = None) -> dict[str, Any]:
    """POST the token request; return the answer read by :func:`provisioner.clients.answers.uaa.token`
    (``access_token``,
    ``expires_in`` in seconds, clamped to 60 s .. 1 day, ``refresh_token`` when given, ``scope`` as a string).

    Raises :class:`StepFailed` with a one-line message on 401 (bad credentials) naming the credential refused:
    ``user_is`` (the user of a password grant, e.g. "the CF user 'me' (cf.username / cf.password)") unless the
    UAA says ``invalid_client``, else ``client_is`` (e.g. "the cis key's client"); :class:`ApiError` otherwise
    (:class:`~provisioner.errors.MalformedAnswer` for a 200 that is not a token answer). The HTTP Basic pair sent
    is registered as a secret in play (:func:`provisioner.secret.register_basic`), so no echo of it is shown.
    """
    register_basic(client_id, client_secret.reveal())
    try:
        resp = client.request("POST", "/oauth/token", data=form, auth=False,
                              basic=(client_id, client_secret.reveal()), expect=(200,), idempotent=True)
    except Unauthorized as exc:
        culprit = user_is if user_is and form.get("grant_type") == "password" and \
            exc.title != "invalid_client" else client_is
        raise StepFailed(f"{what}: the token endpoint {exc.url} refused the credentials of {culprit} "
                         f"({exc.title or 'unauthorized'}: {exc.detail or 'Bad credentials'})") from None
    return answers.token(resp)


class OAuthTokenSource:
    """A cached token from one token endpoint with one grant.

    ``grant`` is ``password`` (needs ``username`` and ``password``; ``origin`` signs in at that identity provider,
    as ``cf auth --origin``: ``login_hint={"origin": ...}``) or ``client_credentials``. ``client_is`` and
    ``user_is`` name the credentials in the message when they are refused (:func:`request_token`).
    With ``password``, an expired token is renewed with the refresh token, falling back to the password grant.
    """

    def __init__(self, uaa_url: str, client_id: str, client_secret: Secret, *, grant: str, what: str,
                 username: str | None = None, password: Secret | None = None, origin: str | None = None,
                 client_is: str = "the client", user_is: str | None = None,
                 pool: SessionPool | None = None, stats: RequestStats | None = None):
        self.client = HttpClient(uaa_url, what=what, pool=pool, stats=stats)
        self.client_id = client_id
        self.client_secret = client_secret
        self.grant = grant
        self.what = what
        self.username = username
        self.password = password
        self.origin = origin
        self.client_is = client_is
        self.user_is = user_is
        self._token: Token | None = None
        self._lock = threading.Lock()

    def _fetch(self, form: dict[str, str]) -> Token:
        body = request_token(self.client, self.client_id, self.client_secret, form, self.what,
                             client_is=self.client_is, user_is=self.user_is)
        expires_in = float(body.get("expires_in") or 600)
        refresh = body.get("refresh_token")
        return Token(Secret(body["access_token"]), Secret(refresh) if refresh else None,
                     time.monotonic() + expires_in, str(body.get("scope") or ""))

    def _grant_form(self) -> dict[str, str]:
        if self.grant == "password":
            assert self.username is not None and self.password is not None
            form = {"grant_type": "password", "username": self.username, "password": self.password.reveal()}
            if self.origin:
                form["login_hint"] = json.dumps({"origin": self.origin}, separators=(",", ":"))
            return form
        return {"grant_type": "client_credentials"}

    def current(self) -> Token:
        token = self._token  # a valid token is read without the lock: in a fleet one source serves every tenant
        if token is not None and time.monotonic() <= token.expires_at - EARLY_REFRESH_SECONDS:
            return token
        with self._lock:
            if self._token is None:
                self._token = self._fetch(self._grant_form())
            elif time.monotonic() > self._token.expires_at - EARLY_REFRESH_SECONDS:
                self._renew()
            return self._token

    def token(self) -> str:
        return self.current().access.reveal()

    def refresh(self) -> None:
        """Called after a 401: renew now (refresh token first, then the original grant)."""
        with self._lock:
            self._renew()

    def sign_in_again(self) -> None:
        """Called after a refreshed token was refused too: a new token from the original grant."""
        with self._lock:
            self._token = self._fetch(self._grant_form())

    def renew(self, refused: str, *, again: bool = False) -> None:
        """Called after an API answered 401 to the token ``refused``: unless another request (of this run, or of a
        fleet's tenant sharing this source) renewed it since, a new token: by the refresh token, or (``again``: a
        renewed token was refused too) by the original grant. Raises :class:`StepFailed` when the token endpoint
        refuses the credentials, :class:`ApiError` for its other failures (transient ones retried first)."""
        with self._lock:
            if self._token is not None and self._token.access.reveal() != refused:
                return
            if again:
                self._token = self._fetch(self._grant_form())
            else:
                self._renew()

    def _renew(self) -> None:
        if self._token is not None and self._token.refresh is not None:
            try:
                self._token = self._fetch({"grant_type": "refresh_token",
                                           "refresh_token": self._token.refresh.reveal()})
                return
            except (ApiError, StepFailed):
                pass
        self._token = self._fetch(self._grant_form())


#: claims already read, by the SHA-256 of their token (never the token itself): a fleet's tenants share one CF
#: sign-in, and each reads its claims; at most _CLAIMS_KEPT, then forgotten all at once
_claims_read: dict[bytes, dict[str, Any]] = {}
_CLAIMS_KEPT = 256


def claims(access_token: str) -> dict[str, Any]:
    """The claims of a JWT access token, read without verifying the signature (for display and scope checks
    only, never to trust it); {} for an opaque token. A new dict each call; its values are shared: read them only."""
    import hashlib

    import jwt

    digest = hashlib.sha256(access_token.encode()).digest()
    known = _claims_read.get(digest)
    if known is not None:
        return dict(known)
    try:
        value = jwt.decode(access_token, options={"verify_signature": False})
    except jwt.PyJWTError:
        return {}
    if not isinstance(value, dict):
        return {}
    if len(_claims_read) >= _CLAIMS_KEPT:
        _claims_read.clear()
    _claims_read[digest] = value
    return dict(value)


def shared_token_source(uaa_url: str, client_id: str, client_secret: Secret, *, grant: str, what: str,
                        username: str | None = None, password: Secret | None = None, origin: str | None = None,
                        client_is: str = "the client", user_is: str | None = None,
                        pool: SessionPool | None = None, stats: RequestStats | None = None,
                        share: FleetShare | None = None) -> OAuthTokenSource:
    """An :class:`OAuthTokenSource`, one per set of identical credentials among the runs sharing ``share`` (a run's
    or a fleet's, :attr:`FleetShare.sign_ins`): keyed by token endpoint, grant, client id, user and a digest of client
    secret and password (:class:`~provisioner.clients.fleetshare.SignIn`), so a fleet of tenants signing in with the
    same key asks for one token, and different credentials never share one. Without a share: a new source. Its token
    requests go through ``pool`` and count in ``stats`` of the run that made it."""

    def make() -> OAuthTokenSource:
        return OAuthTokenSource(uaa_url, client_id, client_secret, grant=grant, what=what, username=username,
                                password=password, origin=origin, client_is=client_is, user_is=user_is, pool=pool,
                                stats=stats)

    if share is None:
        return make()
    key = SignIn(uaa_url.rstrip("/").lower(), grant, client_id, username, origin,
                 secret_digest(client_secret.reveal(), password.reveal() if password is not None else None))
    return share.sign_ins.once(key, make)
