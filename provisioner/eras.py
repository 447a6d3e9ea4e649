"""Which steps a tenant needs, by its provisioning date and purposes (seeds 000 and 003).

| provisioned | steps |
|---|---|
| before 2023-06-12 | every step: space, entitlement, instance, key, download, check, test |
| 2023-06-12 to 2023-10-15 | a monitoring key was generated with the tenant; transport management needs its own instance and key in the existing space, with no entitlement step |
| from 2023-10-16 on | the credentials were generated automatically: only download, check and test |
"""

from __future__ import annotations

import datetime as dt

from provisioner.playbook import Playbook
from provisioner.steps.base import Step
from provisioner.steps.download import DownloadStep
from provisioner.steps.entitlement import EntitlementStep
from provisioner.steps.instance import InstanceStep
from provisioner.steps.key import KeyStep
from provisioner.steps.space import SpaceStep
from provisioner.steps.verify import CheckStep, TestStep

MONITORING_KEY_FROM = dt.date(2023, 6, 12)
AUTOMATIC_FROM = dt.date(2023, 10, 16)

ERA_MANUAL = "before 2023-06-12: no credentials were generated; every step is needed"
ERA_MONITORING = "2023-06-12 to 2023-10-15: a monitoring key was generated"
ERA_AUTOMATIC = "on or after 2023-10-16: the credentials were generated automatically"


def era_of(provisioned: dt.date) -> str:
    if provisioned < MONITORING_KEY_FROM:
        return ERA_MANUAL
    if provisioned < AUTOMATIC_FROM:
        return ERA_MONITORING
    return ERA_AUTOMATIC


def select_steps(pb: Playbook) -> tuple[str, list[tuple[Step, str | None]]]:
    """The era and each step with ``None`` (run it) or the reason it is skipped."""
    era = era_of(pb.tenant.provisioned)
    steps: list[Step] = [SpaceStep(), EntitlementStep(), InstanceStep(), KeyStep(), DownloadStep(), CheckStep(),
                         TestStep()]
    skips: dict[str, str] = {}
    if not pb.entitlement_enabled:
        skips["entitlement"] = "disabled in the playbook (steps.entitlement.enabled: false)"
    return era, [(s, skips.get(s.name)) for s in steps]
