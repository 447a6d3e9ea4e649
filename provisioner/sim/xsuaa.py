"""XSUAA token endpoints, one per identity zone: `<url>/xsuaa/<identity-zone>/oauth/token`.

Identity zones: the global account's subdomain (clients: the `cis` key, btp-account-apis.md section 1.3)
and each subaccount's subdomain (clients: the Cloud ALM service keys that currently exist in that zone,
cloud-alm-api-and-prior-art.md sections 1.3 and 1.4). Request and response rules are those of the UAA
(cloud-foundry-v3-api.md section 2): form POST, Basic or form client authentication, token response per 2.2.

Grants: `client_credentials` for Cloud ALM key clients and for the `cis` client when its key says
`grant_type: client_credentials`; `password` (and `refresh_token`) for the `cis` client when the key says
`user_token`, with a landscape user's username and password (Global Account Administrators get the
`cis-central` scopes).

JWT claims: `client_id`, `cid`, `zid` (zone id), `ext_attr.zdn` (zone subdomain), `scope` (list), `iat`,
`exp`, `jti`, `iss`. Also here: the bearer check of the BTP APIs (`require_cis_token`) and the placeholder
Cloud ALM API `/alm/<tenant>/api` that accepts tokens of that tenant's zone.
"""

from __future__ import annotations

import secrets
from typing import Any

from werkzeug.routing import Rule
from werkzeug.wrappers import Response

from provisioner.sim import broker
from provisioner.sim.server import Ctx, btp_error, json_response, oauth_error
from provisioner.sim.uaa import (
    TokenRequest,
    audience,
    bad_client,
    narrow_scopes,
    no_client,
    parse_token_request,
    read_refresh_token,
    token_response,
    unauthorized_grant,
    unsupported_grant,
    user_claims,
)

CIS_SCOPES = ("global-account.subaccount.read", "global-account.entitlement.read",
              "global-account.entitlement.subaccount.update", "job.read")


def rules() -> list[Rule]:
    return [
        Rule("/xsuaa/<zone>/oauth/token", endpoint=token),
        Rule("/alm/<tenant>/api", endpoint=alm_api),
        Rule("/alm/<tenant>/api/<path:rest>", endpoint=alm_api),
    ]


def _zone(ctx: Ctx, subdomain: str) -> tuple[str, str | None] | None:
    """(zone id, subaccount guid or None for the global account zone) of an identity zone subdomain."""
    ga = ctx.state.global_account
    assert ga is not None
    if subdomain == ga.subdomain:
        return ga.zone_id, None
    sub = ctx.state.subaccount_by_subdomain(subdomain)
    return (sub.tenant_id, sub.guid) if sub else None


def token(ctx: Ctx, zone: str) -> Response:
    found = _zone(ctx, zone)
    if found is None:
        body = {"error": "not_found", "error_description": f"Unknown identity zone '{zone}'"}
        return json_response(body, 404)
    zone_id, subaccount_guid = found
    req = parse_token_request(ctx)
    if req.client_id is None:
        raise no_client()
    if subaccount_guid is None:
        claims = _cis_claims(ctx, req)
    else:
        claims = _cloud_alm_claims(ctx, req, zone)
    claims.update({
        "iss": f"{ctx.url}/xsuaa/{zone}/oauth/token", "zid": zone_id,
        "ext_attr": {"enhancer": "XSUAA", "subaccountid": subaccount_guid or zone_id, "zdn": zone},
        "aud": audience(claims["scope"], claims["client_id"]),
    })
    return token_response(ctx, claims, refresh=req.grant_type != "client_credentials")


def _client_claims(client_id: str, scopes: list[str]) -> dict[str, Any]:
    return {"sub": client_id, "authorities": scopes, "scope": scopes, "client_id": client_id,
            "cid": client_id, "azp": client_id, "grant_type": "client_credentials"}


