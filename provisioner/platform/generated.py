"""Who made an instance or a binding, and the discovery of the credentials SAP generated with the tenant at
subaccount level (tenants provisioned on or after 2023-10-16; SAP's page "Binding Credentials of the SAP Cloud ALM
API Service Instance": an instance "SAP Cloud ALM API" with a binding ``binding-key-…``, no CF environment).

Found by plan and creator, not by names: every subaccount-level instance of the playbook's plan, classified as
made by this tool (its label ``provisioner/managed-by``), generated with the tenant (a name in
``steps.generated.instance_names``), or by someone else; its bindings likewise, where a name
``<SID>_<client>_<system number>`` (for example ``S4H_100_00``) is a per-system binding made by SAP's automation
for one managed system: never selected, modified or deleted. A name in the playbook (``steps.instance.name``,
``steps.key.name``) pins one when several match. The names SAP gives are UNCONFIRMED (a screenshot), hence
configurable. The steps ask the platform (:meth:`~provisioner.platform.ServicePlatform.locate_instance`,
:meth:`~provisioner.platform.ServicePlatform.locate_key`): SAP Service Manager finds them here; Cloud Foundry by the
playbook's names.
"""

from __future__ import annotations

import re

from provisioner.errors import StepFailed
from provisioner.platform import (
    MANAGED_BY,
    MANAGED_RECORD,
    Found,
    FoundKey,
    ServiceInstance,
    ServiceKey,
    ServicePlatform,
)
from provisioner.platform.generations import GENERATION, base_name, made_here
from provisioner.playbook.load import Playbook

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


def plan_instances(platform: ServicePlatform, pb: Playbook) -> list[ServiceInstance]:
    """Every subaccount-level instance of the playbook's offering and plan (``GET /v1/service_instances
    ?fieldQuery=service_plan_id eq '…'``); none when the plan is not visible."""
    s = pb.service
    plan = platform.find_plan(s.offering, s.plan, space="")
    if plan is None:
        return []
    return platform.list_instances("", plan.guid)


def locate_instance(platform: ServicePlatform, pb: Playbook) -> Found:
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


def locate_binding(keys: list[ServiceKey], instance: ServiceInstance, pb: Playbook) -> ServiceKey:
    """The generated binding of the instance: the one named ``steps.key.name`` when given, else the only
    ``binding-key-…`` binding; never a per-system binding. Raises :class:`StepFailed` saying what was found."""
    pinned = pb.pinned_key
    usable = [k for k in keys if not per_system(k.name) and k.last_operation.type != "delete"]
    if pinned is not None:
        if per_system(pinned):
            raise StepFailed(f"steps.key.name {pinned} is a per-system binding (<SID>_<client>_<system number>) "
                             "of SAP's automation; the tool never uses it: name another binding")
        named = [k for k in usable if k.name == pinned]
        if not named:
            raise StepFailed(f"no binding {pinned} on instance {instance.name!r} (steps.key.name); found: "
                             f"{_names(keys)}")
        return named[0]
    generated = [k for k in usable if binding_creator(k, pb) == GENERATED]
    if len(generated) == 1:
        return generated[0]
    if not generated:
        raise StepFailed(f"no binding generated with the tenant (named {pb.steps.generated.binding_prefix}…) on "
                         f"instance {instance.name!r}; found: {_names(keys)}; name it in steps.key.name")
    raise StepFailed(f"{len(generated)} generated bindings on instance {instance.name!r} ({_names(generated)}); "
                     "pin one with steps.key.name")


def locate_family(keys: list[ServiceKey], instance: ServiceInstance, pb: Playbook) -> list[ServiceKey]:
    """The generated binding of the instance and the rotations of it this tool made (labelled
    ``NAME-YYYYMMDDhhmmss``, :mod:`provisioner.platform.generations`), oldest first: the one named ``steps.key.name``
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


def locate_key(keys: list[ServiceKey], instance: ServiceInstance, pb: Playbook) -> FoundKey:
    """:func:`locate_family`: its newest key, with why it was chosen, and the whole family (oldest first)."""
    family = locate_family(keys, instance, pb)
    key = family[-1]
    how = "named in the playbook (steps.key.name)" if pb.pinned_key else "generated with the tenant (found by creator)"
    return FoundKey(key, f"binding {key.name!r} of instance {instance.name!r}: {how}", tuple(family))


def _names(items: list[ServiceInstance] | list[ServiceKey]) -> str:
    return ", ".join(repr(i.name) for i in items) or "none"
