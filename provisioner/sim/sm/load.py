"""Loading Service Manager's part of a landscape: the broker catalog (from the CF marketplace's offerings, so both
platforms offer the same plans) and each subaccount's `service_manager` instances with their bindings."""

from __future__ import annotations

from typing import Any

from provisioner.sim.core.ids import iso_now, new_guid, stable_guid
from provisioner.sim.core.schema import Locator, Path_
from provisioner.sim.sm.backend import BINDINGS, INSTANCES, SmBackend
from provisioner.sim.sm.model import Binding, CatalogOffering, CatalogPlan, Instance, Operation


def add_offering(sm: SmBackend, offering: CatalogOffering, plans: list[CatalogPlan]) -> None:
    sm.offerings[offering.id] = offering
    for plan in plans:
        sm.plans[plan.id] = plan


def catalog_ids(platform_guid: str) -> str:
    """Service Manager's id of an offering or plan, derived from its CF guid (the two platforms number apart)."""
    return stable_guid("service-manager", platform_guid)


def load_instances(sm: SmBackend, entries: list[dict[str, Any]], subaccount_guid: str, path: Path_,
                   loc: Locator) -> None:
    """A subaccount's `service_manager.instances` at `path`: instances that already exist (created and ready),
    with their bindings; credentials are generated once the server knows its URL (`set_base_url`)."""
    for i, e in enumerate(entries):
        where = path + (i,)
        offering = next((o for o in sm.offerings.values() if o.name == e["offering"]), None)
        if offering is None:
            raise loc.error(where + ("offering",), f"unknown offering {e['offering']!r}; use one of service_offerings")
        plan = next((p for p in sm.plans.values() if p.offering_id == offering.id and p.name == e["plan"]), None)
        if plan is None:
            raise loc.error(where + ("plan",), f"offering {offering.name} has no plan {e['plan']!r}; use one of its "
                            "plans")
        created = _timestamp(e.get("created_at"))
        inst = sm.add_instance(subaccount_guid, e["name"], plan, dict(e.get("parameters") or {}),
                               {k: list(v) for k, v in (e.get("labels") or {}).items()}, e.get("created_by"),
                               created, e.get("guid") or stable_guid("sm-instance", subaccount_guid, e["name"]))
        inst.ready = inst.usable = True
        _created(sm, inst, INSTANCES, subaccount_guid)
        for b in e.get("bindings") or []:
            binding = sm.add_binding(inst, b["name"], {}, {k: list(v) for k, v in (b.get("labels") or {}).items()},
                                     b.get("created_by"), _timestamp(b.get("created_at")),
                                     b.get("guid") or stable_guid("sm-binding", inst.id, b["name"]))
            binding.ready = True
            _created(sm, binding, BINDINGS, subaccount_guid)


def _created(sm: SmBackend, obj: Instance | Binding, resource_type: str, subaccount_guid: str) -> None:
    """The succeeded create operation of a resource the landscape declares."""
    op = Operation(new_guid(), "create", obj.id, resource_type, obj.created_at, obj.created_at, "succeeded",
                   "Create succeeded")
    obj.last_operation = op
    sm.operations[op.id] = (subaccount_guid, op)


def _timestamp(value: Any) -> str:
    """An SM timestamp from a landscape date or date-time (the current time when absent)."""
    if not value:
        return iso_now()
    text = str(value)
    return text if "T" in text else f"{text}T09:00:00.000000Z"


def set_base_url(sm: SmBackend, url: str) -> None:
    """Called once the server listens: credentials of the bindings declared in the landscape."""
    sm.base_url = url
    for b in sm.bindings.values():
        if b.credentials is None:
            b.credentials = sm.credentials(sm.instances[b.instance_id], b)
