"""In-memory state of the simulated landscape, and loading it from a landscape YAML file.

One `State` holds everything the simulated APIs serve: the BTP global account with its entitlements and
`cis` key, subaccounts with their entitlement assignments, one CF org per subaccount with spaces, roles,
service instances and service keys, plus the CF and BTP asynchronous jobs.

Concurrency: one re-entrant lock (`State.lock`); the server holds it for the whole handling of a request.
The fault injector (`State.faults`, see faults.py) is used under that lock too.

Time: asynchronous jobs (CF `/v3/jobs`, BTP `jobs-management`) have no background threads. A job is due
its duration after it was created: `faults.job_seconds_by_operation[operation]`, else `config.job_seconds`,
read from the *current* settings (so lowering `job_seconds` through `/_sim/config` also finishes jobs
already running); `tick()` runs at the start of every request and completes the due jobs in creation
order, applying their effect then (the "broker" answers at that moment), or, for a job the fault injector
chose to fail when it was created, its failure. While a job runs its phase is computed from
`time.monotonic()`: the first half is phase 0 (CF job `PROCESSING`, last operation `initial`, BTP entity
`STARTED`), the second half phase 1 (`POLLING`, `in progress`, `PROCESSING`). With a duration of 0 a job
completes on the next request. While `faults.entitlements_stuck` is on, BTP entitlement jobs never
complete and stay in phase 1.

Tokens: every token carries the claim `rev_sig` = `State.rev_sig` at issue time; `revoke_tokens()` changes
it, which invalidates every access token issued so far (refresh tokens stay usable).

The landscape file format is described in `landscapes/default.yaml` and in docs/simulator.md.
"""

from __future__ import annotations

import secrets
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import yaml

from provisioner.sim import broker
from provisioner.sim.faults import FaultInjector

DEFAULT_LANDSCAPE = Path(__file__).parent / "landscapes" / "default.yaml"

# Entitlement plan categories that are switched on with `enable` rather than given a numeric `amount`.
ENABLE_CATEGORIES = frozenset({"ELASTIC_SERVICE", "ELASTIC_LIMITED", "APPLICATION"})
UNLIMITED_AMOUNT = 2_000_000_000

ORG_ROLE_TYPES = ("organization_user", "organization_auditor", "organization_manager",
                  "organization_billing_manager")
SPACE_ROLE_TYPES = ("space_auditor", "space_developer", "space_manager", "space_supporter")

_GUID_NAMESPACE = uuid.UUID("9a1f3b52-6c0e-4d8a-b7e1-2f4c5d6e7a8b")


class LandscapeError(ValueError):
    """The landscape file is not valid."""


def new_guid() -> str:
    return str(uuid.uuid4())


def stable_guid(*parts: str) -> str:
    """A guid derived from names, so that landscapes without explicit guids are reproducible."""
    return str(uuid.uuid5(_GUID_NAMESPACE, "/".join(parts)))


def iso_now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def epoch_ms() -> int:
    return int(time.time() * 1000)


# --------------------------------------------------------------------------------------------------
# Model
# --------------------------------------------------------------------------------------------------


@dataclass
class Config:
    job_seconds: float = 1.0
    token_seconds: int = 1199
    instances_retrievable: bool = True  # False switches GET .../parameters off for every offering

    def as_dict(self) -> dict[str, Any]:
        return {"job_seconds": self.job_seconds, "token_seconds": self.token_seconds,
                "instances_retrievable": self.instances_retrievable}


