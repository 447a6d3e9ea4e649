"""The XSUAA Authorization API's application record, ``GET <apiurl>/sap/rest/authorization/v2/apps/{appId}``
(SAP Business Accelerator Hub "Authorization API", ``getAppById``), as far as SAP's migration off instance secrets
needs it ("Migrate from Instance Secrets to Binding Secrets": check ``instanceSecretLastUsedAt`` before dropping
``instance-secret``). The simulator's ``apiurl`` is ``<url>/authorization``.

Authentication: a valid access token of the application's identity zone. Which clients may read the record is not
documented for SAP Cloud ALM API instances (SAP's API Access plan clients may); the simulator accepts a token of
the application's own client (any of its keys), as ``provisioner key migrate`` uses, and refuses others (403).
"""

from __future__ import annotations

from urllib.parse import unquote

from werkzeug.wrappers import Response

from provisioner.sim.core.http import Ctx, json_response
from provisioner.sim.uaa.backend import UaaBackend


def _refuse(status: int, error: str, description: str) -> Response:
    return json_response({"error": error, "error_description": description}, status,
                         {"WWW-Authenticate": f'Bearer error="{error}"'})


def get_app(ctx: Ctx, uaa: UaaBackend, app: str) -> Response:
    """``{"appid", "serviceinstanceid", "tenantid", "instanceSecretLastUsedAt"}`` (ISO 8601 UTC or null: never
    signed in with the instance secret since the simulator started)."""
    token = ctx.bearer()
    claims = ctx.access_claims(token) if token else None
    if claims is None:
        return _refuse(401, "invalid_token", "Full authentication is required to access this resource")
    app = unquote(app)
    zone = (claims.get("ext_attr") or {}).get("zdn")
    found = uaa.app_info(str(zone), app) if zone else None
    if found is None:
        return json_response({"error": "not_found", "error_description": f"Application {app} not found"}, 404)
    if claims.get("cid") != f"sb-{app}":
        return _refuse(403, "insufficient_scope", "The token's client may not read this application")
    return json_response(found)
