"""Which steps a tenant needs, by its provisioning date and purposes (SAP Cloud ALM's "Provisioning of SAP Cloud
ALM" dates and the setup guide for the SAP Cloud ALM API).

| provisioned | what exists | steps (``steps.mode: auto``) |
|---|---|---|
| before 2023-06-12 | nothing | every step: space, entitlement, instance, key, download, check, test |
| 2023-06-12 to 2023-10-15 | a space, the entitlement, a monitoring key | transport management: its own instance |
|  |  | and key in the existing space, no entitlement step; monitoring only: locate the key |
| from 2023-10-16 on | the credentials, generated automatically | locate them, then download, check and test |

Each purpose's key is decided on its own (:meth:`Playbook.for_purpose`): transport management and api keys are the
playbook's own (an instance and key), monitoring takes SAP's generated credentials where they exist.
``steps.mode: create`` runs every step whatever the era (the playbook asks for more); ``locate`` only finds.
Where the generated credentials live (``steps.generated.platform``, default ``auto``): for tenants provisioned on
or after 2023-10-16 at subaccount level (SAP's page "Binding Credentials of the SAP Cloud ALM API Service
Instance": an instance "SAP Cloud ALM API" with a binding ``binding-key-…``, no CF environment), found through SAP
Service Manager by plan and creator without names (:mod:`provisioner.platform.generated`); for 2023-06-12 to
2023-10-15 in Cloud Foundry, the instance and key named in the playbook in the space ``steps.space.name``
(UNCONFIRMED: SAP's older pages imply a CF space). What is created follows the playbook's ``route``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from provisioner.playbook.load import Playbook
from provisioner.playbook.locating import AUTOMATIC_FROM, MONITORING_KEY_FROM
from provisioner.steps.base import Step, VerifyStep
from provisioner.steps.download import DownloadStep
from provisioner.steps.entitlement import EntitlementStep
from provisioner.steps.instance import InstanceStep
from provisioner.steps.key import KeyStep
from provisioner.steps.space import SpaceStep
from provisioner.steps.verify import CheckStep, TestStep

ERA_MANUAL = "provisioned before 2023-06-12: no credentials were generated, every step is needed"
ERA_MONITORING = "provisioned 2023-06-12 to 2023-10-15: a monitoring key was generated"
ERA_AUTOMATIC = "provisioned on or after 2023-10-16: the credentials were generated automatically"
#: the stable code of each era (the JSON report's ``era.code``); the sentences above may be reworded
ERA_CODES = {ERA_MANUAL: "manual", ERA_MONITORING: "monitoring-key", ERA_AUTOMATIC: "automatic"}


def era_of(provisioned: dt.date) -> str:
    if provisioned < MONITORING_KEY_FROM:
        return ERA_MANUAL
    if provisioned < AUTOMATIC_FROM:
        return ERA_MONITORING
    return ERA_AUTOMATIC


def era_code(era: str) -> str:
    """The code (``manual``, ``monitoring-key``, ``automatic``) of an era sentence from :func:`select_steps` (with
    several purposes, the sentences per purpose all name the tenant's one era)."""
    return next(code for text, code in ERA_CODES.items() if text in era)


def generated_platform(pb: Playbook) -> str:
    """Where the credentials generated with the tenant are located: ``subaccount`` or ``cloud-foundry``
    (``steps.generated.platform``; auto: subaccount for tenants provisioned on or after 2023-10-16)."""
    chosen = pb.steps.generated.platform
    if chosen != "auto":
        return chosen
    return "subaccount" if pb.tenant.provisioned >= AUTOMATIC_FROM else "cloud-foundry"


def platform_for(pb: Playbook) -> str:
    """The platform the steps talk to: where the credentials are located (a run that only locates), else the
    playbook's route. ``subaccount`` (SAP Service Manager) or ``cloud-foundry``."""
    mode, _ = _decide(pb)
    return generated_platform(pb) if mode == "locate" else pb.route_name


def locates(pb: Playbook) -> bool:
    """Whether the playbook locates credentials generated with the tenant (the era or ``steps.mode``) rather
    than creating its own."""
    return _decide(pb)[0] == "locate"


def _decide(pb: Playbook) -> tuple[str, str]:
    """The mode the era and ``steps.mode`` come to (auto is resolved), and the era's words."""
    era = era_of(pb.tenant.provisioned)
    mode: str = pb.mode
    if mode == "auto" and era == ERA_MONITORING:
        if "transport-management" in pb.tenant.purposes:
            era += "; transport management needs its own instance and key in the existing space"
        elif "api" in pb.tenant.purposes:
            era += "; an api key is the playbook's own: its instance and key in the existing space"
        else:
            era += "; monitoring only: locate the generated key"
            mode = "locate"
    elif mode == "auto" and era == ERA_AUTOMATIC and pb.tenant.purposes == ("api",):
        era += "; an api key is the playbook's own, not the generated credentials: its instance and key"
    elif mode == "auto" and era == ERA_AUTOMATIC:
        mode = "locate"
        era += "; locate them" + (" at subaccount level by plan and creator"
                                  if generated_platform(pb) == "subaccount" else "")
    elif mode != "auto":
        era += f"; steps.mode is {mode}"
    return mode, era


def select_steps(pb: Playbook) -> tuple[str, list[tuple[Step[Any, Any] | VerifyStep, str | None]]]:
    """The era (with the mode when not ``auto``) and each step with ``None`` (run it) or why it is skipped."""
    mode, era = _decide(pb)
    era_words = era_of(pb.tenant.provisioned)
    skip: dict[str, str] = {}
    if pb.mode == "auto" and era_words == ERA_MONITORING:
        skip["entitlement"] = "the entitlement came with the tenant's generated monitoring key"
    if platform_for(pb) == "subaccount":
        skip["space"] = "the instance lives at subaccount level (SAP Service Manager): no Cloud Foundry space"
    if mode == "locate":
        skip["entitlement"] = skip.get("entitlement") or "the credentials exist; nothing is created (locate)"
    if not pb.entitlement_enabled:
        skip["entitlement"] = "disabled in the playbook (steps.entitlement.enabled: false)"
    locate = mode == "locate"
    steps: list[Step[Any, Any] | VerifyStep] = [SpaceStep(locate=locate), EntitlementStep(),
                                                InstanceStep(locate=locate), KeyStep(locate=locate), DownloadStep(),
                                                CheckStep(), TestStep()]
    return era, [(s, skip.get(s.name)) for s in steps]
