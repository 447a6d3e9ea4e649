"""The service platform over SAP Service Manager (:mod:`provisioner.clients.sm`): subaccount-level instances (runtime
environment "Other") and their service bindings, the route SAP's setup guide recommends ("without Cloud Foundry").

The "space" of the :class:`~provisioner.platform.ServicePlatform` interface is the subaccount here (the client is
bound to one subaccount by its credentials), so the argument is not used. The record kept on an instance is a set
of labels (``provisioner/parameters-sha256``, ``provisioner/xsappname``) plus ``provisioner/managed-by:
provisioner``, which also marks the bindings this tool creates; Service Manager labels hold lists of strings, the
record takes the first. An operation is the ``Location`` of a 202 (``/v1/{kind}/{id}/operations/{op}``).
Instances of the subaccount's Cloud Foundry environment (``context.platform`` ``cloudfoundry``), which Service
Manager lists too, are never taken as this platform's.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from provisioner.clients.sm import ServiceManager
from provisioner.errors import StepFailed
from provisioner.platform import (
    MANAGED_BY,
    MANAGED_RECORD,
    Found,
    FoundKey,
    Operation,
    ServiceInstance,
    ServiceKey,
    ServicePlan,
    generated,
)
from provisioner.playbook.load import Playbook
from provisioner.waits.wait import WaitSettings

INSTANCES, BINDINGS = "service_instances", "service_bindings"


def environment(item: Mapping[str, Any]) -> str:
    """Where an instance was made: ``cloudfoundry`` (a CF space of the subaccount), ``kubernetes``, or
    ``subaccount`` (Service Manager itself: runtime environment "Other")."""
    context = item.get("context") if isinstance(item.get("context"), Mapping) else {}
    platform = str((context or {}).get("platform") or "")
    if platform in ("cloudfoundry", "kubernetes"):
        return platform
    return "subaccount"


def record_of(labels: Any) -> dict[str, str]:
    """Labels ``{"k": ["v", ...]}`` → ``{"k": "v"}`` (the first value)."""
    if not isinstance(labels, Mapping):
        return {}
    out = {}
    for key, values in labels.items():
        if isinstance(values, list) and values:
            out[str(key)] = str(values[0])
        elif isinstance(values, str):
            out[str(key)] = values
    return out


def _operation(item: Mapping[str, Any]) -> Operation:
    """The item's ``last_operation``. Peripli's states are ``pending`` (a cascade operation waiting to be handled),
    ``in progress``, ``succeeded`` and ``failed``; a failed one whose ``deletion_scheduled`` is set (not Go's zero
    time ``0001-01-01T00:00:00Z``) is being cleaned up by Service Manager (orphan mitigation): not settled."""
    op = item.get("last_operation") or {}
    kind = op.get("type")
    scheduled = op.get("deletion_scheduled")
    cleanup = isinstance(scheduled, str) and bool(scheduled) and not scheduled.startswith("0001-01-01")
    return Operation(str(kind).lower() if kind else None, op.get("state"), op.get("description"), cleanup)


def to_instance(item: Mapping[str, Any]) -> ServiceInstance:
    return ServiceInstance(str(item["id"]), str(item.get("name", "")), item.get("service_plan_id"),
                           _operation(item), record_of(item.get("labels")), item.get("created_at"))


def to_key(item: Mapping[str, Any]) -> ServiceKey:
    return ServiceKey(str(item["id"]), str(item.get("name", "")), _operation(item), item.get("created_at"),
                      record_of(item.get("labels")))


def labels_of(record: Mapping[str, str]) -> dict[str, list[str]]:
    """The record as Service Manager labels, with the tool's mark."""
    return {**{k: [v] for k, v in record.items()}, MANAGED_RECORD: [MANAGED_BY]}


