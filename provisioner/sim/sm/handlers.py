"""Handlers of Service Manager (`sm_url` = `<url>/sm`; reference: Peripli specification api.md, SAP's API
"Service Manager" as in SAP/crossplane-provider-btp's `btp-service-manager-api-go/swagger.json`).

- Bearer: a client-credentials token of a Service Manager access binding (`serviceManagerBindings`) from the XSUAA
  zone of its subaccount (`/xsuaa/<subdomain>/oauth/token`); it sees that subaccount only. Otherwise 401.
- Lists `GET /v1/service_offerings|service_plans|service_instances|service_bindings` (sm/query.py); one item
  `GET .../{id}` (with `last_operation`); `GET /v1/service_instances/{id}/parameters` (400 when the offering is
  not `instances_retrievable`, 404 while the create runs).
- `POST /v1/service_instances` `{"name", "service_plan_id" | "service_offering_name" + "service_plan_name",
  "parameters", "labels"}`, `PATCH` (`name`, `service_plan_id`, `parameters`, `labels`: add/remove operations) and
  `DELETE`; `POST /v1/service_bindings` `{"name", "service_instance_id", "parameters", "labels"}` and `DELETE`.
  Asynchronous unless `async=false`: 202, body `{}`, `Location: /v1/<type>/{id}/operations/{op}`; synchronous:
  201 / 200 with the resource. Errors `{"error", "description"}`: 400 BadRequest, 404 NotFound, 409 Conflict
  (instance name taken among the subaccount's Service Manager instances, binding name taken on the instance),
  422 ConcurrentOperationInProgress (an operation of the instance or binding runs). Instances of the Cloud
  Foundry environment are listed (platform `cloudfoundry`) but changed only in Cloud Foundry: 400.
- `GET /v1/{service_instances|service_bindings}/{id}/operations/{op}`.
"""

from __future__ import annotations

from typing import Any

from werkzeug.wrappers import Response

from provisioner.sim.core.errors import SM_CONCURRENT, sm_error
from provisioner.sim.core.http import Ctx, SimError, json_response
from provisioner.sim.sm import present
from provisioner.sim.sm.backend import BINDINGS, INSTANCES, SM_XSAPPNAME, SmBackend
from provisioner.sim.sm.labels import label_changes
from provisioner.sim.sm.model import SM_PLATFORM, Binding, Instance, Labels, Operation
from provisioner.sim.sm.query import filtered, page


def _actor(ctx: Ctx, sm: SmBackend, scope: str) -> tuple[str, str]:
    """(subaccount guid, caller) of the request's token; 401 / 403 otherwise."""
    token = ctx.bearer()
    claims = ctx.access_claims(token) if token else None
    access = sm.access_client(str(claims.get("client_id", ""))) if claims else None
    if claims is None or access is None:
        raise sm_error(401, "Unauthorized", "authentication failed: the bearer token is missing, invalid or expired")
    if f"{SM_XSAPPNAME}.{scope}" not in claims.get("scope", []):
        raise sm_error(403, "Forbidden", f"the token lacks the scope {SM_XSAPPNAME}.{scope}")
    return access.subaccount_guid, str(claims.get("user_name") or claims["client_id"])


def _not_found(resource_type: str) -> SimError:
    return sm_error(404, "NotFound", f"could not find such {resource_type}")


def _concurrent() -> SimError:
    return sm_error(422, "ConcurrentOperationInProgress", SM_CONCURRENT)


def _body(ctx: Ctx) -> dict[str, Any]:
    body = ctx.json_body("{}")
    if not isinstance(body, dict):
        raise sm_error(400, "BadRequest", "Failed to decode request body: the body must be a JSON object")
    return body


def _object(body: dict[str, Any], key: str) -> dict[str, Any]:
    value = body.get(key) or {}
    if not isinstance(value, dict):
        raise sm_error(400, "BadRequest", f"{key} must be a JSON object")
    return value


def _labels(body: dict[str, Any]) -> Labels:
    labels = _object(body, "labels")
    if not all(isinstance(v, list) and all(isinstance(x, str) for x in v) for v in labels.values()):
        raise sm_error(400, "BadRequest", "labels must map each key to a list of strings")
    return {k: list(v) for k, v in labels.items()}


def _async(ctx: Ctx) -> bool:
    return ctx.request.args.get("async", "true").lower() != "false"


def _started(sm: SmBackend, ctx: Ctx, op: Operation, resource: Instance | Binding, created: bool) -> Response:
    """202 + Location, or (async=false) the operation completed now: the resource, or the broker's error."""
    collection = INSTANCES if op.resource_type == INSTANCES else BINDINGS
    if _async(ctx):
        return json_response({}, 202, {"Location": f"{collection}/{resource.id}/operations/{op.id}"})
    if op.job is not None:
        sm.jobs.complete(op.job)
    if op.state == "failed":
        raise sm_error(502, "BrokerError", op.description)
    if op.type == "delete":
        return json_response({}, 200)
    body = present.instance(resource, True) if isinstance(resource, Instance) else present.binding(resource, True)
    return json_response(body, 201 if created else 200)


