"""CF v3 service instances (cloud-foundry-v3-api.md 6: async create/update/delete, `/parameters`) and service
credential bindings of type key (8: async create/delete, `/details`, `/parameters`)."""

from __future__ import annotations

from typing import Any

from werkzeug.wrappers import Response

from provisioner.sim.cf import filters, present
from provisioner.sim.cf.backend import CfBackend
from provisioner.sim.cf.catalog import plan_visible
from provisioner.sim.cf.handlers import (
    Actor,
    authenticated,
    cf_body,
    check_fields,
    check_name,
    is_space_developer,
    job_location,
    merge,
    metadata,
    readable_spaces,
    relationship_guid,
    required_name,
)
from provisioner.sim.cf.model import Instance, Key
from provisioner.sim.core.errors import cf_error, cf_forbidden, cf_not_found, cf_unprocessable
from provisioner.sim.core.http import Ctx, SimError, json_response
from provisioner.sim.core.ids import iso_now
from provisioner.sim.core.listing import list_query, paginate, select

INVALID_PLAN = ("Invalid service plan. Ensure that the service plan exists, is available, and you have "
                "access to it.")
KEY_NOT_FOUND = "Service credential binding not found"


def _readable_instance(cf: CfBackend, actor: Actor, guid: str) -> Instance:
    inst = cf.instances.get(guid)
    if inst is None or inst.space_guid not in readable_spaces(cf, actor):
        raise cf_not_found("Service instance not found")
    return inst


def _readable_key(cf: CfBackend, actor: Actor, guid: str) -> Key:
    key = cf.keys.get(guid)
    if key is None or cf.instances[key.instance_guid].space_guid not in readable_spaces(cf, actor):
        raise cf_not_found(KEY_NOT_FOUND)
    return key


def _create_failed(obj: Instance | Key) -> bool:
    """Create failed and nothing runs (a finished job stays attached to its instance or key)."""
    return ((obj.job is None or obj.job.done) and obj.last_operation.type == "create"
            and obj.last_operation.state == "failed")


def _in_progress_409(inst: Instance) -> SimError:
    return cf_error(409, "CF-AsyncServiceInstanceOperationInProgress", 60016,
                    f"An operation for service instance {inst.name} is in progress.")


def _check_parameters(body: dict[str, Any]) -> dict[str, Any] | None:
    if "parameters" not in body:
        return None
    if not isinstance(body["parameters"], dict):
        raise cf_unprocessable("Parameters must be an object")
    return body["parameters"]


def _check_tags(body: dict[str, Any]) -> list[str] | None:
    if "tags" not in body:
        return None
    tags = body["tags"]
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise cf_unprocessable("Tags must be a list of strings")
    if len("".join(tags)) > 2048:
        raise cf_unprocessable("tags too_long")
    return tags


# ---- service instances ---------------------------------------------------------------------------


@authenticated
def list_instances(ctx: Ctx, cf: CfBackend, actor: Actor) -> Response:
    q = list_query(ctx, filters.INSTANCES, filters.NAMES)
    readable = readable_spaces(cf, actor)
    instances = cf.having("instances", q.values("space_guids"))
    items = select(q, (i for i in instances if i.space_guid in readable), filters.INSTANCES, cf)
    return paginate(ctx, q, "/v3/service_instances", items, lambda i: present.instance(ctx.url, cf, i))


@authenticated
def get_instance(ctx: Ctx, cf: CfBackend, actor: Actor, guid: str) -> Response:
    return json_response(present.instance(ctx.url, cf, _readable_instance(cf, actor, guid)))


