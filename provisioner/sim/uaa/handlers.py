"""Handlers of the token endpoints.

- CF UAA `POST <url>/uaa/oauth/token` (cloud-foundry-v3-api.md 2): the grants `password` (landscape users,
  client `cf` with an empty secret), `client_credentials` (landscape `cf_clients`) and `refresh_token`;
  `GET /uaa/login`, `/uaa/info`.
- XSUAA `POST <url>/xsuaa/<identity-zone>/oauth/token`: zones are the global account's subdomain (client: the
  `cis` key, btp-account-apis.md 1.3) and each subaccount's subdomain (clients: the Cloud ALM service keys that
  currently exist there, cloud-alm-api-and-prior-art.md 1.3/1.4). `client_credentials` for key clients and for
  the `cis` client when its key says `grant_type: client_credentials`; `password` (and `refresh_token`) for the
  `cis` client when it says `user_token`, with a landscape user (Global Account Administrators get the
  `cis-central` scopes). JWT claims: `client_id`, `cid`, `zid`, `ext_attr.zdn`, `scope` (list), `iat`, `exp`,
  `jti`, `iss`.
- `<url>/alm/<tenant>/api[/...]`: placeholder of a Cloud ALM key's `endpoints.Api`, checks the token.
"""

from __future__ import annotations

import json
import secrets
from typing import Any

from werkzeug.wrappers import Response

from provisioner.sim.core.errors import oauth_error
from provisioner.sim.core.http import Ctx, json_response
from provisioner.sim.core.identity import User
from provisioner.sim.uaa.backend import UaaBackend
from provisioner.sim.uaa.oauth import (
    TokenRequest,
    audience,
    bad_client,
    bad_user,
    check_grant,
    client_claims,
    gone_user,
    narrow_scopes,
    no_client,
    parse_token_request,
    read_refresh_token,
    token_response,
    unauthorized_grant,
    unsupported_grant,
    user_claims,
)

CF_CLIENT = "cf"
USER_SCOPES = ["openid", "uaa.user", "cloud_controller.read", "cloud_controller.write", "password.write",
               "scim.userids"]
CLIENT_SCOPES = ["cloud_controller.read", "cloud_controller.write"]
ADMIN_SCOPE = "cloud_controller.admin"
CIS_SCOPES = ("global-account.subaccount.read", "global-account.subaccount.update", "global-account.entitlement.read",
              "global-account.entitlement.subaccount.update", "job.read")
_GRANTS = ("password", "client_credentials", "refresh_token")


# ---- CF UAA --------------------------------------------------------------------------------------


def login_info(ctx: Ctx, uaa: UaaBackend) -> Response:
    return json_response({"app": {"version": "77.0.0"}, "zone_name": "uaa", "entityID": "uaa.simulator",
                          "prompts": {"username": ["text", "Email"], "password": ["password", "Password"]},
                          "links": {"uaa": f"{ctx.url}/uaa", "login": f"{ctx.url}/uaa"}})


def uaa_token(ctx: Ctx, uaa: UaaBackend) -> Response:
    req = parse_token_request(ctx)
    if req.client_id is None:
        raise no_client()
    client = uaa.identity.cf_client(req.client_id)
    if req.client_id == CF_CLIENT:
        if req.client_secret != "":
            raise bad_client()
        grants: tuple[str, ...] = ("password", "refresh_token")
    elif client is not None and client.client_secret == req.client_secret:
        grants = ("client_credentials",)
    else:
        raise bad_client()
    check_grant(req, _GRANTS, grants)
    if req.grant_type == "client_credentials":
        assert client is not None
        scopes = narrow_scopes(req, CLIENT_SCOPES + ([ADMIN_SCOPE] if client.cf_admin else []))
        return token_response(ctx, _cf_claims(ctx, client_claims(client.client_id, scopes)), refresh=False)
    if req.grant_type == "refresh_token":
        old = read_refresh_token(req, "uaa")
        user = uaa.identity.user_by_guid(old.get("user_id", ""))
        if user is None:
            raise gone_user()
        return _user_token(ctx, user, narrow_scopes(req, list(old["scope"])))
    user = _password_user(uaa, req)
    return _user_token(ctx, user, narrow_scopes(req, USER_SCOPES + ([ADMIN_SCOPE] if user.cf_admin else [])))


def _user_token(ctx: Ctx, user: User, scopes: list[str]) -> Response:
    return token_response(ctx, _cf_claims(ctx, user_claims(user, CF_CLIENT, scopes, "password")), refresh=True)


