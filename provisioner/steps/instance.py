"""Step 3, service instance: create the managed service instance with the ``xs-security`` parameters, or update
it when its parameters differ. Seed 003 "Maintain an Instance".

Reads the instance by name in the space (``GET /v3/service_instances``) and its parameters
(``GET /v3/service_instances/:guid/parameters``). Where the broker cannot return parameters
(``CF-ServiceFetchInstanceParametersNotSupported``), it compares against a record the tool keeps on the instance
itself: the annotation ``provisioner/parameters-sha256`` (a SHA-256 of the applied parameters) and
``provisioner/xsappname``. Creates with ``POST /v3/service_instances`` (202 + job), updates with
``PATCH /v3/service_instances/:guid`` keeping the ``xsappname`` the instance already has, and waits for the job and
``last_operation`` to succeed. A 422 "name is taken" on create (a parallel run) re-reads and adopts.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from provisioner.errors import ApiError, StepFailed
from provisioner.steps.base import CREATE, NONE, UPDATE, Change, Context, Step
from provisioner.wait import poll

HASH_ANNOTATION = "provisioner/parameters-sha256"
XSAPPNAME_ANNOTATION = "provisioner/xsappname"
IN_PROGRESS = ("initial", "in progress")


def desired_parameters(ctx: Context, xsappname: str) -> dict[str, Any]:
    """``{"xs-security": {"xsappname": ..., "authorities": [...]}}`` (+ ``oauth2-configuration`` for
    binding secrets), as seed 003 gives them."""
    s = ctx.playbook.service
    xs: dict[str, Any] = {"xsappname": xsappname, "authorities": list(s.authorities)}
    if s.credential_type == "binding-secret":
        xs["oauth2-configuration"] = {"credential-types": ["binding-secret"]}
    return {"xs-security": xs}


def parameters_hash(params: dict[str, Any]) -> str:
    """SHA-256 of the parameters in canonical JSON (keys sorted, ``authorities`` as a sorted set)."""
    norm = json.loads(json.dumps(params))
    xs = norm.get("xs-security")
    if isinstance(xs, dict) and isinstance(xs.get("authorities"), list):
        xs["authorities"] = sorted(set(map(str, xs["authorities"])))
    return hashlib.sha256(json.dumps(norm, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def parameter_differences(actual: dict[str, Any], desired: dict[str, Any]) -> list[str]:
    """Human reasons why ``actual`` parameters differ from ``desired`` in the keys the playbook manages."""
    a = actual.get("xs-security") if isinstance(actual.get("xs-security"), dict) else {}
    d = desired["xs-security"]
    reasons = []
    if a.get("xsappname") != d["xsappname"]:
        reasons.append(f"xsappname is {a.get('xsappname')!r}, expected {d['xsappname']!r}")
    have = set(a.get("authorities") or []) if isinstance(a.get("authorities"), list) else set()
    want = set(d["authorities"])
    if have != want:
        parts = []
        if want - have:
            parts.append("missing " + ", ".join(sorted(want - have)))
        if have - want:
            parts.append("extra " + ", ".join(sorted(have - want)))
        reasons.append("authorities differ: " + "; ".join(parts))
    if "oauth2-configuration" in d and a.get("oauth2-configuration") != d["oauth2-configuration"]:
        reasons.append("oauth2-configuration differs")
    return reasons


@dataclass
class Observed:
    plan: dict[str, Any] | None
    instance: dict[str, Any] | None
    parameters: dict[str, Any] | None  # None: the broker cannot return them (or not read)
    parameters_supported: bool = True


def _annotations(instance: dict[str, Any]) -> dict[str, str]:
    return ((instance.get("metadata") or {}).get("annotations")) or {}


def _last_op(instance: dict[str, Any]) -> dict[str, Any]:
    return instance.get("last_operation") or {}


class InstanceStep(Step):
    name = "instance"

    def read(self, ctx: Context) -> Observed:
        space = ctx.facts.get("space")
        if space is None:
            return Observed(None, None, None)
        if self.locate:
            return Observed(None, ctx.cf.find_instance(space["guid"], ctx.playbook.instance_name), None)
        s = ctx.playbook.service
        plan = ctx.facts.get("plan") or ctx.cf.find_plan(s.offering, s.plan, space_guid=space["guid"])
        ctx.facts["plan"] = plan
        instance = ctx.cf.find_instance(space["guid"], ctx.playbook.instance_name)
        return self._with_parameters(ctx, plan, instance)

    def _with_parameters(self, ctx: Context, plan, instance) -> Observed:
        if instance is None or _last_op(instance).get("state") in IN_PROGRESS:
            return Observed(plan, instance, None)
        if _last_op(instance).get("type") == "create" and _last_op(instance).get("state") == "failed":
            return Observed(plan, instance, None)
        params = ctx.cf.instance_parameters(instance["guid"])
        return Observed(plan, instance, params, params is not None)

    def xsappname(self, ctx: Context, observed: Observed) -> str:
        """Keep the xsappname the instance has (its parameters, else the record on it), else the instance name."""
        if observed.parameters:
            xs = observed.parameters.get("xs-security")
            if isinstance(xs, dict) and isinstance(xs.get("xsappname"), str):
                return xs["xsappname"]
        if observed.instance is not None:
            recorded = _annotations(observed.instance).get(XSAPPNAME_ANNOTATION)
            if recorded:
                return recorded
        return ctx.playbook.instance_name

    def compare(self, ctx: Context, observed: Observed) -> Change:
        pb = ctx.playbook
        name = pb.instance_name
        s = pb.service
        inst = observed.instance
        if self.locate:
            if inst is None:
                raise StepFailed(f"instance {name} not found in space {pb.space_name}; set steps.instance.name to "
                                 "the generated instance's name (or steps.mode: create to create one)")
            ctx.facts["instance"] = inst
            return Change(NONE, [f"found instance {name} (generated with the tenant; left as it is)"])
        if inst is None:
            if "space" in ctx.pending:
                return Change(CREATE, [f"create instance {name} of {s.offering}/{s.plan} (in the new space)"])
            if observed.plan is None and "entitlement" not in ctx.pending:
                raise StepFailed(
                    f"service plan {s.offering}/{s.plan} is not visible in space {pb.space_name}: the entitlement "
                    "is missing in this subaccount (enable the entitlement step) or the org has no access to it")
            ctx.pending.add("instance")
            return Change(CREATE, [f"create instance {name} of {s.offering}/{s.plan}"])
        ctx.facts["instance"] = inst
        op = _last_op(inst)
        if op.get("state") in IN_PROGRESS:
            return Change(UPDATE, [f"a {op.get('type', 'operation')} of instance {name} is in progress; wait for it"])
        if op.get("type") == "create" and op.get("state") == "failed":
            ctx.pending.add("instance")
            return Change(CREATE, [f"the last create of instance {name} failed ({op.get('description')}); "
                                   "create it again"])
        desired = desired_parameters(ctx, self.xsappname(ctx, observed))
        reasons = []
        if observed.plan is not None:
            plan_guid = ((inst.get("relationships") or {}).get("service_plan") or {}).get("data", {}).get("guid")
            if plan_guid and plan_guid != observed.plan["guid"]:
                reasons.append(f"service plan differs (expected {s.plan})")
        if observed.parameters_supported and observed.parameters is not None:
            reasons += parameter_differences(observed.parameters, desired)
            how = "parameters read from the broker"
        else:
            recorded = _annotations(inst).get(HASH_ANNOTATION)
            how = "the broker cannot return parameters; compared with the record on the instance"
            if recorded is None:
                reasons.append("the broker cannot return parameters and the instance has no record of them; "
                               "apply them")
            elif recorded != parameters_hash(desired):
                reasons.append("parameters differ from the record on the instance (the broker cannot return "
                               "parameters)")
        if op.get("state") == "failed" and not reasons:
            reasons.append(f"the last {op.get('type')} failed ({op.get('description')}); apply again")
        if reasons:
            return Change(UPDATE, [f"update instance {name}: {r}" for r in reasons])
        return Change(NONE, [f"instance {name} is up to date ({how})"])

    def apply(self, ctx: Context, observed: Observed, change: Change) -> None:
        inst = observed.instance
        if inst is not None and _last_op(inst).get("state") in IN_PROGRESS:
            inst = self._wait_instance(ctx, inst["guid"])
            observed = self._with_parameters(ctx, observed.plan, inst)
            change = self.compare(ctx, observed)
            if change.action == NONE:
                ctx.facts["instance"] = inst
                return
        if change.action == CREATE:
            self._create(ctx, observed)
        else:
            self._update(ctx, observed)
        ctx.pending.discard("instance")

    def _plan_guid(self, ctx: Context, observed: Observed) -> str:
        plan = observed.plan
        if plan is None:
            s = ctx.playbook.service
            plan = ctx.cf.find_plan(s.offering, s.plan, space_guid=ctx.facts["space"]["guid"])
            if plan is None:
                raise StepFailed(f"service plan {s.offering}/{s.plan} is not visible in space "
                                 f"{ctx.playbook.space_name}: the entitlement is missing in this subaccount")
            ctx.facts["plan"] = plan
        return plan["guid"]

    def _create(self, ctx: Context, observed: Observed) -> None:
        pb = ctx.playbook
        space = ctx.facts["space"]
        params = desired_parameters(ctx, pb.instance_name)
        notes = {HASH_ANNOTATION: parameters_hash(params), XSAPPNAME_ANNOTATION: pb.instance_name}
        try:
            job = ctx.cf.create_instance(space["guid"], self._plan_guid(ctx, observed), pb.instance_name, params,
                                         notes)
        except ApiError as exc:
            if exc.status != 422 or "name is taken" not in exc.detail:
                raise
            # a parallel run created it: adopt it and converge it
            inst = ctx.cf.find_instance(space["guid"], pb.instance_name)
            if inst is None:
                raise
            inst = self._wait_instance(ctx, inst["guid"])
            adopted = self._with_parameters(ctx, observed.plan, inst)
            if self.compare(ctx, adopted).action != NONE:
                self._update(ctx, adopted)
            return
        done = ctx.cf.wait_job(job, ctx.wait_settings(pb.timeouts.instance), f"instance {pb.instance_name}")
        guid = ctx.cf.job_resource_guid(done, "service_instances")
        if guid is None:
            found = ctx.cf.find_instance(space["guid"], pb.instance_name)
            if found is None:
                raise StepFailed(f"instance {pb.instance_name} is gone right after its creation; re-run")
            guid = found["guid"]
        ctx.facts["instance"] = self._wait_instance(ctx, guid)

    def _update(self, ctx: Context, observed: Observed) -> None:
        pb = ctx.playbook
        inst = observed.instance
        assert inst is not None
        xsappname = self.xsappname(ctx, observed)
        desired = desired_parameters(ctx, xsappname)
        params = dict(observed.parameters or {})
        xs = dict(params.get("xs-security") or {}) if isinstance(params.get("xs-security"), dict) else {}
        xs.update(desired["xs-security"])
        params["xs-security"] = xs
        body: dict[str, Any] = {
            "parameters": params,
            "metadata": {"annotations": {HASH_ANNOTATION: parameters_hash(desired), XSAPPNAME_ANNOTATION: xsappname}},
        }
        current_plan = ((inst.get("relationships") or {}).get("service_plan") or {}).get("data", {}).get("guid")
        if observed.plan is not None and current_plan != observed.plan["guid"]:
            body["relationships"] = {"service_plan": {"data": {"guid": observed.plan["guid"]}}}
        job = ctx.cf.update_instance(inst["guid"], body)
        if job:
            ctx.cf.wait_job(job, ctx.wait_settings(pb.timeouts.instance), f"instance {pb.instance_name}")
        ctx.facts["instance"] = self._wait_instance(ctx, inst["guid"])

    def _wait_instance(self, ctx: Context, guid: str) -> dict[str, Any]:
        """Poll the instance until ``last_operation`` succeeded; raise with its description when it failed."""
        name = ctx.playbook.instance_name

        def done(inst: dict[str, Any]) -> bool:
            op = _last_op(inst)
            if op.get("state") == "failed":
                raise StepFailed(f"instance {name}: {op.get('type')} failed: {op.get('description') or 'no detail'}")
            return op.get("state") in ("succeeded", None)

        return poll(lambda: ctx.cf.get_instance(guid), done,
                    settings=ctx.wait_settings(ctx.playbook.timeouts.instance), what=f"instance {name}",
                    describe=lambda i: f"last_operation {_last_op(i).get('type')} is {_last_op(i).get('state')}")