@dataclass
class Job:
    """An asynchronous operation: a CF job (`guid`) or a BTP jobs-management job (`number`)."""

    kind: str  # "cf" or "btp"
    operation: str  # CF: "service_instance.create" ...; BTP: "entitlements.assign" (faults.OPERATIONS)
    effect: Callable[[], str | None]  # applied at completion; returns a failure description or None
    fail: Callable[[str], None] | None = None  # applied instead of `effect` when the job is made to fail
    started: float = field(default_factory=time.monotonic)
    guid: str = field(default_factory=new_guid)
    number: int = 0
    created_at: str = field(default_factory=iso_now)
    updated_at: str = ""
    resource_type: str | None = None  # CF link key: "service_instances", "service_credential_binding"
    resource_guid: str | None = None
    done: bool = False
    failure: str | None = None
    injected_failure: str | None = None  # decided by the fault injector when the job starts

    def __post_init__(self) -> None:
        self.updated_at = self.updated_at or self.created_at


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
class User:
    guid: str
    username: str
    origin: str
    password: str | None
    global_account_admin: bool = False
    cf_admin: bool = False


@dataclass
class CFClient:
    client_id: str
    client_secret: str
    cf_admin: bool = False

    @property
    def guid(self) -> str:  # the CC uses the client id as the "user" guid of client tokens
        return self.client_id


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
    broker: str  # credentials generator, see broker.py: "cloud-alm" or "generic"
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


# --------------------------------------------------------------------------------------------------
# State
# --------------------------------------------------------------------------------------------------


