"""The BTP resources the simulator holds: global account, entitlements, subaccounts and assignments."""

from __future__ import annotations

from dataclasses import dataclass

from provisioner.sim.core.jobs import Job

# Entitlement plan categories that are switched on with `enable` rather than given a numeric `amount`.
ENABLE_CATEGORIES = frozenset({"ELASTIC_SERVICE", "ELASTIC_LIMITED", "APPLICATION"})
UNLIMITED_AMOUNT = 2_000_000_000


@dataclass
class Entitlement:
    """A service plan the global account is entitled to."""

    service: str
    plan: str
    category: str
    amount: int  # UNLIMITED_AMOUNT when unlimited
    unlimited: bool
    service_display_name: str
    plan_display_name: str
    description: str
    unique_identifier: str

    @property
    def enable_type(self) -> bool:
        return self.category in ENABLE_CATEGORIES


@dataclass
class CisKey:
    clientid: str
    clientsecret: str
    grant_type: str  # "client_credentials" or "user_token"
    plan: str
    xsappname: str


@dataclass
class GlobalAccount:
    guid: str
    display_name: str
    subdomain: str
    zone_id: str
    entitlements: list[Entitlement]
    cis: CisKey


@dataclass
class Subaccount:
    guid: str
    display_name: str
    subdomain: str
    region: str
    description: str
    tenant_id: str  # identity zone id of the subaccount's XSUAA zone
    labels: dict[str, list[str]]
    used_for_production: str
    beta_enabled: bool
    created_ms: int
    modified_ms: int
    provisioned: str | None = None  # the Cloud ALM tenant's provisioning date (informational, /_sim/state)


@dataclass
class Assignment:
    """An entitlement assignment of one service plan to one subaccount."""

    subaccount_guid: str
    service: str
    plan: str
    amount: int  # 1 for enable-type plans
    created_ms: int
    modified_ms: int
    state: str = "OK"  # state once no job runs: "OK" or "PROCESSING_FAILED"
    state_message: str = "Succeeded to update assignment of service plan."
    job: Job | None = None  # running job (STARTED / PROCESSING)
    removing: bool = False  # the running job unassigns the plan


@dataclass(frozen=True)
class EnvironmentOrg:
    """A CF org as the Provisioning service lists it (the CF API provides them)."""

    guid: str
    name: str
    subaccount_guid: str
