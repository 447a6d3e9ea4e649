"""Step 3, service instance ("Maintain an Instance" in SAP's setup guide): create the managed service instance
with the ``xs-security`` parameters, or update it when its parameters differ. Talks only to the
:class:`~provisioner.platform.ServicePlatform`.

Reads the instance by name where the platform keeps instances and its parameters. Where the broker cannot return
parameters, it compares against the record the tool keeps on the instance itself (``provisioner/parameters-sha256``,
a SHA-256 of the applied parameters, and ``provisioner/xsappname``). What differs between the routes is the
platform's (:class:`~provisioner.platform.ServicePlatform`): where the instance lives, whether one there is someone
else's, the ``xsappname`` an update sends, what is done with a failed create, where generated credentials are
found. Creates the instance, or updates it, and waits for the operation and its ``last_operation`` to succeed. An
operation already running is waited for (:attr:`Action.WAIT`; the runner then reads and compares the step once
more). A create that finds the name taken (a parallel run) adopts that instance and has it compared again.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from provisioner.clients.atonce import at_once
from provisioner.errors import NameTaken, StepFailed
from provisioner.platform import (
    HASH_RECORD,
    MANAGED_BY,
    MANAGED_RECORD,
    XSAPPNAME_RECORD,
    Operation,
    ServiceInstance,
    ServicePlan,
    settle_instance,
)
from provisioner.playbook.load import Playbook
from provisioner.steps.base import Action, Change, Env, Output, Step, Upstream
from provisioner.steps.entitlement import EntitlementOutput
from provisioner.steps.generated import candidates
from provisioner.steps.parameters import (
    MIGRATE_HINT,
    desired_of,
    desired_parameters,
    merged_parameters,
    parameter_differences,
    parameters_hash,
)
from provisioner.steps.space import SpaceOutput
from provisioner.waits.wait import WaitSettings, poll, started


@dataclass(frozen=True)
class InstanceObservation:
    """``space``: where instances live (the platform's ``scope``: the space guid, None when the space step will
    create it; the subaccount); ``plan``: the service plan visible there (None: not visible); ``instance`` (None:
    missing); ``parameters`` from the broker (None: not read, or not returned: ``parameters_supported`` False)."""

    space: str | None
    plan: ServicePlan | None = None
    instance: ServiceInstance | None = None
    parameters: Mapping[str, Any] | None = None
    parameters_supported: bool = True
    #: locate at subaccount level: why discovery chose ``instance``
    located: str | None = None
    #: locate in a space, the named instance missing: the instances of the plan there, with their keys
    candidates: tuple[str, ...] = ()
    #: where the instance lives, for messages (the platform's words: ``space NAME``, ``the subaccount``)
    where: str = ""
    #: the instance is marked as someone else's (a platform that marks this tool's instances)
    foreign: bool = False


@dataclass(frozen=True)
class InstanceOutput(Output):
    """The instance, settled (its last operation succeeded); ``created``: this run created it (it has no keys)."""

    instance: ServiceInstance
    created: bool = False


def current_xsappname(settings: Playbook, observation: InstanceObservation) -> str:
    """Keep the xsappname the instance has (its parameters, else the record on it), else the instance name (what an
    update sends is the platform's: :meth:`~provisioner.platform.ServicePlatform.update_xsappname`)."""
    if observation.parameters:
        xs = observation.parameters.get("xs-security")
        if isinstance(xs, dict) and isinstance(xs.get("xsappname"), str):
            return str(xs["xsappname"])
    if observation.instance is not None and observation.instance.record.get(XSAPPNAME_RECORD):
        return str(observation.instance.record[XSAPPNAME_RECORD])
    return settings.instance_name


class InstanceStep(Step[InstanceObservation, InstanceOutput]):
    name = "instance"
    needs = ("space", "entitlement")

    def read(self, env: Env, upstream: Upstream) -> InstanceObservation:
        observation = self._read(env, upstream)
        inst = observation.instance
        return replace(observation, where=env.platform.where(env.settings.space_name),
                       foreign=inst is not None and env.platform.foreign(inst.record))

    def _read(self, env: Env, upstream: Upstream) -> InstanceObservation:
        pb = env.settings
        space = upstream.output("space", SpaceOutput)
        guid = env.platform.scope(space.space["guid"] if space is not None else None)
        if guid is None:
            return InstanceObservation(None)
        if self.locate and (found := env.platform.locate_instance(pb)) is not None:
            return InstanceObservation(guid, None, found.instance, located=found.why)
        entitled = upstream.output("entitlement", EntitlementOutput)
        known = entitled.plan if entitled is not None else None
        if space is not None and space.created and known is not None and not self.locate and not env.again:
            # this run just created the space: it holds no instance yet (one a parallel run makes meanwhile is
            # adopted when the create finds its name taken); the plan was seen when the entitlement was assigned
            return InstanceObservation(guid, known)
        if self.locate or known is not None:
            instance, plan = env.platform.find_instance(guid, pb.instance_name), known
        else:  # two independent reads, at once
            instance, plan = at_once(lambda: env.platform.find_instance(guid, pb.instance_name),
                                     lambda: env.platform.find_plan(pb.service.offering, pb.service.plan, space=guid))
        if self.locate:
            listed = candidates(env.platform, pb, guid) if instance is None else ()
            return InstanceObservation(guid, None, instance, candidates=listed)
        return self._with_parameters(env, guid, plan, instance)

    def reread(self, env: Env, upstream: Upstream, observation: InstanceObservation,
               output: InstanceOutput) -> InstanceObservation:
        """After waiting for (or adopting) the instance: it as the wait last read it (``output``), with its
        parameters read now (``GET .../parameters``); the plan as read before."""
        if self.locate or observation.space is None or observation.located is not None or \
                output.instance.last_operation.type == "delete":  # a delete waited for: the instance may be gone
            return self.read(env, upstream)
        return replace(self._with_parameters(env, observation.space, observation.plan, output.instance),
                       where=observation.where, foreign=env.platform.foreign(output.instance.record))

    @staticmethod
    def _with_parameters(env: Env, space: str, plan: ServicePlan | None,
                         instance: ServiceInstance | None) -> InstanceObservation:
        """The observation, with the broker's parameters when the instance exists and is settled (not being
        created or updated, not a failed create)."""
        op = instance.last_operation if instance is not None else None
        if instance is None or op is None or op.in_progress or (op.type == "create" and op.failed):
            return InstanceObservation(space, plan, instance)
        params = env.platform.instance_parameters(instance.guid)
        return InstanceObservation(space, plan, instance, params, params is not None)

    def compare(self, settings: Playbook, observation: InstanceObservation, upstream: Upstream) -> Change:
        name = settings.instance_name
        s = settings.service
        inst = observation.instance
        if self.locate and observation.located is not None:
            return Change.of(Action.NONE, f"found {observation.located}; left as it is")
        if self.locate:
            if inst is None:
                found = "; ".join(observation.candidates) or "no instance of the plan"
                raise StepFailed(f"instance {name} not found in space {settings.space_name}; found there: {found}; "
                                 "set steps.instance.name (and steps.key.name) to the generated ones, or steps.mode: "
                                 "create")
            return Change.of(Action.NONE, f"found instance {name} (generated with the tenant; left as it is)")
        if inst is None:
            what = f"create instance {name} of {s.offering}/{s.plan}"
            if upstream.planned("space", Action.CREATE):
                return Change.of(Action.CREATE, f"{what} (in the new space)")
            if observation.plan is None and upstream.planned("entitlement") is None:
                raise StepFailed(
                    f"service plan {s.offering}/{s.plan} is not visible in {observation.where}: the "
                    "entitlement is missing in this subaccount (enable the entitlement step) or the org has no "
                    "access to it")
            if observation.plan is None:
                return Change.of(Action.CREATE, f"{what} (once the entitlement is assigned)")
            return Change.of(Action.CREATE, what)
        if observation.foreign:
            raise StepFailed(f"instance {name} exists in the subaccount and was not made by this tool (no label "
                             f"{MANAGED_RECORD}); it is left alone: choose another steps.instance.name, or give it "
                             f"the label {MANAGED_RECORD}: {MANAGED_BY} to have the tool manage it")
        op = inst.last_operation
        if op.in_progress:  # CF initial / in progress; Service Manager pending / in progress, or a cleanup
            state = "pending" if op.state == "pending" else "failed and being cleaned up" if op.cleanup else \
                "in progress"
            return Change.of(Action.WAIT, f"instance {name}: its {op.type or 'last operation'} is {state}; wait for it")
        if op.type == "create" and op.failed:
            return Change.of(Action.CREATE, f"the last create of instance {name} failed ({op.description}); "
                                            "create it again")
        desired, pending = desired_of(settings, inst, observation.parameters, observation.parameters_supported,
                                      current_xsappname(settings, observation))
        hint = (MIGRATE_HINT.format(name=name, playbook=settings.source or "PLAYBOOK"),) if pending else ()
        reasons = []
        if observation.plan is not None and inst.plan_guid and inst.plan_guid != observation.plan.guid:
            reasons.append(f"service plan differs (expected {s.plan})")
        if observation.parameters_supported and observation.parameters is not None:
            reasons += parameter_differences(observation.parameters, desired)
            how = "parameters read from the broker"
        else:
            recorded = inst.record.get(HASH_RECORD)
            how = "the broker cannot return parameters; compared with the record on the instance"
            if recorded is None:
                reasons.append("the broker cannot return parameters and the instance has no record of them; "
                               "apply them")
            elif recorded != parameters_hash(desired):
                reasons.append("parameters differ from the record on the instance (the broker cannot return "
                               "parameters)")
        if op.failed and not reasons:
            reasons.append(f"the last {op.type} failed ({op.description}); apply again")
        if reasons:
            return Change(Action.UPDATE, tuple(f"update instance {name}: {r}" for r in reasons) + hint)
        return Change.of(Action.NONE, f"instance {name} is up to date ({how})", *hint)

    def apply(self, env: Env, observation: InstanceObservation, change: Change,
              upstream: Upstream) -> InstanceOutput:
        if observation.space is None:
            raise StepFailed(f"no {observation.where} for instance {env.settings.instance_name}")
        if change.action is Action.WAIT:
            assert observation.instance is not None
            if observation.instance.last_operation.type == "delete":
                return InstanceOutput(self._deleted(env, observation.space, observation.instance), recheck=True)
            return InstanceOutput(self._settle(env, observation.instance.guid), recheck=True)
        if change.action is Action.CREATE:
            return self._create(env, observation)
        return self._update(env, observation)

    def current(self, observation: InstanceObservation) -> InstanceOutput | None:
        return InstanceOutput(observation.instance) if observation.instance is not None else None

    def _plan_guid(self, env: Env, observation: InstanceObservation) -> str:
        """The plan's guid; read again when the plan was not visible at read (the entitlement was just assigned)."""
        s = env.settings.service
        plan = observation.plan
        if plan is None and observation.space is not None:
            plan = env.platform.find_plan(s.offering, s.plan, space=observation.space)
        if plan is None:
            raise StepFailed(f"service plan {s.offering}/{s.plan} is not visible in {observation.where}: the "
                             "entitlement is missing in this subaccount")
        return plan.guid

    def _create(self, env: Env, observation: InstanceObservation) -> InstanceOutput:
        pb = env.settings
        space = observation.space
        assert space is not None
        params = desired_parameters(pb.service, pb.instance_name, pb.credential_type)
        record = {HASH_RECORD: parameters_hash(params), XSAPPNAME_RECORD: pb.instance_name}
        if observation.instance is not None:  # its create failed: the platform clears it, or replaces it
            env.platform.clear_failed(observation.instance, self._wait(env),
                                      f"delete failed instance {pb.instance_name}")
        plan = self._plan_guid(env, observation)
        try:
            operation, origin = started(lambda: env.platform.create_instance(space, plan, pb.instance_name, params,
                                                                             record))
        except NameTaken:
            # a parallel run created it: adopt it; the runner compares it again (it may need an update)
            found = env.platform.find_instance(space, pb.instance_name)
            if found is None:
                raise
            return InstanceOutput(self._settle(env, found.guid), recheck=True,
                                  notes=("adopted the instance a parallel run created",))
        guid = None
        if operation is not None:
            guid = env.platform.wait_operation(operation, replace(self._wait(env), origin=origin),
                                               f"instance {pb.instance_name}")
        if guid is not None:  # the completed operation names the instance: its create succeeded, no re-read
            return InstanceOutput(ServiceInstance(guid, pb.instance_name, plan, Operation("create", "succeeded"),
                                                  env.platform.as_made(record)), created=True)
        found = env.platform.find_instance(space, pb.instance_name)
        if found is None:
            raise StepFailed(f"instance {pb.instance_name} is gone right after its creation; re-run")
        return InstanceOutput(self._settle(env, found.guid), created=True)

    def _update(self, env: Env, observation: InstanceObservation) -> InstanceOutput:
        pb = env.settings
        inst = observation.instance
        assert inst is not None
        xsappname = env.platform.update_xsappname(inst, current_xsappname(pb, observation))
        desired, _ = desired_of(pb, inst, observation.parameters, observation.parameters_supported, xsappname)
        plan = observation.plan.guid if observation.plan is not None and inst.plan_guid != observation.plan.guid \
            else None
        record = {HASH_RECORD: parameters_hash(desired), XSAPPNAME_RECORD: xsappname}
        operation = env.platform.update_instance(
            inst.guid, parameters=merged_parameters(observation.parameters, desired), record=record, plan=plan)
        if operation is None:  # applied at once (200): read it as it is now
            return InstanceOutput(self._settle(env, inst.guid))
        env.platform.wait_operation(operation, self._wait(env), f"instance {pb.instance_name}")
        # the completed operation is the update's success: the instance as updated, no re-read
        return InstanceOutput(replace(inst, plan_guid=plan or inst.plan_guid,
                                      last_operation=Operation("update", "succeeded"),
                                      record={**inst.record, **record}))

    @staticmethod
    def _wait(env: Env) -> WaitSettings:
        return env.wait_settings(env.settings.timeouts.instance)

    def _deleted(self, env: Env, space: str, instance: ServiceInstance) -> ServiceInstance:
        """Wait until a delete of the instance (someone else's: a cascade delete is ``pending`` first) settled: the
        instance is gone, or the delete failed → the instance as last read (the runner reads the step again)."""
        name = env.settings.instance_name
        found = poll(lambda: env.platform.find_instance(space, name), settings=self._wait(env),
                     done=lambda f: f is None or f.guid != instance.guid or not f.last_operation.in_progress,
                     what=f"instance {name} (being deleted)",
                     describe=lambda f: f"last_operation delete is {f.last_operation.state}" if f else "gone")
        return found if found is not None and found.guid == instance.guid else instance

    def _settle(self, env: Env, guid: str) -> ServiceInstance:
        return settle_instance(env.platform, guid, self._wait(env), f"instance {env.settings.instance_name}")
