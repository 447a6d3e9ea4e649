"""JSON shapes of Service Manager resources (SAP's API "Service Manager" schemas, fields as SAP's recorded
responses show them)."""

from __future__ import annotations

from typing import Any

from provisioner.sim.sm.model import SM_PLATFORM, Binding, CatalogOffering, CatalogPlan, Instance, Operation

#: Go's zero time, as Peripli's `deletion_scheduled` reads when no orphan mitigation is scheduled
ZERO_TIME = "0001-01-01T00:00:00Z"


def operation(op: Operation) -> dict[str, Any]:
    state = op.current_state()
    running = state in ("in progress", "pending")
    body: dict[str, Any] = {
        "id": op.id, "ready": state != "in progress", "type": op.type, "state": state,
        "description": "" if running else op.description, "resource_id": op.resource_id,
        "resource_type": op.resource_type, "platform_id": SM_PLATFORM, "correlation_id": op.id,
        "reschedule": False, "deletion_scheduled": ZERO_TIME, "created_at": op.created_at,
        "updated_at": op.updated_at}
    if op.cascade_root_id:
        body["cascade_root_id"] = op.cascade_root_id
    if state == "failed":
        body["errors"] = [{"error": "BrokerError", "description": op.description}]
    return body


def offering(o: CatalogOffering) -> dict[str, Any]:
    return {"id": o.id, "ready": True, "name": o.name, "description": o.description, "bindable": o.bindable,
            "instances_retrievable": o.instances_retrievable, "bindings_retrievable": False,
            "plan_updateable": o.plan_updateable, "allow_context_updates": False, "tags": o.tags,
            "metadata": {"displayName": o.description}, "broker_id": o.broker_id, "catalog_id": o.catalog_id,
            "catalog_name": o.name, "created_at": o.created_at, "updated_at": o.created_at}


def plan(p: CatalogPlan) -> dict[str, Any]:
    return {"id": p.id, "ready": True, "name": p.name, "description": p.description, "catalog_id": p.catalog_id,
            "catalog_name": p.name, "free": True, "bindable": True, "metadata": {},
            "service_offering_id": p.offering_id, "created_at": p.created_at, "updated_at": p.created_at}


def instance(inst: Instance, with_operation: bool) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": inst.id, "ready": inst.ready, "name": inst.name, "service_plan_id": inst.plan_id,
        "platform_id": inst.platform_id, "context": inst.context, "usable": inst.usable,
        "created_at": inst.created_at, "updated_at": inst.updated_at, "labels": inst.labels}
    if inst.created_by is not None:
        body["created_by"] = inst.created_by
    if inst.updated_by is not None:
        body["updated_by"] = inst.updated_by
    if with_operation and inst.last_operation is not None:
        body["last_operation"] = operation(inst.last_operation)
    return body


def binding(b: Binding, with_operation: bool) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": b.id, "ready": b.ready, "name": b.name, "service_instance_id": b.instance_id, "context": b.context,
        "created_at": b.created_at, "updated_at": b.updated_at, "labels": b.labels}
    if b.credentials is not None:
        body["credentials"] = b.credentials
    if b.created_by is not None:
        body["created_by"] = b.created_by
    if b.updated_by is not None:
        body["updated_by"] = b.updated_by
    if with_operation and b.last_operation is not None:
        body["last_operation"] = operation(b.last_operation)
    return body