@authenticated
def create_instance(ctx: Ctx, cf: CfBackend, actor: Actor) -> Response:
    body = cf_body(ctx)
    if body.get("type") not in ("managed", "user-provided"):
        raise cf_unprocessable("Type must be one of 'managed', 'user-provided'")
    if body["type"] == "user-provided":
        raise cf_unprocessable("The landscape simulator supports only managed service instances.")
    check_fields(body, ("type", "name", "tags", "relationships", "parameters", "metadata"))
    name = required_name(body)
    parameters = _check_parameters(body) or {}
    tags = _check_tags(body) or []
    labels, annotations = metadata(body)
    space = cf.spaces.get(relationship_guid(body, "space") or "")
    if space is None or space.guid not in readable_spaces(cf, actor):
        raise cf_unprocessable("Invalid space. Ensure that the space exists and you have access to it.")
    if not is_space_developer(cf, actor, space.guid):
        raise cf_forbidden()
    plan = cf.plans.get(relationship_guid(body, "service_plan") or "")
    if plan is None or not plan_visible(cf, actor, plan):
        raise cf_unprocessable(INVALID_PLAN)
    if not cf.plan_visible_in_org(plan, space.org_guid):
        raise cf_unprocessable(
            "Invalid service plan. This could be due to a space-scoped broker which is offering the service "
            f"plan '{plan.name}' with guid '{plan.guid}' in another space or that the plan is not enabled in "
            "this organization. Ensure that the service plan is visible in your current space "
            f"'{space.name}' with guid '{space.guid}'.")
    existing = next((i for i in cf.instances.values() if i.space_guid == space.guid and i.name == name), None)
    if existing is not None:
        if not _create_failed(existing):
            raise cf_unprocessable(f"The service instance name is taken: {name}.")
        cf.remove_instance(existing)
    job = cf.create_instance(name, space.guid, plan.guid, parameters, tags, merge({}, labels),
                             merge({}, annotations))
    return job_location(ctx, job)


@authenticated
def update_instance(ctx: Ctx, cf: CfBackend, actor: Actor, guid: str) -> Response:
    inst = _readable_instance(cf, actor, guid)
    body = cf_body(ctx)
    check_fields(body, ("name", "tags", "parameters", "relationships", "maintenance_info", "metadata"))
    if not is_space_developer(cf, actor, inst.space_guid):
        raise cf_forbidden()
    if _create_failed(inst):
        raise cf_error(404, "CF-ServiceInstanceNotFound", 60004,
                       f"The service instance could not be found: {inst.guid}")
    if cf.in_progress(inst) and any(k != "metadata" for k in body):
        raise _in_progress_409(inst)
    name = check_name(body, required=False)
    tags = _check_tags(body)
    parameters = _check_parameters(body)
    labels, annotations = metadata(body)
    new_plan_guid = relationship_guid(body, "service_plan")
    if new_plan_guid == inst.plan_guid:
        new_plan_guid = None
    if new_plan_guid is not None:
        plan = cf.plans.get(new_plan_guid)
        space = cf.spaces[inst.space_guid]
        if plan is None or not plan_visible(cf, actor, plan) or not cf.plan_visible_in_org(plan, space.org_guid):
            raise cf_unprocessable(INVALID_PLAN)
        if plan.offering_guid != cf.plans[inst.plan_guid].offering_guid:
            raise cf_error(400, "CF-InvalidRelation", 1002, "service plan relates to a different service offering")
        if not cf.offerings[plan.offering_guid].plan_updateable:
            raise cf_unprocessable("The service does not support changing plans.")
    maintenance = body.get("maintenance_info")
    if name is not None and name != inst.name and any(
            i.space_guid == inst.space_guid and i.name == name for i in cf.instances.values()):
        raise cf_unprocessable(f"The service instance name is taken: {name}")
    inst.name = name if name is not None else inst.name
    inst.tags = tags if tags is not None else inst.tags
    inst.labels = merge(inst.labels, labels)
    inst.annotations = merge(inst.annotations, annotations)
    inst.updated_at = iso_now()
    if parameters is not None or new_plan_guid is not None or isinstance(maintenance, dict):
        return job_location(ctx, cf.update_instance(inst, parameters, new_plan_guid))
    return json_response(present.instance(ctx.url, cf, inst))


@authenticated
def delete_instance(ctx: Ctx, cf: CfBackend, actor: Actor, guid: str) -> Response:
    inst = _readable_instance(cf, actor, guid)
    if ctx.request.args.get("purge") == "true":
        if not actor.admin:
            raise cf_forbidden()
        cf.remove_instance(inst)
        return Response(status=204)
    if not is_space_developer(cf, actor, inst.space_guid):
        raise cf_forbidden()
    if cf.in_progress(inst):
        raise _in_progress_409(inst)
    return job_location(ctx, cf.delete_instance(inst))


@authenticated
def instance_parameters(ctx: Ctx, cf: CfBackend, actor: Actor, guid: str) -> Response:
    inst = _readable_instance(cf, actor, guid)
    if not cf.instances_retrievable(cf.offering_of(inst)):
        raise cf_error(400, "CF-ServiceFetchInstanceParametersNotSupported", 120004,
                       "This service does not support fetching service instance parameters.")
    if cf.in_progress(inst):
        raise _in_progress_409(inst)
    if _create_failed(inst):
        raise cf_not_found("Service instance not found")
    return json_response(inst.parameters)


