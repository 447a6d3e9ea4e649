"""Handlers of the BTP Entitlements service (`endpoints.entitlements_service_url` = `<url>/btp/entitlements`).

Reference: btp-account-apis.md section 2:
- 2.1 `GET /entitlements/v1/assignments?subaccountGUID=&serviceName=&planName=&includeAutoManagedPlans=`
  → `{"entitledServices": [...], "assignedServices": [...]}` (plan `category`, `amount`,
  `remainingAmount`, `unlimited`, `uniqueIdentifier`; `assignmentInfo[]` with `entityState`
  STARTED|PROCESSING|OK|PROCESSING_FAILED and epoch-ms dates; enable-type assignments report `amount: 1`);
- 2.2 `PUT /entitlements/v1/subaccountServicePlans` → 202, `Location: /jobs-management/v1/jobs/<n>/status`
  (relative), body `{"jobId": "<n>"}`; `amount` sets the absolute quota (0 unassigns), `enable` switches
  enable-type plans (ELASTIC_SERVICE, ELASTIC_LIMITED, APPLICATION) on or off. The assignment is STARTED at
  once, PROCESSING while the job runs and OK when it completes (core/jobs.py);
- 2.3 errors: 30015/409 plan not in the global account, 30009/409 quota exceeded, 12003/400 `amount` for an
  enable-type plan or `enable` for a quota plan, 30001/400 ambiguous plan name, 11000/400 invalid payload,
  and, injected at `faults.entitlement_lock_rate` after validation, 30004/400 (locked, retryable).
"""

from __future__ import annotations

from typing import Any

from werkzeug.wrappers import Response

from provisioner.sim.btp.backend import BtpBackend
from provisioner.sim.btp.handlers import NOT_FOUND, require_cis_token
from provisioner.sim.btp.model import Assignment, Entitlement
from provisioner.sim.core.errors import btp_error
from provisioner.sim.core.http import Ctx, SimError, json_response

MSG_AMOUNT_FOR_ENABLE = (
    "The enable parameter has not been set or the amount parameter was set with a quota value (setting a "
    "quota is not supported by multitenant applications and by services that do not permit a numeric quota "
    "assignment).")
MSG_ENABLE_FOR_QUOTA = (
    "A quota was not set in the amount parameter or the enable parameter was set (setting the enable "
    "parameter is supported only by multitenant applications and by services that do not permit a numeric "
    "quota assignment).")
MSG_LOCKED = ("The entitlements of the subaccount are being updated by another operation and are locked. Try again "
              "later.")
_RUNNING_MESSAGES = {"STARTED": "Started to update assignment of service plan.",
                     "PROCESSING": "Processing update of assignment of service plan."}


# ---- GET /entitlements/v1/assignments ------------------------------------------------------------


def _service_entry(e: Entitlement) -> dict[str, Any]:
    return {"name": e.service, "displayName": e.service_display_name, "description": e.description,
            "businessCategory": {"id": "FOUNDATION_CROSS_SERVICES",
                                 "displayName": "Foundation / Cross Services"},
            "ownerType": "VENDOR", "iconBase64": None, "applicationCoordinates": None, "servicePlans": []}


def _plan_base(e: Entitlement) -> dict[str, Any]:
    return {"name": e.plan, "displayName": e.plan_display_name, "description": e.description,
            "uniqueIdentifier": e.unique_identifier, "category": e.category, "beta": False,
            "unlimited": e.unlimited, "maxAllowedSubaccountQuota": None}


def _entitled_plan(ctx: Ctx, btp: BtpBackend, e: Entitlement) -> dict[str, Any]:
    regions = sorted({s.region for s in btp.subaccounts.values()}) or ["eu10"]
    assigned = [a for a in btp.assignments if a.service == e.service and a.plan == e.plan]
    return {**_plan_base(e), "provisioningMethod": "SERVICE_BROKER", "amount": float(e.amount),
            "remainingAmount": float(btp.remaining(e)), "autoAssign": False, "autoDistributeAmount": None,
            "availableForInternal": False, "internalQuotaLimit": None, "providedBy": "VENDOR",
            "numberOfAssignedEntities": len(assigned), "sourceEntitlements": [],
            "dataCenters": [{"name": f"cf-{r}", "region": r, "environment": "cloudfoundry",
                             "iaasProvider": "AWS",
                             "provisioningServiceUrl": f"{ctx.url}/btp/provisioning",
                             "saasRegistryServiceUrl": "", "domain": ctx.url.split("://", 1)[-1]}
                            for r in regions],
            "resources": []}


def _assignment_info(btp: BtpBackend, a: Assignment, e: Entitlement) -> dict[str, Any]:
    state = btp.assignment_state(a)
    running = a.job is not None and a.job.running
    return {"entityId": a.subaccount_guid, "entityType": "SUBACCOUNT",
            "amount": 1 if e.enable_type else a.amount,
            "requestedAmount": (0 if a.removing else a.amount) if running else None,
            "entityState": state, "stateMessage": _RUNNING_MESSAGES.get(state, a.state_message),
            "autoAssign": False, "autoAssigned": False, "autoDistributeAmount": None,
            "unlimitedAmountAssigned": False, "createdDate": a.created_ms, "modifiedDate": a.modified_ms,
            "parentId": btp.ga.guid, "parentType": "GLOBAL_ACCOUNT", "parentAmount": float(e.amount),
            "parentRemainingAmount": float(btp.remaining(e)), "resources": []}