class State:
    """Everything the simulator serves. Callers hold `lock` while reading or changing it."""

    def __init__(self, config: Config) -> None:
        self.lock = threading.RLock()
        self.config = config
        self.faults = FaultInjector()
        self._token_generation = 0
        self.base_url = ""
        self.global_account: GlobalAccount | None = None
        self.default_user = ""
        self.users: list[User] = []
        self.cf_clients: list[CFClient] = []
        self.subaccounts: dict[str, Subaccount] = {}
        self.assignments: list[Assignment] = []
        self.orgs: dict[str, Org] = {}
        self.spaces: dict[str, Space] = {}
        self.roles: dict[str, Role] = {}
        self.offerings: dict[str, Offering] = {}
        self.plans: dict[str, Plan] = {}
        self.instances: dict[str, Instance] = {}
        self.keys: dict[str, Key] = {}
        self.jobs: dict[str, Job] = {}  # CF jobs by guid
        self.btp_jobs: dict[int, Job] = {}
        self._pending: list[Job] = []
        self._seq = 0
        self._next_btp_job = 53873672
        self._next_app_index = 1001

    # ---- small helpers -----------------------------------------------------------------------

    def next_seq(self) -> int:
        self._seq += 1
        return self._seq

    def next_app_index(self) -> int:
        self._next_app_index += 1
        return self._next_app_index

    @property
    def rev_sig(self) -> str:
        """The revocation signature of tokens issued now (UAA's `rev_sig` claim)."""
        return f"{self._token_generation:08x}"

    def revoke_tokens(self) -> None:
        """Invalidate every access token issued so far (`POST /_sim/tokens/expire`)."""
        self._token_generation += 1

    def set_base_url(self, url: str) -> None:
        """Called once the server listens; fills in credentials of keys declared in the landscape."""
        self.base_url = url
        for key in self.keys.values():
            if key.credentials is None and key.last_operation.state == "succeeded":
                key.credentials = self._make_credentials(self.instances[key.instance_guid], key)

    # ---- time and jobs -------------------------------------------------------------------------

    def start_job(self, job: Job) -> Job:
        if job.kind == "btp":
            self._next_btp_job += 1
            job.number = self._next_btp_job
            self.btp_jobs[job.number] = job
        else:
            self.jobs[job.guid] = job
        job.injected_failure = self.faults.job_failure(job.operation)
        self._pending.append(job)
        return job

    def job_seconds(self, job: Job) -> float:
        return self.faults.job_seconds(job.operation, self.config.job_seconds)

    def held(self, job: Job) -> bool:
        """A job that does not complete for now (entitlements stuck in PROCESSING)."""
        return job.kind == "btp" and self.faults.entitlements_stuck

    def phase(self, job: Job) -> int:
        """0 in the first half of a running job, 1 in the second half."""
        if self.held(job):
            return 1
        elapsed = time.monotonic() - job.started
        return 0 if elapsed < self.job_seconds(job) / 2 else 1

    def tick(self) -> None:
        """Complete every due job, oldest first."""
        now = time.monotonic()
        due = [job for job in self._pending
               if not self.held(job) and now - job.started >= self.job_seconds(job)]
        for job in due:
            self._pending.remove(job)
            if job.injected_failure is None:
                job.failure = job.effect()
            else:
                if job.fail is not None:
                    job.fail(job.injected_failure)
                job.failure = job.injected_failure
            job.done = True
            job.updated_at = iso_now()

    # ---- identity ------------------------------------------------------------------------------

    def user_by_guid(self, guid: str) -> User | None:
        return next((u for u in self.users if u.guid == guid), None)

    def users_by_name(self, username: str, origin: str | None = None) -> list[User]:
        return [u for u in self.users if u.username == username and (origin is None or u.origin == origin)]

    def cf_client(self, client_id: str) -> CFClient | None:
        return next((c for c in self.cf_clients if c.client_id == client_id), None)

    def subaccount_by_subdomain(self, subdomain: str) -> Subaccount | None:
        return next((s for s in self.subaccounts.values() if s.subdomain == subdomain), None)

    # ---- CF roles and visibility ---------------------------------------------------------------

    def org_role_types(self, user_guid: str, org_guid: str) -> set[str]:
        return {r.type for r in self.roles.values() if r.user_guid == user_guid and r.org_guid == org_guid}

    def space_role_types(self, user_guid: str, space_guid: str) -> set[str]:
        return {r.type for r in self.roles.values()
                if r.user_guid == user_guid and r.space_guid == space_guid}

    def readable_org_guids(self, user_guid: str) -> set[str]:
        guids = {r.org_guid for r in self.roles.values() if r.user_guid == user_guid and r.org_guid}
        guids |= {self.spaces[r.space_guid].org_guid for r in self.roles.values()
                  if r.user_guid == user_guid and r.space_guid in self.spaces}
        return guids

    def readable_space_guids(self, user_guid: str) -> set[str]:
        guids = {r.space_guid for r in self.roles.values() if r.user_guid == user_guid and r.space_guid}
        managed = {r.org_guid for r in self.roles.values()
                   if r.user_guid == user_guid and r.type == "organization_manager"}
        guids |= {s.guid for s in self.spaces.values() if s.org_guid in managed}
        return guids

    def add_role(self, type_: str, user_guid: str, org_guid: str | None, space_guid: str | None) -> Role:
        now = iso_now()
        role = Role(new_guid(), type_, user_guid, org_guid, space_guid, now, now, self.next_seq())
        self.roles[role.guid] = role
        return role

    # ---- entitlements ----------------------------------------------------------------------------

    def entitlement(self, service: str, plan: str) -> list[Entitlement]:
        assert self.global_account is not None
        return [e for e in self.global_account.entitlements if e.service == service and e.plan == plan]

    def assignment(self, subaccount_guid: str, service: str, plan: str) -> Assignment | None:
        return next((a for a in self.assignments if a.subaccount_guid == subaccount_guid
                     and a.service == service and a.plan == plan), None)

    def assignment_state(self, a: Assignment) -> str:
        if a.job is not None and not a.job.done:
            return "STARTED" if self.phase(a.job) == 0 else "PROCESSING"
        return a.state

    def assigned_amount(self, service: str, plan: str, exclude_subaccount: str | None = None) -> int:
        return sum(a.amount for a in self.assignments if a.service == service and a.plan == plan
                   and a.subaccount_guid != exclude_subaccount)

    def assign(self, job: Job, subaccount_guid: str, ent: Entitlement, amount: int) -> None:
        """Start (re)assigning `amount` of a plan (0 = unassign) as part of `job`."""
        now = epoch_ms()
        current = self.assignment(subaccount_guid, ent.service, ent.plan)
        if current is None:
            if amount == 0:
                return
            current = Assignment(subaccount_guid, ent.service, ent.plan, amount, now, now)
            self.assignments.append(current)
        elif current.amount == amount and current.state == "OK" and current.job is None:
            return  # nothing changes: the assignment stays OK
        current.amount = amount if amount else current.amount
        current.removing = amount == 0
        current.modified_ms = now
        current.job = job

    def finish_assignments(self, job: Job) -> None:
        for a in list(self.assignments):
            if a.job is not job:
                continue
            a.job = None
            a.modified_ms = epoch_ms()
            if a.removing:
                self.assignments.remove(a)
            else:
                a.state = "OK"
                a.state_message = "Succeeded to update assignment of service plan."

    def fail_assignments(self, job: Job, failure: str) -> None:
        for a in self.assignments:
            if a.job is job:
                a.job = None
                a.removing = False
                a.modified_ms = epoch_ms()
                a.state = "PROCESSING_FAILED"
                a.state_message = failure

    def plan_visible_in_org(self, plan: Plan, org_guid: str) -> bool:
        if plan.entitlement is None:
            return True
        org = self.orgs.get(org_guid)
        if org is None or org.subaccount_guid is None:
            return False
        a = self.assignment(org.subaccount_guid, *plan.entitlement)
        return a is not None and not a.removing and self.assignment_state(a) == "OK"

    # ---- CF service instances and keys -----------------------------------------------------------

    def offering_of(self, instance: Instance) -> Offering:
        return self.offerings[self.plans[instance.plan_guid].offering_guid]

    def instances_retrievable(self, offering: Offering) -> bool:
        return offering.instances_retrievable and self.config.instances_retrievable

    def operation_state(self, obj: Instance | Key) -> str:
        if obj.job is not None and not obj.job.done:
            return "initial" if self.phase(obj.job) == 0 else "in progress"
        return obj.last_operation.state

    def in_progress(self, obj: Instance | Key) -> bool:
        return obj.job is not None and not obj.job.done

    def keys_of(self, instance_guid: str) -> list[Key]:
        return [k for k in self.keys.values() if k.instance_guid == instance_guid]

    def create_instance(self, name: str, space_guid: str, plan_guid: str, parameters: dict[str, Any],
                        tags: list[str], labels: dict[str, str], annotations: dict[str, str]) -> Job:
        now = iso_now()
        inst = Instance(new_guid(), name, space_guid, plan_guid, {}, tags, labels, annotations, now, now,
                        LastOperation("create", "initial", None, now, now), self.next_seq(),
                        self.next_app_index(), secrets.token_urlsafe(24))
        self.instances[inst.guid] = inst

        def effect() -> str | None:
            failure = broker.validate_parameters(self.offering_of(inst).broker, parameters, inst.name)
            if failure is None:
                inst.parameters = parameters
            return self._finish_operation(inst, failure)

        return self._instance_job(inst, "service_instance.create", effect)

    def update_instance(self, inst: Instance, parameters: dict[str, Any] | None,
                        plan_guid: str | None) -> Job:
        now = iso_now()
        inst.last_operation = LastOperation("update", "initial", None, now, now)

        def effect() -> str | None:
            new_parameters = inst.parameters if parameters is None else parameters
            failure = broker.validate_parameters(self.offering_of(inst).broker, new_parameters, inst.name)
            if failure is None:
                inst.parameters = new_parameters
                inst.plan_guid = plan_guid or inst.plan_guid
            return self._finish_operation(inst, failure)

        return self._instance_job(inst, "service_instance.update", effect)

    def delete_instance(self, inst: Instance) -> Job:
        now = iso_now()
        inst.last_operation = LastOperation("delete", "initial", None, now, now)

        def effect() -> str | None:
            for key in self.keys_of(inst.guid):
                del self.keys[key.guid]
            del self.instances[inst.guid]
            return None

        return self._instance_job(inst, "service_instance.delete", effect)

    def _instance_job(self, inst: Instance, operation: str, effect: Callable[[], str | None]) -> Job:
        job = self.start_job(Job("cf", operation, effect, lambda failure: self._fail_operation(inst, failure),
                                 resource_type="service_instances", resource_guid=inst.guid))
        inst.job = job
        return job

    def create_key(self, inst: Instance, name: str, parameters: dict[str, Any],
                   labels: dict[str, str], annotations: dict[str, str]) -> Job:
        now = iso_now()
        key = Key(new_guid(), name, inst.guid, parameters, labels, annotations, now, now,
                  LastOperation("create", "initial", None, now, now), self.next_seq())
        self.keys[key.guid] = key

        def effect() -> str | None:
            key.credentials = self._make_credentials(inst, key)
            return self._finish_operation(key, None)

        job = self.start_job(Job("cf", "service_keys.create", effect,
                                 lambda failure: self._fail_operation(key, failure),
                                 resource_type="service_credential_binding", resource_guid=key.guid))
        key.job = job
        return job

    def delete_key(self, key: Key) -> Job:
        now = iso_now()
        key.last_operation = LastOperation("delete", "initial", None, now, now)

        def effect() -> str | None:
            self.keys.pop(key.guid, None)
            return None

        job = self.start_job(Job("cf", "service_keys.delete", effect,
                                 lambda failure: self._fail_operation(key, failure),
                                 resource_type="service_credential_binding", resource_guid=key.guid))
        key.job = job
        return job

    def _finish_operation(self, obj: Instance | Key, failure: str | None) -> str | None:
        op = obj.last_operation
        op.state = "failed" if failure else "succeeded"
        op.description = failure or "Operation succeeded"
        op.updated_at = obj.updated_at = iso_now()
        return failure

    def _fail_operation(self, obj: Instance | Key, failure: str) -> None:
        """An injected job failure: the broker refused, nothing else changes."""
        self._finish_operation(obj, failure)

    def _make_credentials(self, inst: Instance, key: Key) -> dict[str, Any]:
        space = self.spaces[inst.space_guid]
        org = self.orgs[space.org_guid]
        sub = self.subaccounts.get(org.subaccount_guid or "")
        return broker.credentials(self.offering_of(inst).broker, self.base_url, inst, key, sub)

    def find_xsuaa_client(self, subdomain: str, clientid: str, clientsecret: str) -> Instance | None:
        """The Cloud ALM instance whose existing key carries these client credentials in that zone."""
        for key in self.keys.values():
            uaa = (key.credentials or {}).get("uaa") or {}
            if (uaa.get("identityzone") == subdomain and uaa.get("clientid") == clientid
                    and secrets.compare_digest(str(uaa.get("clientsecret", "")), clientsecret)):
                return self.instances.get(key.instance_guid)
        return None

    # ---- admin view ------------------------------------------------------------------------------

    def dump(self) -> dict[str, Any]:
        """A JSON-able view of the mutable state, without secrets (for `GET /_sim/state`)."""
        def op(obj: Instance | Key) -> dict[str, Any]:
            return {"type": obj.last_operation.type, "state": self.operation_state(obj),
                    "description": obj.last_operation.description}

        return {
            "config": self.config.as_dict(),
            "subaccounts": [{"guid": s.guid, "subdomain": s.subdomain, "provisioned": s.provisioned}
                            for s in self.subaccounts.values()],
            "orgs": [{"guid": o.guid, "name": o.name, "subaccount_guid": o.subaccount_guid}
                     for o in self.orgs.values()],
            "spaces": [{"guid": s.guid, "name": s.name, "org_guid": s.org_guid}
                       for s in self.spaces.values()],
            "roles": [{"guid": r.guid, "type": r.type, "user_guid": r.user_guid, "org_guid": r.org_guid,
                       "space_guid": r.space_guid} for r in self.roles.values()],
            "service_instances": [
                {"guid": i.guid, "name": i.name, "space_guid": i.space_guid, "plan_guid": i.plan_guid,
                 "parameters": i.parameters, "tags": i.tags, "labels": i.labels, "annotations": i.annotations,
                 "last_operation": op(i)} for i in self.instances.values()],
            "service_keys": [
                {"guid": k.guid, "name": k.name, "instance_guid": k.instance_guid,
                 "has_credentials": k.credentials is not None, "last_operation": op(k)}
                for k in self.keys.values()],
            "assignments": [
                {"subaccount_guid": a.subaccount_guid, "service": a.service, "plan": a.plan,
                 "amount": a.amount, "entity_state": self.assignment_state(a)} for a in self.assignments],
        }


