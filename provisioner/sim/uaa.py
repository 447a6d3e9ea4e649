"""The CF UAA token endpoint (`<url>/uaa/oauth/token`), as advertised by `links.uaa`/`links.login` of `GET /`.

Implements reference cloud-foundry-v3-api.md section 2 (UAA `POST /oauth/token`): form-encoded POST only
(query string → 406, other methods → 405), client authentication by HTTP Basic or form fields, the grants
`password` (landscape users, client `cf` with an empty secret), `client_credentials` (landscape `cf_clients`)
and `refresh_token`, the 200 token response (2.2) and the error bodies (2.3).

Also holds the OAuth helpers shared with the XSUAA module (request checks, client authentication, refresh
tokens).
"""

from __future__ import annotations

import base64
import binascii
import json
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from werkzeug.routing import Rule
from werkzeug.wrappers import Response

from provisioner.sim.server import Ctx, SimError, json_response, mint_token, oauth_error, read_token
from provisioner.sim.state import User, new_guid

CF_CLIENT = "cf"
USER_SCOPES = ["openid", "uaa.user", "cloud_controller.read", "cloud_controller.write", "password.write",
               "scim.userids"]
CLIENT_SCOPES = ["cloud_controller.read", "cloud_controller.write"]
ADMIN_SCOPE = "cloud_controller.admin"
REFRESH_SECONDS = 30 * 24 * 3600

_BAD_CLIENT = {"WWW-Authenticate": 'Basic realm="UAA/client", error="unauthorized", '
                                   'error_description="Bad credentials"'}
_BAD_USER = {"WWW-Authenticate": 'Basic error="unauthorized", error_description="Bad credentials"'}


def rules() -> list[Rule]:
    return [
        Rule("/uaa/oauth/token", endpoint=token),
        Rule("/uaa/login", endpoint=login_info, methods=["GET"]),
        Rule("/uaa/info", endpoint=login_info, methods=["GET"]),
    ]


# --------------------------------------------------------------------------------------------------
# OAuth helpers shared with xsuaa.py
# --------------------------------------------------------------------------------------------------


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
            raise oauth_error(401, "unauthorized", "Bad credentials", _BAD_CLIENT) from None
        if ":" not in decoded:
            raise oauth_error(401, "unauthorized", "Bad credentials", _BAD_CLIENT)
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
    return oauth_error(401, "invalid_client", "Bad credentials", _BAD_USER)


def unauthorized_grant(grant_type: str) -> SimError:
    return oauth_error(401, "invalid_client", f"Unauthorized grant type: {grant_type}")


def unsupported_grant(grant_type: str) -> SimError:
    return oauth_error(400, "unsupported_grant_type", f"Unsupported grant type: {grant_type}")


def narrow_scopes(req: TokenRequest, allowed: list[str]) -> list[str]:
    requested = req.form.get("scope", "").split()
    if not requested:
        return allowed
    invalid = [s for s in requested if s not in allowed]
    if invalid:
        raise oauth_error(400, "invalid_scope",
                          f"Invalid scope: {' '.join(invalid)}. Allowed: {' '.join(allowed)}")
    return requested


def token_response(ctx: Ctx, claims: dict[str, Any], refresh: bool) -> Response:
    """Sign `claims` (completed with iat/exp/jti) and answer as in reference section 2.2."""
    now = int(time.time())
    seconds = ctx.state.config.token_seconds
    claims = {"jti": new_guid().replace("-", ""), **claims, "iat": now, "exp": now + seconds,
              "rev_sig": ctx.state.rev_sig}
    body: dict[str, Any] = {"access_token": mint_token(claims), "token_type": "bearer", "expires_in": seconds,
                            "scope": " ".join(claims["scope"]), "jti": claims["jti"]}
    if refresh:
        refresh_claims = {**claims, "jti": f"{claims['jti']}-r", "exp": now + REFRESH_SECONDS,
                          "token_use": "refresh"}
        body["refresh_token"] = mint_token(refresh_claims)
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


