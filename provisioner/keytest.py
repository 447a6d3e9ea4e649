""""Test Service Key", as Landscape Management's button does: sign in with the key and check the token's scopes.

``POST {uaa.url}/oauth/token`` with ``grant_type=client_credentials`` and HTTP Basic ``clientid:clientsecret``
(docs/sap-facts.md §4.7), then read the JWT's ``scope`` claim (not verified: the
token is only inspected, never trusted) and check it holds every required scope, matched by suffix after the
``<xsappname>.`` prefix, as SAP's /SDF/ALM_SETUP "Token Scopes Check" does.
"""

from __future__ import annotations

from typing import Any

from provisioner.errors import ApiError, BadInput, StepFailed
from provisioner.http import HttpClient, RequestStats, SessionPool
from provisioner.keyfile import Check
from provisioner.secret import Secret
from provisioner.uaa import claims, request_token

DEFAULT_REQUIRED_SCOPES = ("imp-cdm-feature-display-ui", "imp-cdm-feature-manage-ui")


def token_scopes(access_token: str) -> list[str]:
    """The ``scope`` claim of a JWT access token (signature not verified), or [] for an opaque token."""
    scope = claims(access_token).get("scope") or []
    return scope.split() if isinstance(scope, str) else [str(s) for s in scope]


def has_scope(scopes: list[str], wanted: str) -> bool:
    return any(s == wanted or s.endswith("." + wanted) for s in scopes)


def test_key(creds: dict[str, Any], *, required_scopes: tuple[str, ...] = DEFAULT_REQUIRED_SCOPES,
             pool: SessionPool | None = None, stats: RequestStats | None = None,
             source: str = "the key") -> list[Check]:
    """Return the sign-in check and one check per required scope. Raises :class:`BadInput` when the key lacks
    ``uaa.url``/``uaa.clientid``/``uaa.clientsecret``; never puts the secret or the token in a message."""
    found = creds.get("uaa")
    uaa: dict[str, Any] = found if isinstance(found, dict) else {}
    url, cid, secret = uaa.get("url"), uaa.get("clientid"), uaa.get("clientsecret")
    if not (isinstance(url, str) and isinstance(cid, str) and isinstance(secret, str)):
        raise BadInput(f"{source}: the key lacks uaa.url, uaa.clientid or uaa.clientsecret; it cannot sign in")
    client = HttpClient(url, what="key's XSUAA (uaa.url)", pool=pool, stats=stats)
    try:
        body = request_token(client, cid, Secret(secret), {"grant_type": "client_credentials"}, "key test",
                             client_is=f"the key file's client ({source}: uaa.clientid / uaa.clientsecret)")
    except ApiError as exc:
        if exc.transient:
            raise  # the run's step engine tries again; only a refusal is the key's failure
        return [Check("sign in (client credentials)", False, str(exc))]
    except StepFailed as exc:
        return [Check("sign in (client credentials)", False, str(exc))]
    scopes = token_scopes(body["access_token"])
    checks = [Check("sign in (client credentials)", True, f"token from {url.rstrip('/')}/oauth/token")]
    for wanted in required_scopes:
        ok = has_scope(scopes, wanted)
        checks.append(Check(f"scope {wanted}", ok, "in the token" if ok else "missing from the token's scopes"))
    return checks
