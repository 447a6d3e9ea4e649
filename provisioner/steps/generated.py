"""Who made an instance or a binding, and the discovery of the credentials SAP generated with the tenant at
subaccount level (tenants provisioned on or after 2023-10-16; SAP's page "Binding Credentials of the SAP Cloud ALM
API Service Instance": an instance "SAP Cloud ALM API" with a binding ``binding-key-…``, no CF environment).

Found by plan and creator, not by names: every subaccount-level instance of the playbook's plan, classified as
made by this tool (its label ``provisioner/managed-by``), generated with the tenant (a name in
``steps.generated.instance_names``), or by someone else; its bindings likewise, where a name
``<SID>_<client>_<system number>`` (for example ``S4H_100_00``) is a per-system binding made by SAP's automation
for one managed system: never selected, modified or deleted. A name in the playbook (``steps.instance.name``,
``steps.key.name``) pins one when several match. The names SAP gives are UNCONFIRMED (a screenshot), hence
configurable.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from provisioner.errors import StepFailed
from provisioner.platform import HASH_RECORD, MANAGED_BY, MANAGED_RECORD, ServiceInstance, ServiceKey, ServicePlatform
from provisioner.platform.servicemanager import ServiceManagerPlatform, environment, to_instance
from provisioner.playbook.load import Playbook
from provisioner.steps.generations import GENERATION, base_name, made_here

#: at most this many instances (and keys of each) named as candidates when the named one is not found
CANDIDATES = 10
#: ``<system ID>_<client>_<system number>``: SAP automation's per-managed-system bindings
PER_SYSTEM = re.compile(r"^[A-Z][A-Z0-9]{2}_\d{3}_\d{2}$")

THIS_TOOL, GENERATED, PER_SYSTEM_BINDING, SOMEONE_ELSE = ("this tool", "generated with the tenant",
                                                          "per-system binding", "someone else")


def per_system(name: str) -> bool:
    """Whether ``name`` has the pattern of SAP automation's per-system bindings (``S4H_100_00``)."""
    return bool(PER_SYSTEM.fullmatch(name))


def instance_creator(instance: ServiceInstance, pb: Playbook) -> str:
    """this tool | generated with the tenant | someone else."""
    if instance.record.get(MANAGED_RECORD) == MANAGED_BY:
        return THIS_TOOL
    if instance.name in pb.steps.generated.instance_names:
        return GENERATED
    return SOMEONE_ELSE


def binding_creator(key: ServiceKey, pb: Playbook, instance_creator: str | None = None) -> str:
    """this tool | per-system binding | generated with the tenant (a ``binding-key-…`` name on a generated
    instance, or any such name) | someone else."""
    if key.record.get(MANAGED_RECORD) == MANAGED_BY:
        return THIS_TOOL
    if per_system(key.name):
        return PER_SYSTEM_BINDING
    if key.name.startswith(pb.steps.generated.binding_prefix):
        return GENERATED
    return SOMEONE_ELSE


@dataclass(frozen=True)
class Found:
    """An instance or binding discovery chose, with why (for ``plan`` and ``run``)."""

    instance: ServiceInstance
    why: str


def plan_instances(platform: ServiceManagerPlatform, pb: Playbook) -> list[ServiceInstance]:
    """Every subaccount-level instance of the playbook's offering and plan (``GET /v1/service_instances
    ?fieldQuery=service_plan_id eq '…'``); none when the plan is not visible."""
    s = pb.service
    plan = platform.find_plan(s.offering, s.plan, space="")
    if plan is None:
        return []
    return [to_instance(i) for i in platform.sm.instances(plan_id=plan.guid) if environment(i) == "subaccount"]


def locate_instance(platform: ServiceManagerPlatform, pb: Playbook) -> Found:
    """The generated instance: the one named ``steps.instance.name`` when the playbook gives it, else the only
    instance of the plan generated with the tenant. Raises :class:`StepFailed` saying what was found."""
    s = pb.service
    instances = plan_instances(platform, pb)
    what = f"{s.offering}/{s.plan} at subaccount level"
    pinned = pb.pinned_instance
    if pinned is not None:
        named = [i for i in instances if i.name == pinned]
        if not named:
            raise StepFailed(f"no instance {pinned} of {what} (steps.instance.name); found: "
                             f"{_names(instances)}")
        return Found(named[0], f"instance {pinned} of {what}, named in the playbook (steps.instance.name)")
    generated = [i for i in instances if instance_creator(i, pb) == GENERATED]
    if len(generated) == 1:
        i = generated[0]
        return Found(i, f"instance {i.name!r} of {what}: generated with the tenant (found by plan and creator)")
    if not generated:
        raise StepFailed(f"no instance of {what} generated with the tenant (named "
                         f"{' or '.join(pb.steps.generated.instance_names)}); found: {_names(instances)}; name "
                         "it in steps.instance.name, or steps.mode: create to create one")
    raise StepFailed(f"{len(generated)} instances of {what} look generated ({_names(generated)}); pin one with "
                     "steps.instance.name")


