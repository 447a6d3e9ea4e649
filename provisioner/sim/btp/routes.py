"""Route table of the BTP account APIs; each handler gets `(ctx, backend, **url arguments)`."""

from __future__ import annotations

from collections.abc import Callable

from werkzeug.routing import Rule

from provisioner.sim.btp import entitlements as ent
from provisioner.sim.btp import handlers as h

JOB_STATUS = "/jobs-management/v1/jobs/<job_id>/status"  # served on every BTP host
SM_BINDINGS = "/btp/accounts/accounts/v2/subaccounts/<guid>/serviceManagerBindings"

ROUTES: list[tuple[str, str, Callable[..., object]]] = [
    ("GET", "/btp/accounts/accounts/v1/subaccounts", h.list_subaccounts),
    ("GET", "/btp/accounts/accounts/v1/subaccounts/<guid>", h.get_subaccount),
    ("GET", "/btp/accounts" + JOB_STATUS, h.job_status),
    ("GET", SM_BINDINGS, h.list_sm_bindings),
    ("POST", SM_BINDINGS, h.create_sm_binding),
    ("GET", SM_BINDINGS + "/<name>", h.get_sm_binding),
    ("DELETE", SM_BINDINGS + "/<name>", h.delete_sm_binding),
    ("GET", "/btp/entitlements/entitlements/v1/assignments", ent.get_assignments),
    ("PUT", "/btp/entitlements/entitlements/v1/subaccountServicePlans", ent.put_subaccount_plans),
    ("GET", "/btp/entitlements" + JOB_STATUS, h.job_status),
    ("GET", "/btp/provisioning/provisioning/v1/environments", h.list_environments),
    ("GET", "/btp/provisioning" + JOB_STATUS, h.job_status),
]


def rules() -> list[Rule]:
    """The routes; each endpoint is ``("btp", handler)``: the app calls ``handler(ctx, btp=backend, **args)``."""
    return [Rule(path, endpoint=("btp", handler), methods=[method]) for method, path, handler in ROUTES]