# ---- catalog -------------------------------------------------------------------------------------


def list_offerings(ctx: Ctx, sm: SmBackend) -> Response:
    sub, _ = _actor(ctx, sm, "subaccount.service_offering.read")
    pairs = filtered(ctx, sm.visible_offerings(sub), present.offering, lambda o: {})
    return page(ctx, "/sm/v1/service_offerings", pairs, lambda o: o.seq)


def list_plans(ctx: Ctx, sm: SmBackend) -> Response:
    sub, _ = _actor(ctx, sm, "subaccount.service_plan.read")
    pairs = filtered(ctx, sm.visible_plans(sub), present.plan, lambda p: {})
    return page(ctx, "/sm/v1/service_plans", pairs, lambda p: p.seq)


# ---- instances -----------------------------------------------------------------------------------


def list_instances(ctx: Ctx, sm: SmBackend) -> Response:
    sub, _ = _actor(ctx, sm, "subaccount.service_instance.read")
    attach = ctx.request.args.get("attach_last_operations") == "true"
    pairs = filtered(ctx, sm.instances_of(sub), lambda i: present.instance(i, attach), lambda i: i.labels)
    return page(ctx, "/sm/v1/service_instances", pairs, lambda i: i.seq)


def _instance(sm: SmBackend, sub: str, instance_id: str) -> Instance:
    inst = sm.instance(sub, instance_id)
    if inst is None:
        raise _not_found(INSTANCES)
    return inst


def _own(inst: Instance) -> Instance:
    if inst.platform_id != SM_PLATFORM:
        raise sm_error(400, "BadRequest", f"service instance {inst.id} belongs to the platform "
                       f"{inst.context.get('platform')}; change it there")
    return inst


def get_instance(ctx: Ctx, sm: SmBackend, instance_id: str) -> Response:
    sub, _ = _actor(ctx, sm, "subaccount.service_instance.read")
    return json_response(present.instance(_instance(sm, sub, instance_id), True))


def instance_parameters(ctx: Ctx, sm: SmBackend, instance_id: str) -> Response:
    sub, _ = _actor(ctx, sm, "subaccount.service_instance.read")
    inst = _instance(sm, sub, instance_id)
    if not sm.instances_retrievable(inst):
        raise sm_error(400, "BadRequest", "This service does not support fetching service instance parameters.")
    if not inst.ready:
        raise _not_found(INSTANCES)
    return json_response(inst.parameters)


def create_instance(ctx: Ctx, sm: SmBackend) -> Response:
    sub, actor = _actor(ctx, sm, "subaccount.service_instance.manage")
    body = _body(ctx)
    name = body.get("name")
    if not isinstance(name, str) or not name.strip():
        raise sm_error(400, "BadRequest", "missing or empty name")
    plans = sm.visible_plans(sub)
    if "service_plan_id" in body:
        plan = next((p for p in plans if p.id == body["service_plan_id"]), None)
    else:
        offering = next((o for o in sm.visible_offerings(sub) if o.name == body.get("service_offering_name")), None)
        plan = next((p for p in plans if offering is not None and p.offering_id == offering.id
                     and p.name == body.get("service_plan_name")), None)
    if plan is None:
        raise sm_error(404, "NotFound", "could not find such service plan")
    parameters, labels = _object(body, "parameters"), _labels(body)
    if any(i.name == name and i.platform_id == SM_PLATFORM for i in sm.instances_of(sub)):
        raise sm_error(409, "Conflict", "instance with same name exists for the current tenant")
    inst = sm.add_instance(sub, name, plan, parameters, labels, actor)
    return _started(sm, ctx, sm.start_create(inst, parameters), inst, created=True)


def update_instance(ctx: Ctx, sm: SmBackend, instance_id: str) -> Response:
    sub, actor = _actor(ctx, sm, "subaccount.service_instance.manage")
    inst = _own(_instance(sm, sub, instance_id))
    body = _body(ctx)
    if sm.running(inst):
        raise _concurrent()
    labels = label_changes(inst.labels, body["labels"]) if "labels" in body else None
    name = body.get("name")
    if name is not None and (not isinstance(name, str) or not name.strip()):
        raise sm_error(400, "BadRequest", "name must be a non-empty string")
    if name not in (None, inst.name) and any(i.name == name and i.platform_id == SM_PLATFORM
                                             for i in sm.instances_of(sub)):
        raise sm_error(409, "Conflict", "instance with same name exists for the current tenant")
    plan_id = body.get("service_plan_id")
    if plan_id not in (None, inst.plan_id):
        plan = next((p for p in sm.visible_plans(sub) if p.id == plan_id), None)
        if plan is None or plan.offering_id != sm.plans[inst.plan_id].offering_id:
            raise sm_error(400, "BadRequest", "could not find such service plan for the instance's offering")
        if not sm.offerings[plan.offering_id].plan_updateable:
            raise sm_error(400, "BadRequest", "the service offering does not allow changing plans")
    parameters = _object(body, "parameters") if "parameters" in body else None
    inst.name = name or inst.name
    inst.context["instance_name"] = inst.name
    inst.labels = labels if labels is not None else inst.labels
    inst.updated_by = actor
    if parameters is None and plan_id in (None, inst.plan_id):
        return json_response(present.instance(inst, True))
    return _started(sm, ctx, sm.start_update(inst, parameters, plan_id), inst, created=False)


