"""Handlers of the BTP Accounts and Provisioning services, the jobs-management status served on every BTP host,
and the bearer check of all BTP endpoints (a token of the global account's XSUAA zone, i.e. of the cis key).

Reference: btp-account-apis.md
- 3 Accounts: `GET /accounts/v1/subaccounts` → `{"value": [...]}`; `GET /accounts/v1/subaccounts/{guid}` → the
  object, or 404 code 20004;
- 4 Provisioning (minimal): `GET /provisioning/v1/environments` → `{"environmentInstances": [...]}`, one Cloud
  Foundry environment per CF org, `labels`/`parameters` as JSON-encoded strings, `platformId` = the org guid.
  The real endpoint answers for the subaccount of a `local` cis token (scope `subaccount.environment.read`): so
  does the simulator (the subaccount's own environments); it also accepts the global account's `central` token
  (unless `/_sim/config` `central_reads_environments` is false: 403 code 11003) and then lists the environments of
  all subaccounts, each with its `subaccountGUID`;
- `GET /jobs-management/v1/jobs/{id}/status` → `{"status": "IN_PROGRESS"|"COMPLETED"|"FAILED", ...}`;
- 3 Accounts v2 `GET|POST /accounts/v2/subaccounts/{guid}/serviceManagerBindings` (`{"name"}` → 201 with
  `name`, `clientid`, `clientsecret`, `url` (the subaccount's XSUAA zone), `sm_url`, `xsappname`,
  `creationDate`; 409 code 20010 name taken), `GET|DELETE .../serviceManagerBindings/{name}` (404 code 20004);
  the list answers 404 when the subaccount has no binding (SAP's API description). The code 20010 is
  the simulator's choice in the accounts family (2xxxx).
"""

from __future__ import annotations

import json
from typing import Any

from werkzeug.wrappers import Response

from provisioner.sim.btp.backend import LOCAL_XSAPPNAME, BtpBackend
from provisioner.sim.btp.model import EnvironmentOrg, Subaccount
from provisioner.sim.core.errors import btp_error
from provisioner.sim.core.http import Ctx, json_response
from provisioner.sim.core.ids import stable_guid

NOT_FOUND = "Global account or subaccount not found"


def require_cis_token(ctx: Ctx, btp: BtpBackend, scope: str | None = None) -> dict[str, Any]:
    """Claims of a valid token of the global account zone (401 code 11002 / 403 code 11003 otherwise)."""
    ga = btp.ga
    path = ctx.request.path
    value = ctx.bearer()
    if not value:
        raise btp_error(path, 401, 11002, "Unauthorized: a bearer token is required")
    claims = ctx.access_claims(value)
    if claims is None or claims.get("zid") != ga.zone_id:
        raise btp_error(path, 401, 11002, "Unauthorized: the bearer token is invalid or expired")
    if scope is not None and f"{ga.cis.xsappname}.{scope}" not in claims.get("scope", []):
        raise btp_error(path, 403, 11003, f"Forbidden: the token lacks the scope '{scope}'")
    return claims


# ---- Accounts ------------------------------------------------------------------------------------


def present_subaccount(btp: BtpBackend, s: Subaccount) -> dict[str, Any]:
    ga = btp.ga
    return {
        "guid": s.guid, "technicalName": s.guid, "displayName": s.display_name, "description": s.description,
        "globalAccountGUID": ga.guid, "parentGUID": ga.guid, "parentType": "ROOT", "region": s.region,
        "subdomain": s.subdomain, "betaEnabled": s.beta_enabled, "usedForProduction": s.used_for_production,
        "state": "OK", "stateMessage": "Subaccount created.", "contractStatus": "ACTIVE",
        "createdDate": s.created_ms, "modifiedDate": s.modified_ms, "createdBy": "",
        "labels": {k: list(v) for k, v in s.labels.items()}, "customProperties": [],
    }


def list_subaccounts(ctx: Ctx, btp: BtpBackend) -> Response:
    require_cis_token(ctx, btp, "global-account.subaccount.read")
    return json_response({"value": [present_subaccount(btp, s) for s in btp.subaccounts.values()]},
                         headers={"X-CorrelationID": ctx.request.headers.get("X-CorrelationID", "")})


def get_subaccount(ctx: Ctx, btp: BtpBackend, guid: str) -> Response:
    require_cis_token(ctx, btp, "global-account.subaccount.read")
    sub = btp.subaccounts.get(guid)
    if sub is None:
        raise btp_error(ctx.request.path, 404, 20004, NOT_FOUND)
    return json_response(present_subaccount(btp, sub))


# ---- Provisioning --------------------------------------------------------------------------------


def present_environment(ctx: Ctx, btp: BtpBackend, org: EnvironmentOrg) -> dict[str, Any]:
    sub = btp.subaccounts[org.subaccount_guid]
    labels = {"API Endpoint": ctx.url, "Org Name": org.name, "Org ID": org.guid}
    return {
        "id": stable_guid("environment", org.guid).upper(), "name": org.name,
        "brokerId": stable_guid("broker", "cloudfoundry").upper(), "globalAccountGUID": btp.ga.guid,
        "subaccountGUID": sub.guid, "tenantId": sub.tenant_id,
        "serviceId": "fa31b750-4b1a-4c6c-a2a5-3d6c8e7f9a01", "planId": "fc5ffd2a-7b4c-4d1e-9f0a-6b3c2d1e0f12",
        "operation": "provision", "parameters": json.dumps({"instance_name": org.name, "status": "ACTIVE"}),
        "labels": json.dumps(labels), "customLabels": {}, "type": "Provision",
        "environmentType": "cloudfoundry", "landscapeLabel": f"cf-{sub.region}", "platformId": org.guid,
        "state": "OK", "stateMessage": "Environment instance created.", "serviceName": "cloudfoundry",
        "planName": "standard",
        "createdDate": sub.created_ms, "modifiedDate": sub.modified_ms, "dashboardUrl": None,
    }


