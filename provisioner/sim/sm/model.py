"""The resources Service Manager holds (Peripli specification api.md; SAP's API "Service Manager" as recorded by
the Terraform provider's fixtures): catalog, instances, bindings, operations and access bindings."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from provisioner.sim.core.jobs import Job

SM_PLATFORM = "service-manager"  # platform_id of instances made through Service Manager itself
Labels = dict[str, list[str]]


@dataclass
class Operation:
    """`GET /v1/{resource_type}/{id}/operations/{op}`; also a resource's `last_operation`."""

    id: str
    type: str  # "create" | "update" | "delete"
    resource_id: str
    resource_type: str  # "/v1/service_instances" | "/v1/service_bindings"
    created_at: str
    updated_at: str
    state: str = "in progress"  # "in progress" | "succeeded" | "failed" (while `job` runs: in progress)
    description: str = ""
    job: Job | None = None
    #: a cascade operation (sm/cascade.py): the id of its root operation, and whether it is still `pending` (Peripli
    #: `pkg/types/operation.go`: waiting to be handled) while its job runs; else `in progress` while it runs
    cascade_root_id: str = ""
    pending: Callable[[], bool] | None = None

    def current_state(self) -> str:
        if self.job is not None and self.job.running:
            return "pending" if self.pending is not None and self.pending() else "in progress"
        return self.state


@dataclass
class CatalogPlan:
    """A plan of the broker catalog (the same catalog the CF marketplace shows)."""

    id: str  # Service Manager's own plan id
    name: str
    description: str
    catalog_id: str
    offering_id: str
    entitlement: tuple[str, str] | None  # (BTP service, plan) that must be assigned to the subaccount
    platform_guid: str  # the plan's guid in CF (instances made in CF refer to it)
    created_at: str
    seq: int


@dataclass
class CatalogOffering:
    id: str
    name: str
    description: str
    catalog_id: str
    broker_id: str
    broker: str  # credentials generator (broker/brokers.py)
    bindable: bool
    instances_retrievable: bool
    plan_updateable: bool
    tags: list[str]
    created_at: str
    seq: int


@dataclass
class Instance:
    """A service instance as Service Manager lists it: made through it (`platform_id` service-manager) or, as a
    read-only view, in the subaccount's Cloud Foundry environment."""

    id: str
    name: str
    subaccount_guid: str
    plan_id: str
    parameters: dict[str, Any]  # as last applied by the broker
    labels: Labels
    context: dict[str, Any]
    created_at: str
    updated_at: str
    seq: int
    app_index: int  # the "!b<n>" suffix of the XSUAA application
    secret: str  # the instance secret (instance-secret credential type)
    platform_id: str = SM_PLATFORM
    created_by: str | None = None  # the caller that created it (None: not recorded)
    updated_by: str | None = None
    ready: bool = True
    usable: bool = True
    last_operation: Operation | None = None
    secret_used_at: str | None = None  # the last sign-in with the instance secret (instanceSecretLastUsedAt)

    @property
    def guid(self) -> str:  # what the broker reads (brokers.BrokeredInstance)
        return self.id


@dataclass
class Binding:
    id: str
    name: str
    instance_id: str
    parameters: dict[str, Any]
    labels: Labels
    context: dict[str, Any]
    created_at: str
    updated_at: str
    seq: int
    credentials: dict[str, Any] | None = None  # None for bindings made in CF (Service Manager keeps none)
    created_by: str | None = None
    updated_by: str | None = None
    ready: bool = True
    last_operation: Operation | None = None


@dataclass
class AccessBinding:
    """A Service Manager binding of a subaccount (Accounts service v2 `serviceManagerBindings`): an XSUAA client
    of the subaccount's zone allowed to call Service Manager for that subaccount."""

    subaccount_guid: str
    name: str
    clientid: str
    clientsecret: str
    xsappname: str
    created_ms: int


@dataclass(frozen=True)
class PlatformInstance:
    """A Cloud Foundry instance of a subaccount, as the CF API tells it (app.py builds them)."""

    id: str
    name: str
    subaccount_guid: str
    plan_guid: str  # CF plan guid
    parameters: dict[str, Any]
    context: dict[str, Any]  # platform cloudfoundry, organization/space guid and name
    created_at: str
    updated_at: str
    seq: int
    operation_type: str
    operation_state: str  # "in progress" | "succeeded" | "failed"
    operation_description: str


@dataclass(frozen=True)
class PlatformBinding:
    """A CF service key, as the CF API tells it."""

    id: str
    name: str
    instance_id: str
    created_at: str
    updated_at: str
    seq: int
    ready: bool
