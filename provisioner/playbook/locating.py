"""Which purposes of a playbook create their instance and which locate one SAP generated (the provisioning eras
of :mod:`provisioner.engine.eras`, decided here from the playbook alone so that loading a playbook can tell), and the
rule on instance names with spaces: SAP names the instance it generates "SAP Cloud ALM API", so
``steps.instance.name`` may hold spaces to pin that instance for locating; the tool never creates an instance
with such a name (its names: letters, digits, ``.``, ``-``, ``_``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from provisioner.errors import BadInput
from provisioner.playbook.names import suggest_instance_name
from provisioner.playbook.purposes import purpose_instance

Playbook = Any  # a provisioner.playbook.model.Playbook (which imports this module)

MONITORING_KEY_FROM = dt.date(2023, 6, 12)
AUTOMATIC_FROM = dt.date(2023, 10, 16)


def creates(pb: Playbook) -> bool:
    """Whether the steps of ``pb`` (its purposes as listed) create an instance and key rather than locate the
    generated ones: ``steps.mode``, else the era (before 2023-06-12: create; to 2023-10-15: monitoring alone
    locates; from 2023-10-16: locate, except an api key alone)."""
    if pb.steps.mode != "auto":
        return bool(pb.steps.mode == "create")
    purposes, day = tuple(pb.tenant.purposes), pb.tenant.provisioned
    if day < MONITORING_KEY_FROM:
        return True
    if day < AUTOMATIC_FROM:
        return "transport-management" in purposes or "api" in purposes
    return purposes == ("api",)


def check_spaced_names(pb: Playbook, where: Callable[[tuple[str, ...]], str]) -> None:
    """Raise :class:`BadInput` (``where(path)``: the file, line and column of a key) for a purpose whose instance
    name holds a space and that would create that instance."""
    for purpose in pb.tenant.purposes:
        name = purpose_instance(pb, purpose)
        if " " not in name or not creates(pb.for_purpose(purpose)):
            continue
        own = pb.steps.purposes.get(purpose)
        path = ("steps", "purposes", purpose, "instance") if own is not None and own.instance else \
            ("steps", "instance", "name")
        raise BadInput(f"{where(path)}: {'.'.join(path)}: {name!r} contains spaces (use underscores); use e.g. "
                       f"{suggest_instance_name(name)!r}: a name with spaces only pins the instance SAP generated "
                       f"(to locate it), and this playbook would create it (purpose {purpose})")
