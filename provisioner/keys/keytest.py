""""Test Service Key", as Landscape Management's button does, and more: sign in with the key and check the token
the key's XSUAA issues as SAP's security library (sap-xssec) would before trusting it.

1. ``POST {uaa.url}/oauth/token`` with ``grant_type=client_credentials`` and HTTP Basic ``clientid:clientsecret``
   (docs/sap-facts.md §4.7); an x509 key: first its certificate's expiry (an expired one fails, naming its date,
   and nothing is sent), then ``POST {uaa.certurl}/oauth/token`` with ``client_id`` over mutual TLS with
   ``uaa.certificate`` and ``uaa.key`` (as sap-xssec signs in with an x509 key).
2. signature: ``RS256``/``PS*``/``ES*`` only (never ``HS256``), with the key ``kid`` of the zone's JWKS, read from
   the token's ``jku`` header only when that URL's host is the host of ``uaa.url`` or a subdomain of
   ``uaa.uaadomain``; otherwise (or when the JWKS cannot be read) with the PEM public key ``uaa.verificationkey``.
3. expiry: ``exp`` is in the future (wall-clock epoch seconds).
4. identity zone: ``ext_attr.zdn`` is ``uaa.identityzone`` and ``zid`` is each of ``uaa.identityzoneid``,
   ``uaa.tenantid`` and ``uaa.zoneid`` the key has.
5. client: ``cid`` (and ``client_id``/``azp`` when present) is ``uaa.clientid``.
6. one check per required scope, matched by suffix after the ``<xsmasterappname>.`` prefix, as SAP's
   /SDF/ALM_SETUP "Token Scopes Check" does.
7. with ``api``: ``GET {endpoints.Api}/calm-projects/v1/projects?$top=1`` with the token (2xx passes; 401 is a
   refused token, 403 a token without the API's scope).

Each is one :class:`~provisioner.keys.keyfile.Check`; no message carries the client secret or the token.
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import urlsplit

import jwt

from provisioner.clients.answers import uaa as answers
from provisioner.clients.answers.keys import check_key_fields
from provisioner.clients.atonce import at_once
from provisioner.clients.http import HttpClient, RequestStats, SessionPool
from provisioner.clients.http_guards import display_url
from provisioner.clients.uaa import claims as read_claims
from provisioner.clients.uaa import request_token
from provisioner.errors import ApiError, BadInput, Interrupted, MalformedAnswer, ProvisionerError, StepFailed, TlsFailed
from provisioner.keys.keyfile import Check, certificate_check
from provisioner.keys.mtls import certificate_token
from provisioner.keys.x509key import is_x509
from provisioner.secret import Secret

DEFAULT_REQUIRED_SCOPES = ("imp-cdm-feature-display-ui", "imp-cdm-feature-manage-ui")
ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512")  # as sap-xssec
API_PROBE = "calm-projects/v1/projects?$top=1"
SIGN_IN = "sign in (client credentials)"
SIGN_IN_X509 = "sign in (client certificate at uaa.certurl)"


def token_scopes(access_token: str) -> list[str]:
    """The ``scope`` claim of a JWT access token (signature not verified), or [] for an opaque token."""
    return _scopes(read_claims(access_token))


def _scopes(claims: dict[str, Any]) -> list[str]:
    scope = claims.get("scope") or []
    return scope.split() if isinstance(scope, str) else [str(s) for s in scope]


def has_scope(scopes: list[str], wanted: str) -> bool:
    return any(s == wanted or s.endswith("." + wanted) for s in scopes)


def test_key(creds: dict[str, Any], *, required_scopes: tuple[str, ...] = DEFAULT_REQUIRED_SCOPES,
             pool: SessionPool | None = None, stats: RequestStats | None = None,
             source: str = "the key", api: bool = False) -> list[Check]:
    """Sign in with the key and return the checks listed in the module docstring (only the sign-in check when
    the sign-in fails). Raises :class:`BadInput` when the key lacks ``uaa.url``/``uaa.clientid``/
    ``uaa.clientsecret`` (or, with ``api``, ``endpoints.Api``), or a field of the wrong type or length
    (:func:`provisioner.clients.answers.keys.check_key_fields`); :class:`ApiError` for a transient failure of the token
    endpoint (the caller may try again). Never puts the secret or the token in a message."""
    check_key_fields(creds, source)
    uaa = _section(creds, "uaa")
    url, cid, secret = uaa.get("url"), uaa.get("clientid"), uaa.get("clientsecret")
    x509 = is_x509(creds)
    certurl = uaa.get("certurl")
    if x509 and not (isinstance(url, str) and isinstance(cid, str) and isinstance(certurl, str)):
        raise BadInput(f"{source}: the x509 key lacks uaa.url, uaa.clientid or uaa.certurl; it cannot sign in")
    if not x509 and not (isinstance(url, str) and isinstance(cid, str) and isinstance(secret, str)):
        raise BadInput(f"{source}: the key lacks uaa.url, uaa.clientid or uaa.clientsecret; it cannot sign in")
    assert isinstance(url, str) and isinstance(cid, str)
    api_url = _section(creds, "endpoints").get("Api")
    if api and not isinstance(api_url, str):
        raise BadInput(f"{source}: the key lacks endpoints.Api; --api cannot call the Cloud ALM API")
    first: list[Check] = []
    if x509:  # a certificate that ran out is named with its date, before any sign-in
        first = [certificate_check(creds)]
        if not first[0].passed:
            return first
    name = SIGN_IN_X509 if x509 else SIGN_IN
    endpoint = (str(certurl) if x509 else url).rstrip("/") + "/oauth/token"

    def sign_in() -> dict[str, Any] | Check:
        try:
            if x509:
                return certificate_token(str(certurl), cid, creds, source, pool=pool, stats=stats)
            return request_token(HttpClient(url, what="key's XSUAA (uaa.url)", pool=pool, stats=stats), cid,
                                 Secret(str(secret)), {"grant_type": "client_credentials"}, "key test",
                                 client_is=f"the key file's client ({source}: uaa.clientid / uaa.clientsecret)")
        except ApiError as exc:
            if exc.transient and not isinstance(exc, TlsFailed):
                raise  # the run's step engine tries again; only a refusal is the key's failure
            return Check(name, False, str(exc))
        except StepFailed as exc:
            return Check(name, False, str(exc))

    # the zone's token keys (where XSUAA's jku points) are read beside the sign-in: one round trip, not two
    body, jwks = at_once(sign_in, lambda: _jwks_body(f"{url.rstrip('/')}/token_keys", pool, stats))
    if isinstance(body, Check):
        return [*first, body]
    token = body["access_token"]
    claims = read_claims(token)
    checks = [*first, Check(name, True, f"token from {endpoint}"),
              signature_check(token, uaa, pool=pool, stats=stats, jwks=jwks),
              expiry_check(claims), zone_check(claims, uaa), client_check(claims, cid)]
    scopes = _scopes(claims)
    for wanted in required_scopes:
        ok = has_scope(scopes, wanted)
        checks.append(Check(f"scope {wanted}", ok, "in the token" if ok else "missing from the token's scopes"))
    if api and isinstance(api_url, str):
        checks.append(api_check(api_url, token, pool=pool, stats=stats))
    return checks


def _section(creds: dict[str, Any], name: str) -> dict[str, Any]:
    found = creds.get(name)
    return found if isinstance(found, dict) else {}


# ---- signature -------------------------------------------------------------------------------------------


def trusted_jku(jku: str, uaa: dict[str, Any]) -> bool:
    """Whether the token's ``jku`` may be followed: its host is the host of ``uaa.url`` or a subdomain of
    ``uaa.uaadomain`` (as SAP's libraries require), and it is https (or http to a loopback host)."""
    parts = urlsplit(jku)
    host = (parts.hostname or "").lower()
    if not host or parts.scheme not in ("https", "http") or parts.username or parts.password:
        return False
    url_host = (urlsplit(str(uaa.get("url") or "")).hostname or "").lower()
    domain = str(uaa.get("uaadomain") or "").lower()
    domain_host = (urlsplit(f"//{domain}").hostname or "") if domain else ""
    return host == url_host or (bool(domain_host) and host.endswith("." + domain_host))


def _jwks_body(url: str, pool: SessionPool | None, stats: RequestStats | None) -> tuple[str, Any] | None:
    """``(url, the JWKS read there)``, or None when it cannot be read (the signature check then reads the
    token's ``jku`` itself and words the failure)."""
    try:
        return url, answers.token_keys(HttpClient(url, what="the zone's token keys", pool=pool, stats=stats).request(
            "GET", url, auth=False))
    except Interrupted:
        raise
    except (ProvisionerError, ValueError):
        return None


def _jwks_key(jku: str, kid: str, pool: SessionPool | None, stats: RequestStats | None,
              jwks: tuple[str, Any] | None = None) -> Any:
    """The public key ``kid`` of the JWKS at ``jku`` (``jwks``: a JWKS already read, used when read from
    ``jku``); raises :class:`StepFailed` (or :class:`BadInput` for a URL the HTTP layer refuses) when it cannot be
    read, :class:`LookupError` when ``kid`` is not in it."""
    if jwks is not None and jwks[0] == jku:
        try:
            return _key_in(jwks[1], kid)
        except LookupError:
            pass  # rotated since it was read: read it again
    client = HttpClient(jku, what="the zone's token keys (jku)", pool=pool, stats=stats)
    return _key_in(answers.token_keys(client.request("GET", jku, auth=False)), kid)


def _key_in(body: Any, kid: str) -> Any:
    """The public key ``kid`` of the JWKS ``body``; :class:`LookupError` when it is not there."""
    keys = body.get("keys") if isinstance(body, dict) else None
    for entry in keys if isinstance(keys, list) else []:
        if isinstance(entry, dict) and entry.get("kid") == kid:
            if "n" in entry or "x" in entry:
                return jwt.PyJWK(entry).key
            if isinstance(entry.get("value"), str):
                return _pem(entry["value"])
    raise LookupError(kid)


def _pem(value: str) -> str:
    """A PEM public key in its standard layout (keys often carry it on one line, or with escaped line breaks)."""
    begin, end = "-----BEGIN PUBLIC KEY-----", "-----END PUBLIC KEY-----"
    body = "".join(value.replace("\\n", "").replace(begin, "").replace(end, "").split())
    lines = [body[i:i + 64] for i in range(0, len(body), 64)]
    return "\n".join([begin, *lines, end]) + "\n"


def signature_check(token: str, uaa: dict[str, Any], *, pool: SessionPool | None = None,
                    stats: RequestStats | None = None, jwks: tuple[str, Any] | None = None) -> Check:
    """The ``signature`` check: the key is chosen as the module docstring says (item 2); ``jwks``: ``(url,
    JWKS)`` read beforehand, used when the token's ``jku`` is that URL."""
    name = "signature"
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        return Check(name, False, "the access token is not a JWT")
    alg, kid, jku = header.get("alg"), header.get("kid"), header.get("jku")
    if alg not in ALGORITHMS:
        return Check(name, False, f"the token is signed with {alg!r}; XSUAA signs with RS256 and SAP's libraries "
                                  f"accept only {', '.join(ALGORITHMS[:3])}, PS* and ES*")
    key: Any = None
    source = ""
    note = ""
    if isinstance(jku, str) and isinstance(kid, str) and trusted_jku(jku, uaa):
        try:
            key, source = _jwks_key(jku, kid, pool, stats, jwks), f"key {kid} of {display_url(jku)}"
        except LookupError:
            return Check(name, False, f"the zone's token keys at {display_url(jku)} have no key {kid!r}")
        except (StepFailed, BadInput, ValueError, jwt.PyJWTError) as exc:
            note = f" (the token keys at {display_url(jku)} could not be read: {type(exc).__name__})"
    elif jku is not None:
        note = f" (the token's jku {display_url(str(jku))} is not under uaa.url or uaa.uaadomain: not followed)"
    if key is None:
        pem = uaa.get("verificationkey")
        if not isinstance(pem, str) or "BEGIN PUBLIC KEY" not in pem:
            return Check(name, False, "no key to check the signature: the key has no PEM uaa.verificationkey"
                                      + note)
        key, source = _pem(pem), "uaa.verificationkey" + note
    try:
        jwt.decode(token, key, algorithms=list(ALGORITHMS),
                   options={"verify_exp": False, "verify_aud": False, "verify_iat": False, "verify_nbf": False})
    except jwt.InvalidSignatureError:
        return Check(name, False, f"{alg} signature does not verify with the {source}: the token was signed "
                                  "by another key")
    except (jwt.PyJWTError, ValueError) as exc:
        return Check(name, False, f"cannot verify with the {source}: {type(exc).__name__}")
    return Check(name, True, f"{alg}, verified with the {source}")


# ---- claims ----------------------------------------------------------------------------------------------


def expiry_check(claims: dict[str, Any], now: float | None = None) -> Check:
    """``exp`` in the future (``now``: epoch seconds, default the wall clock)."""
    now = time.time() if now is None else now
    exp = claims.get("exp")
    if not isinstance(exp, int | float) or isinstance(exp, bool):
        return Check("expiry", False, "the token has no exp claim")
    left = int(exp - now)
    if left <= 0:
        return Check("expiry", False, f"the token expired {-left} s ago")
    return Check("expiry", True, f"valid for {left} s")


def zone_check(claims: dict[str, Any], uaa: dict[str, Any]) -> Check:
    """``ext_attr.zdn`` against ``uaa.identityzone``, ``zid`` against ``identityzoneid``/``tenantid``/``zoneid``."""
    ext = claims.get("ext_attr")
    zdn = ext.get("zdn") if isinstance(ext, dict) else None
    zid = claims.get("zid")
    wrong = []
    zone = uaa.get("identityzone")
    if zone is not None and zdn != zone:
        wrong.append(f"ext_attr.zdn {zdn!r} is not uaa.identityzone {zone!r}")
    for field in ("identityzoneid", "tenantid", "zoneid"):
        if uaa.get(field) is not None and zid != uaa[field]:
            wrong.append(f"zid {zid!r} is not uaa.{field} {uaa[field]!r}")
    if zone is None and not any(uaa.get(f) is not None for f in ("identityzoneid", "tenantid", "zoneid")):
        wrong.append("the key names no identity zone (uaa.identityzone)")
    if wrong:
        return Check("identity zone", False, "; ".join(wrong) + ": the token is of another zone than the key")
    return Check("identity zone", True, f"zid {zid} and ext_attr.zdn {zdn} are the key's zone")


def client_check(claims: dict[str, Any], clientid: str) -> Check:
    """``cid`` (and ``client_id``/``azp`` when present) equal to the key's ``uaa.clientid``."""
    wrong = [f"{c} {claims.get(c)!r}" for c in ("cid", "client_id", "azp")
             if (c == "cid" or c in claims) and claims.get(c) != clientid]
    if wrong:
        return Check("client", False, f"{', '.join(wrong)} is not uaa.clientid {clientid!r}")
    return Check("client", True, f"cid is uaa.clientid {clientid}")


# ---- the Cloud ALM API -----------------------------------------------------------------------------------


def api_check(api_url: str, token: str, *, pool: SessionPool | None = None,
              stats: RequestStats | None = None) -> Check:
    """``GET {endpoints.Api}/calm-projects/v1/projects?$top=1`` with the token; raises :class:`ApiError` for a
    transient failure."""
    name = "Cloud ALM API"
    target = api_url.rstrip("/") + "/" + API_PROBE
    client = HttpClient(api_url, what="the Cloud ALM API (endpoints.Api)", pool=pool, stats=stats)
    try:
        answers.calm_api(client.request("GET", target, auth=False, headers={"Authorization": f"Bearer {token}"},
                                        expect=range(200, 300)))
    except ApiError as exc:
        if exc.transient:
            raise
        if isinstance(exc, MalformedAnswer):
            return Check(name, False, str(exc))
        why = {401: "refused the token (401)", 403: "accepted the token but it lacks the API's scope (403)"}
        return Check(name, False, f"GET {display_url(target)}: "
                                  f"{why.get(exc.status, f'answered HTTP {exc.status}')}")
    return Check(name, True, f"GET {display_url(target)} accepted the token")