class ServiceManagerPlatform:
    """:class:`~provisioner.platform.ServicePlatform` on a :class:`ServiceManager` client of one subaccount."""

    def __init__(self, sm: ServiceManager, subaccount: str = "the subaccount"):
        self.sm = sm
        #: the subaccount the client is bound to (by its credentials), as the playbook names it
        self.subaccount = subaccount
        #: whether the offering returns instance parameters (its ``instances_retrievable``), once known
        self.retrievable: bool | None = None

    def find_plan(self, offering: str, plan: str, *, space: str) -> ServicePlan | None:
        """Offering by ``catalog_name``, then its plan by ``catalog_name`` (None: not entitled)."""
        found = self.sm.offering(offering)
        if found is None:
            return None
        self.retrievable = bool(found.get("instances_retrievable", True))
        p = self.sm.plan(str(found["id"]), plan)
        return ServicePlan(str(p["id"]), str(p.get("catalog_name") or p.get("name") or plan), offering) if p else None

    def find_instance(self, space: str, name: str) -> ServiceInstance | None:
        """``GET /v1/service_instances?fieldQuery=name eq '…'`` (subaccount-level ones only)."""
        found = [i for i in self.sm.instances(name=name) if environment(i) == "subaccount"]
        return to_instance(found[0]) if found else None

    def list_instances(self, space: str, plan: str | None = None) -> list[ServiceInstance]:
        """``GET /v1/service_instances[?fieldQuery=service_plan_id eq '…']`` (subaccount-level ones only)."""
        return [to_instance(i) for i in self.sm.instances(plan_id=plan) if environment(i) == "subaccount"]

    def read_instance(self, guid: str) -> ServiceInstance:
        """``GET /v1/service_instances/{id}``; raises StepFailed when it is gone."""
        item = self.sm.get(INSTANCES, guid)
        if item is None:
            raise StepFailed(f"service instance {guid} is gone (deleted meanwhile?); re-run")
        return to_instance(item)

    def instance_parameters(self, guid: str) -> Mapping[str, Any] | None:
        """``GET /v1/service_instances/{id}/parameters``; None when the offering does not return them."""
        if self.retrievable is False:
            return None
        return self.sm.instance_parameters(guid)

    def create_instance(self, space: str, plan: str, name: str, parameters: Mapping[str, Any],
                        record: Mapping[str, str]) -> str | None:
        """``POST /v1/service_instances?async=true`` with the record and the tool's mark as labels → the
        operation (None when done at once). A taken name raises :class:`~provisioner.errors.NameTaken` (409)."""
        body = {"name": name, "service_plan_id": plan, "parameters": dict(parameters), "labels": labels_of(record)}
        return self.sm.create(INSTANCES, body).operation

    def update_instance(self, guid: str, *, parameters: Mapping[str, Any], record: Mapping[str, str],
                        plan: str | None = None) -> str | None:
        """``PATCH /v1/service_instances/{id}?async=true``: parameters, plan, and the record's labels replaced
        (label operations ``remove`` then ``add``) → the operation."""
        current = self.sm.get(INSTANCES, guid) or {}
        have = current.get("labels") if isinstance(current.get("labels"), Mapping) else {}
        ops: list[dict[str, Any]] = []
        for key, values in labels_of(record).items():
            if (have or {}).get(key) == values:
                continue
            if key in (have or {}):
                ops.append({"op": "remove", "key": key})
            ops.append({"op": "add", "key": key, "values": values})
        body: dict[str, Any] = {"parameters": dict(parameters)}
        if ops:
            body["labels"] = ops
        if plan is not None:
            body["service_plan_id"] = plan
        return self.sm.update(INSTANCES, guid, body).operation

    def delete_instance(self, guid: str) -> str | None:
        """``DELETE /v1/service_instances/{id}?async=true`` → the operation."""
        return self.sm.delete(INSTANCES, guid).operation

    def find_key(self, instance: str, name: str) -> ServiceKey | None:
        """``GET /v1/service_bindings?fieldQuery=service_instance_id eq '…' and name eq '…'``."""
        found = self.sm.bindings(instance, name=name)
        return to_key(found[0]) if found else None

    def list_keys(self, instance: str) -> list[ServiceKey]:
        """Every binding of the instance (every page)."""
        return [to_key(b) for b in self.sm.bindings(instance)]

    def create_key(self, instance: str, name: str, parameters: Mapping[str, Any] | None = None,
                   record: Mapping[str, str] | None = None) -> str | None:
        """``POST /v1/service_bindings?async=true`` (``parameters``, none by default; ``record`` and the tool's mark
        as labels) → the operation. A taken name raises :class:`~provisioner.errors.NameTaken` (409)."""
        body = {"name": name, "service_instance_id": instance, "parameters": dict(parameters or {}),
                "labels": labels_of(record or {})}
        return self.sm.create(BINDINGS, body).operation

    def read_key(self, guid: str) -> ServiceKey:
        """``GET /v1/service_bindings/{id}``; raises StepFailed when it is gone."""
        item = self.sm.get(BINDINGS, guid)
        if item is None:
            raise StepFailed(f"service binding {guid} is gone (deleted meanwhile?); re-run")
        return to_key(item)

    def delete_key(self, guid: str) -> str | None:
        """``DELETE /v1/service_bindings/{id}?async=true`` → the operation."""
        return self.sm.delete(BINDINGS, guid).operation

    def key_credentials(self, guid: str) -> dict[str, Any]:
        """``GET /v1/service_bindings/{id}`` → its ``credentials`` (secrets: never print them)."""
        item = self.sm.get(BINDINGS, guid)
        creds = (item or {}).get("credentials")
        if not isinstance(creds, dict) or not creds:
            raise StepFailed(f"service binding {guid} has no credentials (is it still being created?)")
        return creds

    def wait_operation(self, operation: str, settings: WaitSettings, what: str) -> str | None:
        """Poll the operation until ``succeeded`` → the id of the resource it made."""
        return self.sm.wait(operation, settings, what)

    def wait_key(self, operation: str, settings: WaitSettings, what: str) -> tuple[str | None, dict[str, Any] | None]:
        """:meth:`wait_operation` → (the binding's id, None: its credentials are read after)."""
        return self.wait_operation(operation, settings, what), None

    # -- the subaccount route: what differs from Cloud Foundry ------------------------------------------------

    def scope(self, space: str | None) -> str | None:
        """The subaccount: instances live at subaccount level, without a space."""
        return self.subaccount

    def where(self, space_name: str) -> str:
        return "the subaccount"

    def key_kind(self) -> str:
        return "service binding"

    def marks_own(self) -> bool:
        """The label ``provisioner/managed-by: provisioner`` on every instance and binding this tool makes."""
        return True

    def foreign(self, record: Mapping[str, str]) -> bool:
        """No mark: someone else made it."""
        return record.get(MANAGED_RECORD) != MANAGED_BY

    def ours(self, record: Mapping[str, str]) -> bool:
        return record.get(MANAGED_RECORD) == MANAGED_BY

    def as_made(self, record: Mapping[str, str]) -> dict[str, str]:
        """The record with the mark (:func:`labels_of` sends it)."""
        return {**record, MANAGED_RECORD: MANAGED_BY}

    def update_xsappname(self, instance: ServiceInstance, current: str) -> str:
        """The instance's GUID (SAP: "If you're updating an existing instance, replace <your-instance-name> with
        your instance ID (GUID)")."""
        return instance.guid

    def clear_failed(self, instance: ServiceInstance, settings: WaitSettings, what: str) -> None:
        """Service Manager keeps an instance whose create failed: delete it and wait (``DELETE
        /v1/service_instances/{id}?async=true``)."""
        operation = self.delete_instance(instance.guid)
        if operation is not None:
            self.wait_operation(operation, settings, what)

    def locate_instance(self, settings: Playbook) -> Found:
        """By plan and creator at subaccount level (:func:`provisioner.platform.generated.locate_instance`)."""
        return generated.locate_instance(self, settings)

    def locate_key(self, instance: ServiceInstance, settings: Playbook) -> FoundKey:
        """By creator among the instance's bindings (:func:`provisioner.platform.generated.locate_key`)."""
        return generated.locate_key(self.list_keys(instance.guid), instance, settings)
