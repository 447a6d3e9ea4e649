"""Handlers of the token endpoints.

- CF UAA `POST <url>/uaa/oauth/token` (cloud-foundry-v3-api.md 2): the grants `password` (landscape users,
  client `cf` with an empty secret), `client_credentials` (landscape `cf_clients`) and `refresh_token`;
  `GET /uaa/login`, `/uaa/info`.
- XSUAA `POST <url>/xsuaa/<identity-zone>/oauth/token`: zones are the global account's subdomain (client: the
  `cis` key, btp-account-apis.md 1.3) and each subaccount's subdomain (clients: the Cloud ALM service keys that
  currently exist there, cloud-alm-api-and-prior-art.md 1.3/1.4). `client_credentials` for key clients and for
  the `cis` client when its key says `grant_type: client_credentials`; `password` (and `refresh_token`) for the
  `cis` client when it says `user_token`, with a landscape user (Global Account Administrators get the
  `cis-central` scopes). On the mTLS port (`certurl` of x509 keys) a client certificate of a live x509 key
  authenticates the client named by the form's `client_id` (no secret). JWT claims: `client_id`, `cid`, `azp`,
  `sub`, `zid`, `ext_attr.zdn`, `aud`, `scope` (list), `iat`, `exp`, `jti`, `iss`; RS256 with header `jku`
  (`<url>/xsuaa/<zone>/token_keys`) and `kid`.
- `GET <url>/uaa/token_keys`, `GET <url>/xsuaa/<zone>/token_keys`: the zone's JWKS (core/tokens.py).
- Admin `/_sim/xsuaa/<zone>/signing-key`: make a zone sign with a wrong key (a forged signature).
"""

from __future__ import annotations

import json
import secrets
from typing import Any

from werkzeug.wrappers import Response

from provisioner.sim.core.errors import oauth_error
from provisioner.sim.core.http import Ctx, json_response
from provisioner.sim.core.identity import User
from provisioner.sim.core.tls import fingerprint
from provisioner.sim.core.tokens import has_zone_key, token_keys
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
CF_ZONE = "uaa"  # the zone id of CF's own UAA
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
        return token_response(ctx, _cf_claims(ctx, client_claims(client.client_id, scopes)), refresh=False,
                              jku=_uaa_jku(ctx))
    if req.grant_type == "refresh_token":
        old = read_refresh_token(req, "uaa")
        user = uaa.identity.user_by_guid(old.get("user_id", ""))
        if user is None:
            raise gone_user()
        return _user_token(ctx, user, narrow_scopes(req, list(old["scope"])))
    user = _password_user(uaa, req)
    return _user_token(ctx, user, narrow_scopes(req, USER_SCOPES + ([ADMIN_SCOPE] if user.cf_admin else [])))


def _user_token(ctx: Ctx, user: User, scopes: list[str]) -> Response:
    return token_response(ctx, _cf_claims(ctx, user_claims(user, CF_CLIENT, scopes, "password")), refresh=True,
                          jku=_uaa_jku(ctx))


def _uaa_jku(ctx: Ctx) -> str:
    return f"{ctx.url}/uaa/token_keys"


def uaa_token_keys(ctx: Ctx, uaa: UaaBackend) -> Response:
    """``GET /uaa/token_keys``: the JWKS of CF's UAA."""
    return json_response(token_keys(CF_ZONE))


def domain_token_keys(ctx: Ctx, uaa: UaaBackend) -> Response:
    """``GET <uaadomain>/token_keys?zid=<zone id>``: the JWKS of a zone by its id, where SAP's sap-xssec looks
    (``https://<uaa.uaadomain>/token_keys?zid=<the token's zid>``); without ``zid``, CF's UAA. 404 for a zone
    id that has no key yet (no token or key of that zone was ever issued)."""
    zid = ctx.request.args.get("zid") or CF_ZONE
    if zid != CF_ZONE and not has_zone_key(zid):
        return json_response({"error": "not_found", "error_description": f"Unknown identity zone id '{zid}'"}, 404)
    return json_response(token_keys(zid))


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
    return {**claims, "iss": f"{ctx.url}/uaa/oauth/token", "zid": CF_ZONE,
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
    claims = _cis_claims(uaa, req) if subaccount_guid is None else _key_claims(uaa, req, zone, ctx)
    claims.update({
        "iss": f"{ctx.url}/xsuaa/{zone}/oauth/token", "zid": zone_id,
        "ext_attr": {"enhancer": "XSUAA", "subaccountid": subaccount_guid or zone_id, "zdn": zone},
        "aud": audience(claims["scope"], claims["client_id"]),
    })
    return token_response(ctx, claims, refresh=req.grant_type != "client_credentials",
                          jku=f"{ctx.url}/xsuaa/{zone}/token_keys")


def xsuaa_token_keys(ctx: Ctx, uaa: UaaBackend, zone: str) -> Response:
    """``GET /xsuaa/<zone>/token_keys``: the zone's JWKS (the public key its tokens are signed with)."""
    found = uaa.zone(zone)
    if found is None:
        return json_response({"error": "not_found", "error_description": f"Unknown identity zone '{zone}'"}, 404)
    return json_response(token_keys(found[0]))


def signing_key(ctx: Ctx, uaa: UaaBackend, zone: str) -> Response:
    """Admin ``GET``/``PUT /_sim/xsuaa/<zone>/signing-key`` ``{"key": "own" | "foreign"}``: with ``foreign`` the zone
    signs its tokens with a key that is not its own (same ``kid``), so every signature check fails."""
    found = uaa.zone(zone)
    if found is None:
        return json_response({"error": f"unknown identity zone '{zone}'"}, 404)
    if ctx.request.method == "PUT":
        body = ctx.json_body("{}")
        if not isinstance(body, dict) or body.get("key") not in ("own", "foreign"):
            return json_response({"error": 'the body must be {"key": "own"} or {"key": "foreign"}'}, 400)
        ctx.tokens.forge(found[0], body["key"] == "foreign")
    return json_response({"zone": zone, "key": "foreign" if found[0] in ctx.tokens.forged() else "own"})


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


def _key_claims(uaa: UaaBackend, req: TokenRequest, zone: str, ctx: Ctx) -> dict[str, Any]:
    assert req.client_id is not None
    cert = ctx.request.environ.get("SSL_CLIENT_CERT")
    if cert:  # the mTLS port (certurl): the client certificate, checked in the handshake, stands for the secret
        scopes = uaa.key_certificate_scopes(zone, req.client_id, fingerprint(cert))
    else:
        scopes = uaa.key_client_scopes(zone, req.client_id, req.client_secret)
    if scopes is None:
        raise bad_client()
    if req.grant_type != "client_credentials":
        if req.grant_type in ("password", "refresh_token", "authorization_code", "implicit"):
            raise unauthorized_grant(req.grant_type)
        raise unsupported_grant(req.grant_type)
    return client_claims(req.client_id, narrow_scopes(req, scopes))
