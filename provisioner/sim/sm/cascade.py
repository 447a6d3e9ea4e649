"""Cascade delete of a Service Manager instance: `DELETE /v1/service_instances/{id}?cascade=true` deletes the
instance with its bindings, as Peripli's server does (`Peripli/service-manager`):

- `api/base_controller.go`: `cascade=true` makes the operation a cascade one, asynchronous unless `async=false`;
- `storage/interceptors/smaap_cascade_operation_create_interceptor.go` and `operations/cascade_utils.go`: the root
  operation and one child operation per binding are created in state `pending` (`pkg/types/operation.go`: "the
  state of an operation that waiting to be handled"; only cascade operations may be `pending`);
- `operations/maintainer.go` (`pollPendingCascadeOperations`): once the children succeeded, the root becomes
  `in progress` and the instance is deleted; the root then `succeeded`.

Here it is one job, `sm.service_instance.cascade_delete` (its duration: `job_seconds`, or the faults'
`job_seconds_by_operation`): the root and the children are `pending` in the job's first half and `in progress` in
its second; then the bindings and the instance are gone and the operations `succeeded` (still served by
`GET .../operations/{op}`). Any other DELETE is the plain one of sm/handlers.py.
"""

from __future__ import annotations

from werkzeug.wrappers import Response

from provisioner.sim.core.http import Ctx, json_response
from provisioner.sim.core.ids import iso_now, new_guid
from provisioner.sim.core.jobs import Job
from provisioner.sim.sm import handlers as h
from provisioner.sim.sm.backend import BINDINGS, INSTANCES, SmBackend
from provisioner.sim.sm.model import Instance, Operation

OPERATION = "sm.service_instance.cascade_delete"


def delete_instance(ctx: Ctx, sm: SmBackend, instance_id: str) -> Response:
    """`DELETE /v1/service_instances/{id}`: with `cascade=true` the cascade delete (202 + `Location`, or with
    `async=false` done now: 200 `{}`), else the plain delete (which refuses an instance with bindings)."""
    if ctx.request.args.get("cascade", "").lower() != "true":
        return h.delete_instance(ctx, sm, instance_id)
    sub, _ = h._actor(ctx, sm, "subaccount.service_instance.manage")
    inst = h._own(h._instance(sm, sub, instance_id))
    bindings = [b for b in sm.bindings.values() if b.instance_id == inst.id]
    if sm.running(inst) or any(sm.running(b) for b in bindings):
        raise h._concurrent()
    root = start(sm, inst)
    if h._async(ctx):
        return json_response({}, 202, {"Location": f"{INSTANCES}/{inst.id}/operations/{root.id}"})
    assert root.job is not None
    sm.jobs.complete(root.job)
    return json_response({}, 200)


def start(sm: SmBackend, inst: Instance) -> Operation:
    """Start the cascade delete of `inst` → its root operation (its bindings get child operations)."""
    now = iso_now()
    root = Operation(new_guid(), "delete", inst.id, INSTANCES, now, now)
    root.cascade_root_id = root.id
    children = [(b, Operation(new_guid(), "delete", b.id, BINDINGS, now, now, cascade_root_id=root.id))
                for b in sm.bindings.values() if b.instance_id == inst.id]
    ops = [root] + [op for _, op in children]

    def finish(failure: str | None) -> str | None:
        """Both ends: the bindings and the instance gone, or (a failure the faults injected) all left as they
        were, the operations `failed` with the description."""
        if failure is None:
            for b, _ in children:
                sm.bindings.pop(b.id, None)
            sm.instances.pop(inst.id, None)
        for op in ops:
            op.state, op.updated_at = ("failed" if failure else "succeeded"), iso_now()
            op.description = failure or f"Delete of {op.resource_type[4:-1].replace('_', ' ')} succeeded"
        return failure

    job = sm.jobs.start(Job(OPERATION, lambda: finish(None), finish))
    for op in ops:
        op.job = job
        op.pending = lambda: sm.jobs.phase(job) == 0
        sm.operations[op.id] = (inst.subaccount_guid, op)
    inst.last_operation = root
    for b, op in children:
        b.last_operation = op
    return root
