"""A small SAP Cloud ALM API under a Cloud ALM key's ``endpoints.Api`` (``<url>/alm/<tenant>/api``).

It accepts only valid tokens of the tenant's identity zone: signed with the zone's key, not expired, not revoked,
``zid`` of the tenant's zone, and carrying the Cloud ALM master application's scope: the API's own
(``<xsmasterappname>.calm-api.<area>.read`` / ``.write``, SAP's "API Scopes", e.g. ``calm-api.projects.read``
for ``calm-projects``), or ``<xsmasterappname>.imp-cdm-feature-display-ui`` to read, ``...-manage-ui`` to write.
Otherwise 401 (no, bad or expired token, or a token of another zone) or 403 (the scope is missing), with
``WWW-Authenticate: Bearer``.

Paths, after SAP's API (docs/sap-facts.md §1): ``GET calm-projects/v1/projects`` (``{"value": [...]}``, the
projects of the tenant: none in the simulator), ``GET calm-tasks/v1/tasks?projectId=<uuid>`` (400 without
``projectId``); any other path answers 404.
"""

from __future__ import annotations

from werkzeug.wrappers import Response

from provisioner.sim.broker.brokers import CLOUD_ALM_MASTER_APP
from provisioner.sim.core.http import Ctx, json_response
from provisioner.sim.uaa.backend import UaaBackend

READ_SCOPE = f"{CLOUD_ALM_MASTER_APP}.imp-cdm-feature-display-ui"
WRITE_SCOPE = f"{CLOUD_ALM_MASTER_APP}.imp-cdm-feature-manage-ui"


def _refuse(status: int, error: str, description: str) -> Response:
    challenge = f'Bearer error="{error}", error_description="{description}"'
    return json_response({"error": error, "error_description": description}, status,
                         {"WWW-Authenticate": challenge})


def alm_api(ctx: Ctx, uaa: UaaBackend, tenant: str, rest: str = "") -> Response:
    """Checks the bearer token as described above, then answers the path."""
    sub = uaa.subaccount_zone(tenant)
    if sub is None:
        return json_response({"error": "not_found"}, 404)
    token = ctx.bearer()
    if not token:
        return _refuse(401, "unauthorized", "Full authentication is required to access this resource")
    claims = ctx.access_claims(token)
    if claims is None:
        return _refuse(401, "invalid_token", "The token is invalid (signature), expired or revoked")
    if claims.get("zid") != sub.zone_id:
        return _refuse(401, "invalid_token", "The token was not issued by this tenant's identity zone")
    path = rest.strip("/")
    read = ctx.request.method in ("GET", "HEAD")
    wanted = READ_SCOPE if read else WRITE_SCOPE
    area = path.split("/", 1)[0].removeprefix("calm-")  # calm-projects/v1/... -> projects
    api_scope = f"{CLOUD_ALM_MASTER_APP}.calm-api.{area}.{'read' if read else 'write'}"
    granted = claims.get("scope") or []
    if wanted not in granted and api_scope not in granted:
        return _refuse(403, "insufficient_scope", f"The token lacks the scope {api_scope} (or {wanted})")
    if path == "calm-projects/v1/projects":
        return json_response({"value": []})
    if path == "calm-tasks/v1/tasks":
        if not ctx.request.args.get("projectId"):
            return json_response({"error": {"code": "400", "message": "projectId is required"}}, 400)
        return json_response({"value": []})
    return json_response({"error": {"code": "404", "message": f"No resource at /api/{path}"}}, 404)