def delete_instance(ctx: Ctx, sm: SmBackend, instance_id: str) -> Response:
    sub, _ = _actor(ctx, sm, "subaccount.service_instance.manage")
    inst = _own(_instance(sm, sub, instance_id))
    bindings = [b for b in sm.bindings.values() if b.instance_id == inst.id]
    if sm.running(inst) or any(sm.running(b) for b in bindings):
        raise _concurrent()
    if bindings:  # Peripli: a foreign key of the bindings refuses the delete
        raise sm_error(409, "ExistingReferenceEntity", f"Error deleting entity /v1/service_instances: the "
                       f"instance has {len(bindings)} service binding(s); delete them first")
    return _started(sm, ctx, sm.start_delete_instance(inst), inst, created=False)


# ---- bindings ------------------------------------------------------------------------------------


def list_bindings(ctx: Ctx, sm: SmBackend) -> Response:
    sub, _ = _actor(ctx, sm, "subaccount.service_binding.read")
    attach = ctx.request.args.get("attach_last_operations") == "true"
    pairs = filtered(ctx, sm.bindings_of(sub), lambda b: present.binding(b, attach), lambda b: b.labels)
    return page(ctx, "/sm/v1/service_bindings", pairs, lambda b: b.seq)


def _binding(sm: SmBackend, sub: str, binding_id: str) -> Binding:
    b = sm.binding(sub, binding_id)
    if b is None:
        raise _not_found(BINDINGS)
    return b


def get_binding(ctx: Ctx, sm: SmBackend, binding_id: str) -> Response:
    sub, _ = _actor(ctx, sm, "subaccount.service_binding.read")
    return json_response(present.binding(_binding(sm, sub, binding_id), True))


def create_binding(ctx: Ctx, sm: SmBackend) -> Response:
    sub, actor = _actor(ctx, sm, "subaccount.service_binding.manage")
    body = _body(ctx)
    name = body.get("name")
    if not isinstance(name, str) or not name.strip():
        raise sm_error(400, "BadRequest", "missing or empty name")
    inst = sm.instance(sub, str(body.get("service_instance_id", "")))
    if inst is None:
        raise sm_error(404, "NotFound", "could not find such service instance")
    _own(inst)
    if not sm.offering_of(inst).bindable:
        raise sm_error(400, "BadRequest", "the service plan is not bindable")
    if sm.running(inst):
        raise _concurrent()
    if not inst.usable:
        raise sm_error(422, "UnprocessableEntity", f"service instance {inst.id} is not usable")
    parameters, labels = _object(body, "parameters"), _labels(body)
    if any(b.instance_id == inst.id and b.name == name for b in sm.bindings.values()):
        raise sm_error(409, "Conflict", f"binding with same name exists for instance with id {inst.id}")
    b = sm.add_binding(inst, name, parameters, labels, actor)
    return _started(sm, ctx, sm.start_bind(inst, b), b, created=True)


def delete_binding(ctx: Ctx, sm: SmBackend, binding_id: str) -> Response:
    sub, _ = _actor(ctx, sm, "subaccount.service_binding.manage")
    b = _binding(sm, sub, binding_id)
    if b.id not in sm.bindings:
        raise sm_error(400, "BadRequest", f"service binding {b.id} belongs to the platform "
                       f"{b.context.get('platform')}; delete it there")
    if sm.running(b) or sm.running(sm.instances[b.instance_id]):
        raise _concurrent()
    return _started(sm, ctx, sm.start_unbind(b), b, created=False)


# ---- operations ----------------------------------------------------------------------------------


def get_operation(ctx: Ctx, sm: SmBackend, resource_type: str, resource_id: str, operation_id: str) -> Response:
    """An operation of an instance or binding of the caller's subaccount, also after a delete removed it."""
    sub, _ = _actor(ctx, sm, "subaccount.service_instance.read")
    found = sm.operations.get(operation_id)
    if found is None or found[0] != sub or found[1].resource_id != resource_id \
            or found[1].resource_type != f"/v1/{resource_type}":
        raise _not_found(f"/v1/{resource_type}")
    return json_response(present.operation(found[1]))
