"""State and rules of the simulated CF v3 API: orgs, spaces, roles, offerings, plans, service instances, keys
and CF jobs (`/v3/jobs`). Asynchronous operations run as core jobs; the broker (broker/brokers.py) acts when
they complete.

From the BTP side it needs two lookups, set by the wiring module (app.py): `assigned_ok(subaccount guid,
service, plan)` (a plan tied to an entitlement is visible in an org only while that plan is assigned to the
org's subaccount with entityState OK) and `zone_of(subaccount guid)` (the XSUAA zone of new key credentials).
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Callable, Iterable
from typing import Any

from provisioner.sim.broker import brokers
from provisioner.sim.broker.brokers import Zone
from provisioner.sim.broker.xsuaa import Refused
from provisioner.sim.cf.model import Instance, Key, LastOperation, Offering, Org, Plan, Role, Space
from provisioner.sim.core.config import Config
from provisioner.sim.core.identity import Identity
from provisioner.sim.core.ids import iso_now, new_guid
from provisioner.sim.core.jobs import Job, Jobs

#: what a filtered list looks objects up by, per kind: a value that never changes for an object (its parent's GUID,
#: an org's name)
_INDEXED: dict[str, Callable[[Any], str | None]] = {
    "orgs": lambda o: o.name.lower(), "spaces": lambda s: s.org_guid, "roles": lambda r: r.space_guid,
    "instances": lambda i: i.space_guid, "keys": lambda k: k.instance_guid}


def _never_assigned(subaccount_guid: str, service: str, plan: str) -> bool:
    return False


def _no_zone(subaccount_guid: str | None) -> Zone | None:
    return None


class CfBackend:
    """Everything the CF API serves. Callers hold the simulator's lock."""

    def __init__(self, identity: Identity, jobs: Jobs, config: Config) -> None:
        self.identity = identity
        self.jobs = jobs
        self.config = config
        self.base_url = ""
        self.cert_url = ""  # the mTLS port's URL (certurl of x509 credentials)
        self.orgs: dict[str, Org] = {}
        self.spaces: dict[str, Space] = {}
        self.roles: dict[str, Role] = {}
        self.offerings: dict[str, Offering] = {}
        self.plans: dict[str, Plan] = {}
        self.instances: dict[str, Instance] = {}
        self.keys: dict[str, Key] = {}
        self.jobs_by_guid: dict[str, Job] = {}
        self.assigned_ok: Callable[[str, str, str], bool] = _never_assigned
        self.zone_of: Callable[[str | None], Zone | None] = _no_zone
        self._seq = 0
        self._next_app_index = 1001
        #: what each user may read, as (roles changed, spaces) when made -> sets; made again once either changed
        self._roles_changed = 0
        self._readable: dict[tuple[str, str], tuple[tuple[int, int], set[str]]] = {}
        self._indexes: dict[str, tuple[tuple[int, int], dict[str | None, list[Any]]]] = {}

    def next_seq(self) -> int:
        self._seq += 1
        return self._seq

    def next_app_index(self) -> int:
        self._next_app_index += 1
        return self._next_app_index

    def set_base_url(self, url: str) -> None:
        """Called once the server listens; fills in credentials of keys declared in the landscape (issued as on
        the day the key was made)."""
        self.base_url = url
        for key in self.keys.values():
            if key.credentials is None and key.last_operation.state == "succeeded":
                key.credentials = self.credentials(self.instances[key.instance_guid], key)

    def start_job(self, job: Job) -> Job:
        self.jobs_by_guid[job.guid] = job
        return self.jobs.start(job)

    def having(self, kind: str, values: list[str] | None) -> Iterable[Any]:
        """The objects of ``kind`` (``orgs`` by lowercase name, ``spaces`` by org GUID, ``roles`` by space GUID,
        ``instances`` by space GUID, ``keys`` by instance GUID) whose value is one of ``values``; every object of
        the kind when ``values`` is None. A list query filtered so reads those, not every object of a large
        landscape (the caller still applies every filter). The index is made again only after an object of any
        kind was made (a new sequence number) or one of this kind removed."""
        table: dict[str, Any] = getattr(self, kind)
        if values is None:
            return table.values()
        stamp = (len(table), self._seq)
        found = self._indexes.get(kind)
        if found is None or found[0] != stamp:
            index: dict[str | None, list[Any]] = {}
            for obj in table.values():
                index.setdefault(_INDEXED[kind](obj), []).append(obj)
            found = self._indexes[kind] = (stamp, index)
        return [obj for value in dict.fromkeys(values) for obj in found[1].get(value, [])]

    # ---- roles and visibility ------------------------------------------------------------------

    def org_role_types(self, user_guid: str, org_guid: str) -> set[str]:
        return {r.type for r in self.roles.values() if r.user_guid == user_guid and r.org_guid == org_guid}

    def space_role_types(self, user_guid: str, space_guid: str) -> set[str]:
        return {r.type for r in self.roles.values() if r.user_guid == user_guid and r.space_guid == space_guid}

    def readable_org_guids(self, user_guid: str) -> set[str]:
        """The orgs the user has a role in, or a role in one of its spaces (a copy: the caller may change it)."""
        return set(self._visible("orgs", user_guid))

    def readable_space_guids(self, user_guid: str) -> set[str]:
        """The spaces the user has a role in, and every space of the orgs it manages (a copy)."""
        return set(self._visible("spaces", user_guid))

    def _visible(self, kind: str, user_guid: str) -> set[str]:
        # every request asks; the answer changes only when a role is added or removed or a space is made (spaces
        # are never removed), so it is made again only then, not from every role on every request
        stamp = (self._roles_changed, len(self.spaces))
        found = self._readable.get((kind, user_guid))
        if found is not None and found[0] == stamp:
            return found[1]
        mine = [r for r in self.roles.values() if r.user_guid == user_guid]
        if kind == "orgs":
            guids = {r.org_guid for r in mine if r.org_guid}
            guids |= {self.spaces[r.space_guid].org_guid for r in mine if r.space_guid in self.spaces}
        else:
            guids = {r.space_guid for r in mine if r.space_guid}
            managed = {r.org_guid for r in mine if r.type == "organization_manager"}
            guids |= {s.guid for s in self.spaces.values() if s.org_guid in managed}
        self._readable[(kind, user_guid)] = (stamp, guids)
        return guids

    def role_org_guid(self, r: Role) -> str:
        return r.org_guid or self.spaces[r.space_guid or ""].org_guid

    def add_role(self, type_: str, user_guid: str, org_guid: str | None, space_guid: str | None) -> Role:
        now = iso_now()
        role = Role(new_guid(), type_, user_guid, org_guid, space_guid, now, now, self.next_seq())
        self.roles[role.guid] = role
        self._roles_changed += 1
        return role

    def delete_role(self, role: Role) -> Job:
        def effect() -> str | None:
            self.roles.pop(role.guid, None)
            self._roles_changed += 1
            return None

        return self.start_job(Job("role.delete", effect))

    def plan_visible_in_org(self, plan: Plan, org_guid: str) -> bool:
        if plan.entitlement is None:
            return True
        org = self.orgs.get(org_guid)
        if org is None or org.subaccount_guid is None:
            return False
        return self.assigned_ok(org.subaccount_guid, *plan.entitlement)

    # ---- service instances and keys ------------------------------------------------------------

    def offering_of(self, instance: Instance) -> Offering:
        return self.offerings[self.plans[instance.plan_guid].offering_guid]

    def instances_retrievable(self, offering: Offering) -> bool:
        return offering.instances_retrievable and self.config.instances_retrievable

    def operation_state(self, obj: Instance | Key) -> str:
        if obj.job is not None and obj.job.running:
            return "initial" if self.jobs.phase(obj.job) == 0 else "in progress"
        return obj.last_operation.state

    def in_progress(self, obj: Instance | Key) -> bool:
        return obj.job is not None and obj.job.running

    def keys_of(self, instance_guid: str) -> list[Key]:
        return [k for k in self.keys.values() if k.instance_guid == instance_guid]

    def remove_instance(self, inst: Instance) -> None:
        """The instance and its keys disappear at once (purge, or replacing a create-failed instance)."""
        for key in self.keys_of(inst.guid):
            del self.keys[key.guid]
        del self.instances[inst.guid]

    def create_instance(self, name: str, space_guid: str, plan_guid: str, parameters: dict[str, Any],
                        tags: list[str], labels: dict[str, str], annotations: dict[str, str]) -> Job:
        now = iso_now()
        inst = Instance(new_guid(), name, space_guid, plan_guid, {}, tags, labels, annotations, now, now,
                        LastOperation("create", "initial", None, now, now), self.next_seq(),
                        self.next_app_index(), secrets.token_urlsafe(24))
        self.instances[inst.guid] = inst

        def effect() -> str | None:
            failure = brokers.validate_parameters(self.offering_of(inst).broker, parameters, inst.name)
            if failure is None:
                inst.parameters = parameters
            return self._finish_operation(inst, failure)

        return self._instance_job(inst, "service_instance.create", effect)

    def update_instance(self, inst: Instance, parameters: dict[str, Any] | None, plan_guid: str | None) -> Job:
        now = iso_now()
        inst.last_operation = LastOperation("update", "initial", None, now, now)

        def effect() -> str | None:
            new_parameters = inst.parameters if parameters is None else parameters
            failure = brokers.validate_parameters(self.offering_of(inst).broker, new_parameters, inst.name)
            if failure is None:
                inst.parameters = new_parameters
                inst.plan_guid = plan_guid or inst.plan_guid
            return self._finish_operation(inst, failure)

        return self._instance_job(inst, "service_instance.update", effect)

    def delete_instance(self, inst: Instance) -> Job:
        now = iso_now()
        inst.last_operation = LastOperation("delete", "initial", None, now, now)

        def effect() -> str | None:
            self.remove_instance(inst)
            return None

        return self._instance_job(inst, "service_instance.delete", effect)

    def _instance_job(self, inst: Instance, operation: str, effect: Callable[[], str | None]) -> Job:
        job = self.start_job(Job(operation, effect, lambda failure: self._finish_operation(inst, failure),
                                 resource_type="service_instances", resource_guid=inst.guid))
        inst.job = job
        return job

    def create_key(self, inst: Instance, name: str, parameters: dict[str, Any], labels: dict[str, str],
                   annotations: dict[str, str]) -> Job:
        now = iso_now()
        key = Key(new_guid(), name, inst.guid, parameters, labels, annotations, now, now,
                  LastOperation("create", "initial", None, now, now), self.next_seq())
        self.keys[key.guid] = key

        def effect() -> str | None:
            try:
                key.credentials = self.credentials(inst, key)
            except Refused as exc:
                return self._finish_operation(key, str(exc))
            return self._finish_operation(key, None)

        return self._key_job(key, "service_keys.create", effect)

    def delete_key(self, key: Key) -> Job:
        now = iso_now()
        key.last_operation = LastOperation("delete", "initial", None, now, now)

        def effect() -> str | None:
            self.keys.pop(key.guid, None)
            return None

        return self._key_job(key, "service_keys.delete", effect)

    def _key_job(self, key: Key, operation: str, effect: Callable[[], str | None]) -> Job:
        job = self.start_job(Job(operation, effect, lambda failure: self._finish_operation(key, failure),
                                 resource_type="service_credential_binding", resource_guid=key.guid))
        key.job = job
        return job

    def _finish_operation(self, obj: Instance | Key, failure: str | None) -> str | None:
        """The broker's answer (an injected failure too: the broker refused, nothing else changes). A succeeded
        operation's description is "" for an instance and null for a key, as in real Cloud Controller answers."""
        op = obj.last_operation
        op.state = "failed" if failure else "succeeded"
        op.description = failure or ("" if isinstance(obj, Instance) else None)
        op.updated_at = obj.updated_at = iso_now()
        return failure

    def zone_of_instance(self, inst: Instance) -> Zone | None:
        """The XSUAA zone of the subaccount whose org holds the instance."""
        return self.zone_of(self.orgs[self.spaces[inst.space_guid].org_guid].subaccount_guid)

    def credentials(self, inst: Instance, key: Key) -> dict[str, Any]:
        """The broker's credentials of a new key (raises Refused), on the day the key was made."""
        issuing = brokers.Issuing(self.base_url, self.cert_url, cloud_foundry=True, today=day_of(key.created_at),
                                  cutoff=self.config.instance_secret_cutoff,
                                  backdate_days=self.config.x509_backdate_days)
        return brokers.credentials(self.offering_of(inst).broker, issuing, inst, key.guid,
                                   self.zone_of_instance(inst), key.parameters)


def day_of(iso: str) -> dt.date:
    """The UTC day of an ISO 8601 time (``2023-08-01T09:00:00Z``)."""
    return dt.date.fromisoformat(iso[:10])