def _password_user(uaa: UaaBackend, req: TokenRequest) -> User:
    username, password = req.form.get("username", ""), req.form.get("password", "")
    origin = None
    if req.form.get("login_hint"):
        try:
            origin = json.loads(req.form["login_hint"]).get("origin")
        except (ValueError, AttributeError):
            raise oauth_error(400, "invalid_request", "login_hint must be a JSON object") from None
    for user in uaa.identity.users_by_name(username, origin):
        if user.password is not None and user.password == password:
            return user
    raise bad_user()


def _cf_claims(ctx: Ctx, claims: dict[str, Any]) -> dict[str, Any]:
    return {**claims, "iss": f"{ctx.url}/uaa/oauth/token", "zid": "uaa",
            "origin": claims.get("origin", "uaa"), "aud": audience(claims["scope"], claims["client_id"])}


# ---- XSUAA ---------------------------------------------------------------------------------------


def xsuaa_token(ctx: Ctx, uaa: UaaBackend, zone: str) -> Response:
    found = uaa.zone(zone)
    if found is None:
        return json_response({"error": "not_found", "error_description": f"Unknown identity zone '{zone}'"}, 404)
    zone_id, subaccount_guid = found
    req = parse_token_request(ctx)
    if req.client_id is None:
        raise no_client()
    claims = _cis_claims(uaa, req) if subaccount_guid is None else _key_claims(uaa, req, zone)
    claims.update({
        "iss": f"{ctx.url}/xsuaa/{zone}/oauth/token", "zid": zone_id,
        "ext_attr": {"enhancer": "XSUAA", "subaccountid": subaccount_guid or zone_id, "zdn": zone},
        "aud": audience(claims["scope"], claims["client_id"]),
    })
    return token_response(ctx, claims, refresh=req.grant_type != "client_credentials")


def _cis_claims(uaa: UaaBackend, req: TokenRequest) -> dict[str, Any]:
    cis = uaa.global_zone()
    assert cis is not None
    if req.client_id != cis.clientid or not secrets.compare_digest(req.client_secret, cis.clientsecret):
        raise bad_client()
    allowed = ("client_credentials",) if cis.grant_type == "client_credentials" else ("password", "refresh_token")
    check_grant(req, _GRANTS, allowed)
    full = [f"{cis.xsappname}.{s}" for s in CIS_SCOPES]
    if req.grant_type == "client_credentials":
        return client_claims(cis.clientid, narrow_scopes(req, full))
    if req.grant_type == "refresh_token":
        old = read_refresh_token(req, cis.zone_id)
        user = uaa.identity.user_by_guid(old.get("user_id", ""))
        if user is None:
            raise gone_user()
        return user_claims(user, cis.clientid, narrow_scopes(req, list(old["scope"])), "password")
    username, password = req.form.get("username", ""), req.form.get("password", "")
    found = next((u for u in uaa.identity.users_by_name(username)
                  if u.password is not None and secrets.compare_digest(u.password, password)), None)
    if found is None:
        raise oauth_error(401, "unauthorized", "Bad credentials")
    scopes = ["openid", *full] if found.global_account_admin else ["openid"]
    return user_claims(found, cis.clientid, narrow_scopes(req, scopes), "password")


def _key_claims(uaa: UaaBackend, req: TokenRequest, zone: str) -> dict[str, Any]:
    assert req.client_id is not None
    scopes = uaa.key_client_scopes(zone, req.client_id, req.client_secret)
    if scopes is None:
        raise bad_client()
    if req.grant_type != "client_credentials":
        if req.grant_type in ("password", "refresh_token", "authorization_code", "implicit"):
            raise unauthorized_grant(req.grant_type)
        raise unsupported_grant(req.grant_type)
    return client_claims(req.client_id, narrow_scopes(req, scopes))


# ---- Cloud ALM API placeholder -------------------------------------------------------------------


def alm_api(ctx: Ctx, uaa: UaaBackend, tenant: str, rest: str = "") -> Response:
    """Checks the token of the tenant's zone and answers with a small JSON."""
    sub = uaa.subaccount_zone(tenant)
    if sub is None:
        return json_response({"error": "not_found"}, 404)
    claims = ctx.access_claims(ctx.bearer() or "")
    if claims is None or claims.get("zid") != sub.zone_id:
        return json_response({"error": "unauthorized"}, 401, {"WWW-Authenticate": "Bearer"})
    return json_response({"tenant": tenant, "path": rest, "scope": claims.get("scope", []),
                          "note": "placeholder of the landscape simulator"})