# --------------------------------------------------------------------------------------------------
# Landscape loading
# --------------------------------------------------------------------------------------------------


def load_landscape(source: str | Path | dict[str, Any] | None, config: Config) -> State:
    """Build a State from a landscape file path, an already parsed dict, or None (the default file)."""
    if isinstance(source, dict):
        data = source
    else:
        path = Path(source) if source else DEFAULT_LANDSCAPE
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise LandscapeError(f"cannot read landscape file {path}: {exc.strerror}") from exc
        except yaml.YAMLError as exc:
            raise LandscapeError(f"landscape file {path} is not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise LandscapeError("a landscape must be a mapping")
    state = State(config)
    _Loader(state).load(data)
    return state


def _req(d: dict[str, Any], key: str, where: str) -> Any:
    if not isinstance(d, dict) or d.get(key) in (None, ""):
        raise LandscapeError(f"{where}: '{key}' is required")
    return d[key]


def _date(value: Any, where: str) -> str | None:
    """An ISO date (YAML parses `2023-08-01` as a date already), or None."""
    if value is None:
        return None
    try:
        if isinstance(value, datetime):
            value = value.date()
        return (value if isinstance(value, date) else date.fromisoformat(str(value))).isoformat()
    except ValueError:
        raise LandscapeError(f"{where} must be a date (YYYY-MM-DD)") from None


class _Loader:
    def __init__(self, state: State) -> None:
        self.s = state

    def load(self, data: dict[str, Any]) -> None:
        self._global_account(_req(data, "global_account", "landscape"))
        for i, u in enumerate(data.get("users") or []):
            where = f"users[{i}]"
            username = _req(u, "username", where)
            origin = u.get("origin", "uaa")
            self.s.users.append(User(u.get("guid") or stable_guid("user", origin, username), username, origin,
                                     u.get("password"), bool(u.get("global_account_admin")),
                                     bool(u.get("cf_admin"))))
        for i, c in enumerate(data.get("cf_clients") or []):
            where = f"cf_clients[{i}]"
            self.s.cf_clients.append(CFClient(_req(c, "client_id", where), _req(c, "client_secret", where),
                                              bool(c.get("cf_admin"))))
        self.s.default_user = data.get("default_user") or (self.s.users[0].username if self.s.users else "")
        for i, o in enumerate(data.get("service_offerings") or []):
            self._offering(o, f"service_offerings[{i}]")
        for i, sa in enumerate(data.get("subaccounts") or []):
            self._subaccount(sa, f"subaccounts[{i}]")

    def _global_account(self, ga: dict[str, Any]) -> None:
        where = "global_account"
        guid = _req(ga, "guid", where)
        ents = []
        for i, e in enumerate(ga.get("entitlements") or []):
            w = f"{where}.entitlements[{i}]"
            service, plan = _req(e, "service", w), _req(e, "plan", w)
            unlimited = bool(e.get("unlimited"))
            amount = UNLIMITED_AMOUNT if unlimited else int(e.get("amount", 1))
            ents.append(Entitlement(service, plan, str(e.get("category", "SERVICE")), amount, unlimited,
                                    e.get("service_display_name", service), e.get("plan_display_name", plan),
                                    e.get("description", ""),
                                    e.get("unique_identifier", f"{service}-{plan}".lower())))
        cis = ga.get("cis_key") or {}
        grant_type = cis.get("grant_type", "client_credentials")
        if grant_type not in ("client_credentials", "user_token"):
            raise LandscapeError(f"{where}.cis_key.grant_type must be client_credentials or user_token")
        xsappname = cis.get("xsappname", "cis-central!b14")
        key = CisKey(cis.get("clientid") or f"sb-sim-cis-{guid[:8]}!b1001|{xsappname}",
                     cis.get("clientsecret") or secrets.token_urlsafe(24), grant_type,
                     cis.get("plan", "central"), xsappname)
        self.s.global_account = GlobalAccount(guid, _req(ga, "display_name", where),
                                              _req(ga, "subdomain", where), ga.get("zone_id") or guid, ents,
                                              key)

    def _offering(self, o: dict[str, Any], where: str) -> None:
        name = _req(o, "name", where)
        now = iso_now()
        off = Offering(o.get("guid") or stable_guid("offering", name), name, o.get("description", name),
                       o.get("broker", "cloud-alm" if name == "SAPCloudALMAPIs" else "generic"),
                       o.get("broker_guid") or stable_guid("broker", name),
                       o.get("catalog_id") or stable_guid("catalog", name), bool(o.get("bindable", True)),
                       bool(o.get("instances_retrievable", True)), bool(o.get("plan_updateable", True)),
                       list(o.get("tags") or []), now, self.s.next_seq())
        if off.broker not in broker.BROKERS:
            raise LandscapeError(f"{where}.broker must be one of {', '.join(broker.BROKERS)}")
        self.s.offerings[off.guid] = off
        for i, p in enumerate(_req(o, "plans", where)):
            w = f"{where}.plans[{i}]"
            pname = _req(p, "name", w)
            ent = p.get("entitlement")
            tie = None
            if ent:
                tie = (_req(ent, "service", w + ".entitlement"), _req(ent, "plan", w + ".entitlement"))
            plan = Plan(p.get("guid") or stable_guid("plan", name, pname), pname, off.guid,
                        p.get("description", pname),
                        p.get("catalog_id") or stable_guid("catalog", name, pname),
                        tie, now, self.s.next_seq())
            self.s.plans[plan.guid] = plan

    def _subaccount(self, sa: dict[str, Any], where: str) -> None:
        assert self.s.global_account is not None
        guid = _req(sa, "guid", where)
        created = int(sa.get("created_ms") or epoch_ms())
        sub = Subaccount(guid, _req(sa, "display_name", where), _req(sa, "subdomain", where),
                         sa.get("region", "eu10"), sa.get("description", ""), sa.get("tenant_id") or guid,
                         {k: list(v) for k, v in (sa.get("labels") or {}).items()},
                         sa.get("used_for_production", "UNSET"), bool(sa.get("beta_enabled", False)),
                         created, created, _date(sa.get("provisioned"), f"{where}.provisioned"))
        self.s.subaccounts[guid] = sub
        for i, a in enumerate(sa.get("assignments") or []):
            w = f"{where}.assignments[{i}]"
            service, plan = _req(a, "service", w), _req(a, "plan", w)
            ents = self.s.entitlement(service, plan)
            if not ents:
                raise LandscapeError(f"{w}: the global account has no entitlement {service}/{plan}")
            amount = 1 if ents[0].enable_type else int(a.get("amount", 1))
            state = a.get("state", "OK")
            message = a.get("state_message") or ("Succeeded to update assignment of service plan."
                                                 if state == "OK" else "Failed to update assignment.")
            self.s.assignments.append(Assignment(guid, service, plan, amount, created, created, state,
                                                 message))
        if sa.get("cf_org"):
            self._org(sa["cf_org"], sub, f"{where}.cf_org")

    def _org(self, o: dict[str, Any], sub: Subaccount, where: str) -> None:
        name = _req(o, "name", where)
        now = iso_now()
        org = Org(o.get("guid") or stable_guid("org", name), name, sub.guid, now, now, self.s.next_seq(),
                  dict(o.get("labels") or {}), dict(o.get("annotations") or {}))
        self.s.orgs[org.guid] = org
        self._roles(o.get("roles"), ORG_ROLE_TYPES, org.guid, None, where)
        for i, sp in enumerate(o.get("spaces") or []):
            self._space(sp, org, f"{where}.spaces[{i}]")

    def _space(self, sp: dict[str, Any], org: Org, where: str) -> None:
        name = _req(sp, "name", where)
        now = iso_now()
        space = Space(sp.get("guid") or stable_guid("space", org.name, name), name, org.guid, now, now,
                      self.s.next_seq(), dict(sp.get("labels") or {}), dict(sp.get("annotations") or {}))
        self.s.spaces[space.guid] = space
        self._roles(sp.get("roles"), SPACE_ROLE_TYPES, None, space.guid, where)
        for i, si in enumerate(sp.get("service_instances") or []):
            self._instance(si, space, f"{where}.service_instances[{i}]")

    def _roles(self, roles: dict[str, list[str]] | None, allowed: tuple[str, ...], org_guid: str | None,
               space_guid: str | None, where: str) -> None:
        for type_, members in (roles or {}).items():
            if type_ not in allowed:
                raise LandscapeError(f"{where}.roles: unknown role type {type_!r}")
            for member in members:
                user = next((u for u in self.s.users if member in (u.username, u.guid)), None)
                client = self.s.cf_client(member)
                if user is None and client is None:
                    raise LandscapeError(f"{where}.roles.{type_}: unknown user or client {member!r}")
                self.s.add_role(type_, user.guid if user else client.guid, org_guid, space_guid)  # type: ignore

    def _instance(self, si: dict[str, Any], space: Space, where: str) -> None:
        name = _req(si, "name", where)
        offering = next((o for o in self.s.offerings.values() if o.name == _req(si, "offering", where)), None)
        if offering is None:
            raise LandscapeError(f"{where}: unknown offering {si['offering']!r}")
        plan = next((p for p in self.s.plans.values()
                     if p.offering_guid == offering.guid and p.name == _req(si, "plan", where)), None)
        if plan is None:
            raise LandscapeError(f"{where}: offering {offering.name} has no plan {si['plan']!r}")
        now = iso_now()
        state = si.get("state", "succeeded")
        inst = Instance(si.get("guid") or stable_guid("instance", space.guid, name), name, space.guid,
                        plan.guid,
                        dict(si.get("parameters") or {}), list(si.get("tags") or []),
                        dict(si.get("labels") or {}), dict(si.get("annotations") or {}), now, now,
                        LastOperation("create", state, si.get("description", "Operation succeeded"), now,
                                      now),
                        self.s.next_seq(), int(si.get("app_index") or self.s.next_app_index()),
                        si.get("clientsecret") or secrets.token_urlsafe(24))
        self.s.instances[inst.guid] = inst
        for i, k in enumerate(si.get("keys") or []):
            w = f"{where}.keys[{i}]"
            kname = _req(k, "name", w)
            key = Key(k.get("guid") or stable_guid("key", inst.guid, kname), kname, inst.guid, {},
                      dict(k.get("labels") or {}), dict(k.get("annotations") or {}), now, now,
                      LastOperation("create", "succeeded", "Operation succeeded", now, now),
                      self.s.next_seq(),
                      credentials=k.get("credentials"))
            self.s.keys[key.guid] = key