def locate_family(keys: list[ServiceKey], instance: ServiceInstance, pb: Playbook) -> list[ServiceKey]:
    """The generated binding of the instance and the rotations of it this tool made (labelled
    ``NAME-YYYYMMDDhhmmss``, :mod:`provisioner.steps.generations`), oldest first: the one named ``steps.key.name``
    when given, else the only ``binding-key-…`` binding (or, once it was retired, the only family of rotations of
    one); never a per-system binding. Raises :class:`StepFailed` saying what was found."""
    pinned = pb.pinned_key
    usable = [k for k in keys if not per_system(k.name) and k.last_operation.type != "delete"]
    rotations = [k for k in usable if made_here(k, True) and GENERATION.search(k.name)]
    if pinned is not None:
        if per_system(pinned):
            raise StepFailed(f"steps.key.name {pinned} is a per-system binding (<SID>_<client>_<system number>) "
                             "of SAP's automation; the tool never uses it: name another binding")
        base = base_name(pinned)
    else:
        bases = {k.name for k in usable if binding_creator(k, pb) == GENERATED} | {
            base_name(k.name) for k in rotations if base_name(k.name).startswith(pb.steps.generated.binding_prefix)}
        if not bases:
            raise StepFailed(f"no binding generated with the tenant (named {pb.steps.generated.binding_prefix}…) on "
                             f"instance {instance.name!r}; found: {_names(keys)}; name it in steps.key.name")
        if len(bases) > 1:
            raise StepFailed(f"{len(bases)} generated bindings on instance {instance.name!r} "
                             f"({', '.join(repr(b) for b in sorted(bases))}); pin one with steps.key.name")
        [base] = bases
    family = [k for k in usable if k.name == base or (k in rotations and base_name(k.name) == base)]
    if not family:
        raise StepFailed(f"no binding {pinned} on instance {instance.name!r} (steps.key.name); found: "
                         f"{_names(keys)}")
    return sorted(family, key=lambda k: (k.created_at or "", k.name))


def _names(items: list[ServiceInstance] | list[ServiceKey]) -> str:
    return ", ".join(repr(i.name) for i in items) or "none"


def candidates(platform: ServicePlatform, pb: Playbook, space: str) -> tuple[str, ...]:
    """The instances of the playbook's plan in ``space`` (a space guid; every managed instance there when the plan
    is not visible), each with its keys, as ``'name' (keys 'a', 'b')`` (``made by this tool;`` first for the
    tool's own): what a user may pin with ``steps.instance.name`` / ``steps.key.name`` when the named instance is
    not there. Reads only; at most :data:`CANDIDATES` instances are read, and the list is cut to about 120
    characters (names to 40 each, ``and N more``), so that the error stays one short line."""
    plan = platform.find_plan(pb.service.offering, pb.service.plan, space=space)
    found = platform.list_instances(space, plan.guid if plan is not None else None)
    out: list[str] = []
    for inst in found[:CANDIDATES]:
        ours = "made by this tool; " if HASH_RECORD in inst.record or MANAGED_RECORD in inst.record else ""
        item = f"{short(inst.name)} ({ours}keys {listed([k.name for k in platform.list_keys(inst.guid)], 3)})"
        if out and sum(len(x) + 2 for x in out) + len(item) > 120:
            break
        out.append(item)
    return (*out, f"and {len(found) - len(out)} more") if len(found) > len(out) else tuple(out)


def short(name: str) -> str:
    """A name from an API answer for a one-line message: quoted, control characters escaped, at most 40 characters
    and "…"."""
    return repr(name) if len(name) <= 40 else repr(name[:40]) + "…"


def listed(names: list[str], most: int) -> str:
    """The first ``most`` names (:func:`short`), then ``and N more``; ``none`` when there are none."""
    shown = ", ".join(short(n) for n in names[:most]) or "none"
    return shown + (f" and {len(names) - most} more" if len(names) > most else "")
