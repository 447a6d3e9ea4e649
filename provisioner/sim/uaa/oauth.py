"""OAuth request and response rules shared by the UAA and XSUAA token endpoints (cloud-foundry-v3-api.md
section 2): form-encoded POST only (query string → 406, other methods → 405), client authentication by HTTP
Basic or form fields, the token response (2.2) and the error bodies (2.3)."""

from __future__ import annotations

import base64
import binascii
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from werkzeug.wrappers import Response

from provisioner.sim.core.errors import oauth_error
from provisioner.sim.core.http import Ctx, SimError, json_response
from provisioner.sim.core.identity import User
from provisioner.sim.core.tokens import read_token

_BAD_CLIENT = {"WWW-Authenticate": 'Basic realm="UAA/client", error="unauthorized", '
                                   'error_description="Bad credentials"'}
_BAD_USER = {"WWW-Authenticate": 'Basic error="unauthorized", error_description="Bad credentials"'}


@dataclass
class TokenRequest:
    form: dict[str, str]
    client_id: str | None  # None: no client authentication at all
    client_secret: str
    grant_type: str


def parse_token_request(ctx: Ctx) -> TokenRequest:
    """Enforce POST with a form body and no query string; read the client credentials."""
    request = ctx.request
    if request.method != "POST":
        raise oauth_error(405, "method_not_allowed", f"Request method '{request.method}' not supported",
                          {"Allow": "POST"})
    if request.query_string:
        raise oauth_error(406, "query_string_not_allowed",
                          "Parameters must be passed in the body of the request")
    form = {k: request.form.get(k, "") for k in request.form}
    client_id: str | None = None
    client_secret = ""
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("basic "):
        try:
            decoded = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            raise bad_client() from None
        if ":" not in decoded:
            raise bad_client()
        user, _, password = decoded.partition(":")
        client_id, client_secret = unquote(user), unquote(password)
    elif "client_id" in form:
        client_id, client_secret = form["client_id"], form.get("client_secret", "")
    return TokenRequest(form, client_id, client_secret, form.get("grant_type", ""))


def bad_client() -> SimError:
    return oauth_error(401, "unauthorized", "Bad credentials", _BAD_CLIENT)


def no_client() -> SimError:
    return oauth_error(401, "unauthorized", "Full authentication is required to access this resource",
                       _BAD_CLIENT)


def bad_user() -> SimError:
    """A wrong username or password, answered as the real UAA does (the password grant of a known client)."""
    return oauth_error(401, "unauthorized", "Bad credentials", _BAD_USER)


def unauthorized_grant(grant_type: str) -> SimError:
    return oauth_error(401, "invalid_client", f"Unauthorized grant type: {grant_type}")


def unsupported_grant(grant_type: str) -> SimError:
    return oauth_error(400, "unsupported_grant_type", f"Unsupported grant type: {grant_type}")


def check_grant(req: TokenRequest, known: tuple[str, ...], allowed: tuple[str, ...]) -> None:
    """400 for a grant type outside `known`, 401 for one the client may not use."""
    if req.grant_type not in known:
        raise unsupported_grant(req.grant_type)
    if req.grant_type not in allowed:
        raise unauthorized_grant(req.grant_type)


def narrow_scopes(req: TokenRequest, allowed: list[str]) -> list[str]:
    """The requested `scope`s (all of `allowed` when none are requested); 400 invalid_scope otherwise."""
    requested = req.form.get("scope", "").split()
    if not requested:
        return allowed
    invalid = [s for s in requested if s not in allowed]
    if invalid:
        raise oauth_error(400, "invalid_scope",
                          f"Invalid scope: {' '.join(invalid)}. Allowed: {' '.join(allowed)}")
    return requested


def token_response(ctx: Ctx, claims: dict[str, Any], refresh: bool) -> Response:
    """Sign `claims` and answer as in reference section 2.2."""
    body = ctx.tokens.issue(claims, refresh)
    return json_response(body, 200, {"Cache-Control": "no-store", "Pragma": "no-cache"})


def read_refresh_token(req: TokenRequest, zid: str) -> dict[str, Any]:
    """The claims of a valid refresh token of this zone issued to the authenticated client."""
    value = req.form.get("refresh_token", "")
    if not value:
        raise oauth_error(401, "invalid_token", "Invalid refresh token (empty token)")
    claims = read_token(value)
    if (claims is None or claims.get("token_use") != "refresh" or claims.get("zid") != zid
            or claims.get("cid") != req.client_id):
        raise oauth_error(401, "invalid_token",
                          "Invalid refresh token (expired or not issued to this client)")
    return claims


def gone_user() -> SimError:
    return oauth_error(401, "invalid_token", "Invalid refresh token (user no longer exists)")


def user_claims(user: User, client_id: str, scopes: list[str], grant_type: str) -> dict[str, Any]:
    return {"sub": user.guid, "scope": scopes, "client_id": client_id, "cid": client_id, "azp": client_id,
            "grant_type": grant_type, "user_id": user.guid, "origin": user.origin, "user_name": user.username,
            "email": user.username, "auth_time": int(time.time())}


def client_claims(client_id: str, scopes: list[str]) -> dict[str, Any]:
    return {"sub": client_id, "authorities": scopes, "scope": scopes, "client_id": client_id,
            "cid": client_id, "azp": client_id, "grant_type": "client_credentials"}


def audience(scopes: list[str], client_id: str) -> list[str]:
    return sorted({s.split(".", 1)[0] for s in scopes if "." in s} | {client_id})