def local_subaccount(ctx: Ctx, btp: BtpBackend) -> Subaccount | None:
    """The subaccount of a `local` cis key's token (its zone, its client; 403 code 11003 without the scope
    `subaccount.environment.read`), or None for any other token (checked as the global account's)."""
    claims = ctx.access_claims(ctx.bearer() or "")
    if claims is None or claims.get("zid") == btp.ga.zone_id:
        return None
    sub = next((s for s in btp.subaccounts.values() if s.tenant_id == claims.get("zid")), None)
    if sub is None or claims.get("client_id") != btp.local_client(sub)[0]:
        return None
    if f"{LOCAL_XSAPPNAME}.subaccount.environment.read" not in claims.get("scope", []):
        raise btp_error(ctx.request.path, 403, 11003, "Forbidden: the token lacks the scope "
                        "'subaccount.environment.read'")
    return sub


def list_environments(ctx: Ctx, btp: BtpBackend) -> Response:
    """A `local` key's token: its subaccount's environments. The global account's `central` token: all of them,
    unless `central_reads_environments` is off (403 code 11003)."""
    sub = local_subaccount(ctx, btp)
    if sub is None:
        require_cis_token(ctx, btp)
        if not btp.config.central_reads_environments:
            raise btp_error(ctx.request.path, 403, 11003, "Forbidden: the token lacks the scope "
                            "'subaccount.environment.read'")
    envs = [present_environment(ctx, btp, o) for o in btp.environment_orgs()
            if sub is None or o.subaccount_guid == sub.guid]
    return json_response({"environmentInstances": envs})


# ---- jobs-management -----------------------------------------------------------------------------


def job_status(ctx: Ctx, btp: BtpBackend, job_id: str) -> Response:
    require_cis_token(ctx, btp, "job.read")
    job = btp.jobs_by_number.get(int(job_id)) if job_id.isdigit() else None
    if job is None:
        raise btp_error(ctx.request.path, 404, 80004, f"Job {job_id} not found")
    if job.running:
        return json_response({"status": "IN_PROGRESS", "description": "Job is in progress."})
    if job.failure:
        return json_response({"status": "FAILED", "description": job.failure})
    return json_response({"status": "COMPLETED", "description": "Job completed successfully."})


# ---- Accounts v2: Service Manager bindings of a subaccount -----------------------------------------


def _subaccount(ctx: Ctx, btp: BtpBackend, guid: str) -> Subaccount:
    sub = btp.subaccounts.get(guid)
    if sub is None:
        raise btp_error(ctx.request.path, 404, 20004, NOT_FOUND)
    return sub


def list_sm_bindings(ctx: Ctx, btp: BtpBackend, guid: str) -> Response:
    """`{"items": [...]}`; 404 when the subaccount has none (as SAP's API says)."""
    require_cis_token(ctx, btp, "global-account.subaccount.read")
    items = btp.sm_bindings(_subaccount(ctx, btp, guid).guid)
    if not items:
        raise btp_error(ctx.request.path, 404, 20004, "No Service Manager bindings found for the subaccount")
    return json_response({"items": items})


def get_sm_binding(ctx: Ctx, btp: BtpBackend, guid: str, name: str) -> Response:
    require_cis_token(ctx, btp, "global-account.subaccount.read")
    found = next((b for b in btp.sm_bindings(_subaccount(ctx, btp, guid).guid) if b["name"] == name), None)
    if found is None:
        raise btp_error(ctx.request.path, 404, 20004, f"Service Manager binding {name} not found")
    return json_response(found)


def create_sm_binding(ctx: Ctx, btp: BtpBackend, guid: str) -> Response:
    """201 with the binding's credentials; 409 when the name is taken in the subaccount."""
    require_cis_token(ctx, btp, "global-account.subaccount.update")
    sub = _subaccount(ctx, btp, guid)
    body = ctx.json_body()
    name = body.get("name") if isinstance(body, dict) else None
    if not isinstance(name, str) or not name.strip():
        raise btp_error(ctx.request.path, 400, 11000, "Request payload is invalid: name: must not be empty")
    if any(b["name"] == name for b in btp.sm_bindings(sub.guid)):
        raise btp_error(ctx.request.path, 409, 20010,
                        f"Service Manager binding with the name {name} already exists for this subaccount")
    return json_response(btp.sm_binding_create(sub.guid, name), 201)


def delete_sm_binding(ctx: Ctx, btp: BtpBackend, guid: str, name: str) -> Response:
    require_cis_token(ctx, btp, "global-account.subaccount.update")
    if not btp.sm_binding_delete(_subaccount(ctx, btp, guid).guid, name):
        raise btp_error(ctx.request.path, 404, 20004, f"Service Manager binding {name} not found")
    return json_response({})