def _cis_claims(ctx: Ctx, req: TokenRequest) -> dict[str, Any]:
    ga = ctx.state.global_account
    assert ga is not None
    cis = ga.cis
    if req.client_id != cis.clientid or not secrets.compare_digest(req.client_secret, cis.clientsecret):
        raise bad_client()
    if cis.grant_type == "client_credentials":
        allowed: tuple[str, ...] = ("client_credentials",)
    else:
        allowed = ("password", "refresh_token")
    if req.grant_type not in ("client_credentials", "password", "refresh_token"):
        raise unsupported_grant(req.grant_type)
    if req.grant_type not in allowed:
        raise unauthorized_grant(req.grant_type)
    full = [f"{cis.xsappname}.{s}" for s in CIS_SCOPES]
    if req.grant_type == "client_credentials":
        return _client_claims(cis.clientid, narrow_scopes(req, full))
    if req.grant_type == "refresh_token":
        old = read_refresh_token(req, ga.zone_id)
        user = ctx.state.user_by_guid(old.get("user_id", ""))
        if user is None:
            raise oauth_error(401, "invalid_token", "Invalid refresh token (user no longer exists)")
        return user_claims(user, cis.clientid, narrow_scopes(req, list(old["scope"])), "password")
    username, password = req.form.get("username", ""), req.form.get("password", "")
    user = next((u for u in ctx.state.users_by_name(username)
                 if u.password is not None and secrets.compare_digest(u.password, password)), None)
    if user is None:
        raise oauth_error(401, "unauthorized", "Bad credentials")
    scopes = ["openid", *full] if user.global_account_admin else ["openid"]
    return user_claims(user, cis.clientid, narrow_scopes(req, scopes), "password")


def _cloud_alm_claims(ctx: Ctx, req: TokenRequest, zone: str) -> dict[str, Any]:
    assert req.client_id is not None
    instance = ctx.state.find_xsuaa_client(zone, req.client_id, req.client_secret)
    if instance is None:
        raise bad_client()
    if req.grant_type != "client_credentials":
        if req.grant_type in ("password", "refresh_token", "authorization_code", "implicit"):
            raise unauthorized_grant(req.grant_type)
        raise unsupported_grant(req.grant_type)
    return _client_claims(req.client_id, narrow_scopes(req, broker.scopes(instance)))


# --------------------------------------------------------------------------------------------------
# Bearer checks for the APIs protected by XSUAA tokens
# --------------------------------------------------------------------------------------------------


def require_cis_token(ctx: Ctx, scope: str | None = None) -> dict[str, Any]:
    """Claims of a valid token of the global account zone (401/403 in the BTP error shape otherwise)."""
    ga = ctx.state.global_account
    assert ga is not None
    value = ctx.bearer()
    if not value:
        raise btp_error(ctx, 401, 11002, "Unauthorized: a bearer token is required")
    claims = ctx.access_claims(value)
    if claims is None or claims.get("zid") != ga.zone_id:
        raise btp_error(ctx, 401, 11002, "Unauthorized: the bearer token is invalid or expired")
    if scope is not None and f"{ga.cis.xsappname}.{scope}" not in claims.get("scope", []):
        raise btp_error(ctx, 403, 11003, f"Forbidden: the token lacks the scope '{scope}'")
    return claims


def alm_api(ctx: Ctx, tenant: str, rest: str = "") -> Response:
    """Placeholder for `endpoints.Api` of a Cloud ALM key: checks the token, answers with a small JSON."""
    sub = ctx.state.subaccount_by_subdomain(tenant)
    if sub is None:
        return json_response({"error": "not_found"}, 404)
    claims = ctx.access_claims(ctx.bearer() or "")
    if claims is None or claims.get("zid") != sub.tenant_id:
        return json_response({"error": "unauthorized"}, 401, {"WWW-Authenticate": "Bearer"})
    return json_response({"tenant": tenant, "path": rest, "scope": claims.get("scope", []),
                          "note": "placeholder of the landscape simulator"})