def user_claims(user: User, client_id: str, scopes: list[str], grant_type: str) -> dict[str, Any]:
    return {"sub": user.guid, "scope": scopes, "client_id": client_id, "cid": client_id, "azp": client_id,
            "grant_type": grant_type, "user_id": user.guid, "origin": user.origin, "user_name": user.username,
            "email": user.username, "auth_time": int(time.time())}


def audience(scopes: list[str], client_id: str) -> list[str]:
    return sorted({s.split(".", 1)[0] for s in scopes if "." in s} | {client_id})


# --------------------------------------------------------------------------------------------------
# Endpoints
# --------------------------------------------------------------------------------------------------


def login_info(ctx: Ctx) -> Response:
    return json_response({"app": {"version": "77.0.0"}, "zone_name": "uaa", "entityID": "uaa.simulator",
                          "prompts": {"username": ["text", "Email"], "password": ["password", "Password"]},
                          "links": {"uaa": f"{ctx.url}/uaa", "login": f"{ctx.url}/uaa"}})


def token(ctx: Ctx) -> Response:
    req = parse_token_request(ctx)
    if req.client_id is None:
        raise no_client()
    client = ctx.state.cf_client(req.client_id)
    if req.client_id == CF_CLIENT:
        if req.client_secret != "":
            raise bad_client()
        grants = ("password", "refresh_token")
    elif client is not None and client.client_secret == req.client_secret:
        grants = ("client_credentials",)
    else:
        raise bad_client()
    if req.grant_type not in ("password", "client_credentials", "refresh_token"):
        raise unsupported_grant(req.grant_type)
    if req.grant_type not in grants:
        raise unauthorized_grant(req.grant_type)

    if req.grant_type == "client_credentials":
        assert client is not None
        scopes = narrow_scopes(req, CLIENT_SCOPES + ([ADMIN_SCOPE] if client.cf_admin else []))
        cid = client.client_id
        claims = {"sub": cid, "authorities": scopes, "scope": scopes, "client_id": cid, "cid": cid,
                  "azp": cid, "grant_type": "client_credentials"}
        return token_response(ctx, _cf_claims(ctx, claims), refresh=False)

    if req.grant_type == "refresh_token":
        old = read_refresh_token(req, "uaa")
        user = ctx.state.user_by_guid(old.get("user_id", ""))
        if user is None:
            raise oauth_error(401, "invalid_token", "Invalid refresh token (user no longer exists)")
        scopes = narrow_scopes(req, list(old["scope"]))
        return _user_token(ctx, user, scopes)

    user = _password_user(ctx, req)
    scopes = narrow_scopes(req, USER_SCOPES + ([ADMIN_SCOPE] if user.cf_admin else []))
    return _user_token(ctx, user, scopes)


def _user_token(ctx: Ctx, user: User, scopes: list[str]) -> Response:
    claims = _cf_claims(ctx, user_claims(user, CF_CLIENT, scopes, "password"))
    return token_response(ctx, claims, refresh=True)


def _password_user(ctx: Ctx, req: TokenRequest) -> User:
    username, password = req.form.get("username", ""), req.form.get("password", "")
    origin = None
    if req.form.get("login_hint"):
        try:
            origin = json.loads(req.form["login_hint"]).get("origin")
        except (ValueError, AttributeError):
            raise oauth_error(400, "invalid_request", "login_hint must be a JSON object") from None
    for user in ctx.state.users_by_name(username, origin):
        if user.password is not None and user.password == password:
            return user
    raise bad_user()


def _cf_claims(ctx: Ctx, claims: dict[str, Any]) -> dict[str, Any]:
    return {**claims, "iss": f"{ctx.url}/uaa/oauth/token", "zid": "uaa",
            "origin": claims.get("origin", "uaa"), "aud": audience(claims["scope"], claims["client_id"])}
