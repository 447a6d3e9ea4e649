"""BTP Provisioning service (`endpoints.provisioning_service_url` of the cis key = `<url>/btp/provisioning`).

Reference: ../shared/reference/btp-account-apis.md section 4. Minimal: only
`GET /provisioning/v1/environments` → `{"environmentInstances": [...]}`, one Cloud Foundry environment
instance per CF org of the landscape, with `labels` and `parameters` as JSON-encoded strings (keys
"API Endpoint", "Org Name", "Org ID") and `platformId` = the org guid.

The real endpoint answers for the subaccount of a `local` cis token; the simulator accepts the global
account's `central` token (the reference leaves this open) and lists the environments of all subaccounts,
each with its `subaccountGUID`.
"""

from __future__ import annotations

import json
from typing import Any

from werkzeug.routing import Rule
from werkzeug.wrappers import Response

from provisioner.sim.btp_entitlements import job_status
from provisioner.sim.server import Ctx, json_response
from provisioner.sim.state import Org, stable_guid
from provisioner.sim.xsuaa import require_cis_token

PREFIX = "/btp/provisioning"


def rules() -> list[Rule]:
    return [
        Rule(f"{PREFIX}/provisioning/v1/environments", endpoint=list_environments, methods=["GET"]),
        Rule(f"{PREFIX}/jobs-management/v1/jobs/<job_id>/status", endpoint=job_status, methods=["GET"]),
    ]


def present_environment(ctx: Ctx, org: Org) -> dict[str, Any]:
    ga = ctx.state.global_account
    assert ga is not None and org.subaccount_guid is not None
    sub = ctx.state.subaccounts[org.subaccount_guid]
    labels = {"API Endpoint": ctx.url, "Org Name": org.name, "Org ID": org.guid}
    return {
        "id": stable_guid("environment", org.guid).upper(), "name": org.name,
        "brokerId": stable_guid("broker", "cloudfoundry").upper(), "globalAccountGUID": ga.guid,
        "subaccountGUID": sub.guid, "tenantId": sub.tenant_id,
        "serviceId": "fa31b750-4b1a-4c6c-a2a5-3d6c8e7f9a01", "planId": "fc5ffd2a-7b4c-4d1e-9f0a-6b3c2d1e0f12",
        "operation": "provision", "parameters": json.dumps({"instance_name": org.name, "status": "ACTIVE"}),
        "labels": json.dumps(labels), "customLabels": {}, "type": "Provision",
        "environmentType": "cloudfoundry", "landscapeLabel": f"cf-{sub.region}", "platformId": org.guid,
        "state": "OK", "stateMessage": "Environment instance created.", "serviceName": "cloudfoundry",
        "planName": "standard",
        "createdDate": sub.created_ms, "modifiedDate": sub.modified_ms, "dashboardUrl": None,
    }


def list_environments(ctx: Ctx) -> Response:
    require_cis_token(ctx)
    envs = [present_environment(ctx, o) for o in ctx.state.orgs.values() if o.subaccount_guid]
    return json_response({"environmentInstances": envs})