def get_assignments(ctx: Ctx, btp: BtpBackend) -> Response:
    require_cis_token(ctx, btp, "global-account.entitlement.read")
    args = ctx.request.args
    subaccount = args.get("subaccountGUID")
    if subaccount is not None and subaccount not in btp.subaccounts:
        raise btp_error(ctx.request.path, 404, 20004, NOT_FOUND)
    service, plan = args.get("serviceName"), args.get("planName")
    entitlements = [e for e in btp.ga.entitlements
                    if (service is None or e.service == service) and (plan is None or e.plan == plan)]
    entitled: dict[str, dict[str, Any]] = {}
    assigned: dict[str, dict[str, Any]] = {}
    for e in entitlements:
        entitled.setdefault(e.service, _service_entry(e))["servicePlans"].append(_entitled_plan(ctx, btp, e))
        infos = [_assignment_info(btp, a, e) for a in btp.assignments
                 if a.service == e.service and a.plan == e.plan
                 and (subaccount is None or a.subaccount_guid == subaccount)]
        if infos and args.get("entitledServicesOnly") != "true":
            entry = assigned.setdefault(e.service, _service_entry(e))
            entry["servicePlans"].append({**_plan_base(e), "assignmentInfo": infos})
    return json_response({"entitledServices": list(entitled.values()),
                          "assignedServices": list(assigned.values()),
                          "fetchErrorFromExternalProviderRegistry": False})


# ---- PUT /entitlements/v1/subaccountServicePlans -------------------------------------------------


def put_subaccount_plans(ctx: Ctx, btp: BtpBackend) -> Response:
    require_cis_token(ctx, btp, "global-account.entitlement.subaccount.update")
    path = ctx.request.path
    body = ctx.json_body()
    items = body.get("subaccountServicePlans") if isinstance(body, dict) else None
    if not isinstance(items, list) or not items:
        raise _invalid(path, "subaccountServicePlans: must not be empty")
    changes = [change for item in items for change in _changes(path, btp, item)]  # all or nothing
    if btp.faults.entitlement_locked():
        ctx.fault = "lock"
        raise btp_error(path, 400, 30004, MSG_LOCKED)
    job = btp.start_assignment(changes)
    return json_response({"jobId": str(job.number)}, 202,
                         {"Location": f"/jobs-management/v1/jobs/{job.number}/status"})


def _changes(path: str, btp: BtpBackend, item: Any) -> list[tuple[str, Entitlement, int]]:
    """The validated `(subaccount guid, entitlement, amount)` changes of one `subaccountServicePlans` item."""
    if (not isinstance(item, dict) or not isinstance(item.get("serviceName"), str)
            or not isinstance(item.get("servicePlanName"), str)
            or not isinstance(item.get("assignmentInfo"), list)):
        raise _invalid(path, "serviceName, servicePlanName and assignmentInfo are required")
    service, plan = item["serviceName"], item["servicePlanName"]
    changes = []
    for info in item["assignmentInfo"]:
        if not isinstance(info, dict) or not isinstance(info.get("subaccountGUID"), str):
            raise _invalid(path, "assignmentInfo.subaccountGUID is required")
        sub_guid = info["subaccountGUID"]
        if sub_guid not in btp.subaccounts:
            raise btp_error(path, 404, 20004, NOT_FOUND)
        ent = _entitlement(path, btp, item, sub_guid)
        if ent.enable_type:
            if "amount" in info or not isinstance(info.get("enable"), bool):
                raise btp_error(path, 400, 12003, MSG_AMOUNT_FOR_ENABLE)
            amount = 1 if info["enable"] else 0
        else:
            if "enable" in info or isinstance(info.get("amount"), bool) \
                    or not isinstance(info.get("amount"), int | float):
                raise btp_error(path, 400, 12003, MSG_ENABLE_FOR_QUOTA)
            amount = int(info["amount"])
            if amount < 0:
                raise _invalid(path, "amount must not be negative")
            others = btp.assigned_amount(ent.service, ent.plan, exclude_subaccount=sub_guid)
            if not ent.unlimited and others + amount > ent.amount:
                raise btp_error(
                    path, 409, 30009,
                    f"Cannot assign the quota for service '{service}' and service plan '{plan}' to "
                    f"subaccount {sub_guid}. The requested quota ({amount}) exceeds the maximum allowed "
                    f"amount ({ent.amount}) for this service plan across all subaccounts in this global "
                    "account or directory.")
        changes.append((sub_guid, ent, amount))
    return changes


def _invalid(path: str, detail: str) -> SimError:
    return btp_error(path, 400, 11000, f"Request payload is invalid: {detail}")


def _entitlement(path: str, btp: BtpBackend, item: dict[str, Any], sub_guid: str) -> Entitlement:
    service, plan = item["serviceName"], item["servicePlanName"]
    candidates = btp.entitlement(service, plan)
    unique = item.get("servicePlanUniqueIdentifier")
    if unique:
        candidates = [e for e in candidates if e.unique_identifier == unique]
    if not candidates:
        raise btp_error(path, 409, 30015,
                        f"Cannot assign service {service} and plan {plan} to subaccount {sub_guid}. The "
                        f"global account {btp.ga.guid} of this subaccount is not entitled to this service plan.")
    if len(candidates) > 1:
        raise btp_error(path, 400, 30001,
                        f"More than one plan exists for service name {service} and plan name {plan} in the "
                        "same region. Specify the unique identifier of the plan to assign.")
    return candidates[0]
