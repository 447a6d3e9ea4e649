"""BTP Accounts service (`endpoints.accounts_service_url` of the cis key = `<url>/btp/accounts`).

Reference: ../shared/reference/btp-account-apis.md section 3 (Accounts Service):
- `GET /accounts/v1/subaccounts` → `{"value": [SubaccountResponseObject, ...]}`;
- `GET /accounts/v1/subaccounts/{subaccountGUID}` → the object, or 404 (code 20004, "Global account or
  subaccount not found") in the BTP error shape (section 2, "Errors for all CIS services").

Both need a bearer token of the global account's XSUAA zone (the cis key) with
`global-account.subaccount.read`. The jobs-management status endpoint is served on this host too.
"""

from __future__ import annotations

from typing import Any

from werkzeug.routing import Rule
from werkzeug.wrappers import Response

from provisioner.sim.btp_entitlements import job_status
from provisioner.sim.server import Ctx, btp_error, json_response
from provisioner.sim.state import Subaccount
from provisioner.sim.xsuaa import require_cis_token

PREFIX = "/btp/accounts"


def rules() -> list[Rule]:
    return [
        Rule(f"{PREFIX}/accounts/v1/subaccounts", endpoint=list_subaccounts, methods=["GET"]),
        Rule(f"{PREFIX}/accounts/v1/subaccounts/<guid>", endpoint=get_subaccount, methods=["GET"]),
        Rule(f"{PREFIX}/jobs-management/v1/jobs/<job_id>/status", endpoint=job_status, methods=["GET"]),
    ]


def present_subaccount(ctx: Ctx, s: Subaccount) -> dict[str, Any]:
    ga = ctx.state.global_account
    assert ga is not None
    return {
        "guid": s.guid, "technicalName": s.guid, "displayName": s.display_name, "description": s.description,
        "globalAccountGUID": ga.guid, "parentGUID": ga.guid, "parentType": "ROOT", "region": s.region,
        "subdomain": s.subdomain, "betaEnabled": s.beta_enabled, "usedForProduction": s.used_for_production,
        "state": "OK", "stateMessage": "Subaccount created.", "contractStatus": "ACTIVE",
        "createdDate": s.created_ms, "modifiedDate": s.modified_ms, "createdBy": "",
        "labels": {k: list(v) for k, v in s.labels.items()}, "customProperties": [],
    }


def list_subaccounts(ctx: Ctx) -> Response:
    require_cis_token(ctx, "global-account.subaccount.read")
    return json_response({"value": [present_subaccount(ctx, s) for s in ctx.state.subaccounts.values()]},
                         headers={"X-CorrelationID": ctx.request.headers.get("X-CorrelationID", "")})


def get_subaccount(ctx: Ctx, guid: str) -> Response:
    require_cis_token(ctx, "global-account.subaccount.read")
    sub = ctx.state.subaccounts.get(guid)
    if sub is None:
        raise btp_error(ctx, 404, 20004, "Global account or subaccount not found")
    return json_response(present_subaccount(ctx, sub))