# ---- service credential bindings of type key -----------------------------------------------------


@authenticated
def list_keys(ctx: Ctx, cf: CfBackend, actor: Actor) -> Response:
    q = list_query(ctx, filters.KEYS, filters.NAMES)
    readable = readable_spaces(cf, actor)
    keys = cf.having("keys", q.values("service_instance_guids"))
    items = select(q, (k for k in keys if cf.instances[k.instance_guid].space_guid in readable), filters.KEYS, cf)
    return paginate(ctx, q, "/v3/service_credential_bindings", items, lambda k: present.key(ctx.url, cf, k))


@authenticated
def get_key(ctx: Ctx, cf: CfBackend, actor: Actor, guid: str) -> Response:
    return json_response(present.key(ctx.url, cf, _readable_key(cf, actor, guid)))


@authenticated
def create_key(ctx: Ctx, cf: CfBackend, actor: Actor) -> Response:
    body = cf_body(ctx)
    check_fields(body, ("type", "strategy", "name", "relationships", "parameters", "metadata"))
    if body.get("type") not in ("key", "app"):
        raise cf_unprocessable("Type must be 'app' or 'key'")
    if body["type"] == "app":
        raise cf_unprocessable("The landscape simulator supports only service credential bindings of type 'key'.")
    name = required_name(body)
    parameters = _check_parameters(body) or {}
    labels, annotations = metadata(body)
    instance_guid = relationship_guid(body, "service_instance") or ""
    inst = cf.instances.get(instance_guid)
    if inst is None or inst.space_guid not in readable_spaces(cf, actor):
        raise cf_unprocessable(f"The service instance could not be found: '{instance_guid}'")
    if not is_space_developer(cf, actor, inst.space_guid):
        raise cf_forbidden()
    if not cf.offering_of(inst).bindable:
        raise cf_unprocessable("Service plan does not allow bindings.")
    if _create_failed(inst):
        raise cf_unprocessable("Service instance not found")
    if cf.in_progress(inst):
        raise cf_unprocessable("There is an operation in progress for the service instance")
    existing = next((k for k in cf.keys_of(inst.guid) if k.name == name), None)
    if existing is not None:
        taken = "The binding name is invalid. Key binding names must be unique. The service instance already has a "
        if existing.last_operation.type == "delete":
            raise cf_unprocessable(f"{taken}key binding with the name '{name}' that is getting deleted or its "
                                   "deletion failed.")
        if not _create_failed(existing):
            raise cf_unprocessable(f"{taken}key binding with name '{name}'.")
        del cf.keys[existing.guid]
    job = cf.create_key(inst, name, parameters, merge({}, labels), merge({}, annotations))
    return job_location(ctx, job)


@authenticated
def key_details(ctx: Ctx, cf: CfBackend, actor: Actor, guid: str) -> Response:
    key = _readable_key(cf, actor, guid)
    if not is_space_developer(cf, actor, cf.instances[key.instance_guid].space_guid):
        raise cf_not_found(KEY_NOT_FOUND)
    op, op_state = key.last_operation, cf.operation_state(key)
    if op.type != "create" or op_state != "succeeded" or key.credentials is None:
        what = "Creation" if op.type == "create" else "Deletion"
        how = "failed" if op_state == "failed" else "in progress"
        raise cf_not_found(f"{what} of service key {how}")
    return json_response({"credentials": key.credentials})


@authenticated
def key_parameters(ctx: Ctx, cf: CfBackend, actor: Actor, guid: str) -> Response:
    return json_response(_readable_key(cf, actor, guid).parameters)


@authenticated
def delete_key(ctx: Ctx, cf: CfBackend, actor: Actor, guid: str) -> Response:
    key = _readable_key(cf, actor, guid)
    inst = cf.instances[key.instance_guid]
    if not is_space_developer(cf, actor, inst.space_guid):
        raise cf_forbidden()
    if cf.in_progress(key):
        raise cf_unprocessable("There is an operation in progress for the service binding.")
    if cf.in_progress(inst):
        raise cf_unprocessable("There is an operation in progress for the service instance.")
    return job_location(ctx, cf.delete_key(key))
