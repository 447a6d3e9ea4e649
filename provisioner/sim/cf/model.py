"""The CF resources the simulator holds (cloud-foundry-v3-api.md sections 3-8)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from provisioner.sim.core.jobs import Job

ORG_ROLE_TYPES = ("organization_user", "organization_auditor", "organization_manager",
                  "organization_billing_manager")
SPACE_ROLE_TYPES = ("space_auditor", "space_developer", "space_manager", "space_supporter")


@dataclass
class Org:
    guid: str
    name: str
    subaccount_guid: str | None
    created_at: str
    updated_at: str
    seq: int
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)


@dataclass
class Space:
    guid: str
    name: str
    org_guid: str
    created_at: str
    updated_at: str
    seq: int
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)


@dataclass
class Role:
    guid: str
    type: str
    user_guid: str
    org_guid: str | None
    space_guid: str | None
    created_at: str
    updated_at: str
    seq: int


@dataclass
class Offering:
    guid: str
    name: str
    description: str
    broker: str  # credentials generator, see broker/brokers.py: "cloud-alm" or "generic"
    broker_guid: str
    catalog_id: str
    bindable: bool
    instances_retrievable: bool
    plan_updateable: bool
    tags: list[str]
    created_at: str
    seq: int


@dataclass
class Plan:
    guid: str
    name: str
    offering_guid: str
    description: str
    catalog_id: str
    entitlement: tuple[str, str] | None  # (BTP service, plan) that makes the plan visible to an org
    created_at: str
    seq: int

    @property
    def visibility_type(self) -> str:
        return "organization" if self.entitlement else "public"


@dataclass
class LastOperation:
    type: str
    state: str
    description: str | None
    created_at: str
    updated_at: str


@dataclass
class Instance:
    guid: str
    name: str
    space_guid: str
    plan_guid: str
    parameters: dict[str, Any]  # as last applied by the broker
    tags: list[str]
    labels: dict[str, str]
    annotations: dict[str, str]
    created_at: str
    updated_at: str
    last_operation: LastOperation
    seq: int
    app_index: int  # the "!b<n>" suffix of the XSUAA application
    secret: str  # instance secret shared by all keys (instance-secret credential type)
    job: Job | None = None
    secret_used_at: str | None = None  # the last sign-in with the instance secret (instanceSecretLastUsedAt)


@dataclass
class Key:
    guid: str
    name: str
    instance_guid: str
    parameters: dict[str, Any]
    labels: dict[str, str]
    annotations: dict[str, str]
    created_at: str
    updated_at: str
    last_operation: LastOperation
    seq: int
    credentials: dict[str, Any] | None = None
    job: Job | None = None
