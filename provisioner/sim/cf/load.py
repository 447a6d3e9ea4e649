"""Loading the CF part of a schema-valid landscape: service offerings and plans, and each subaccount's org with
its roles, spaces, service instances and keys. Guids left out are derived from the names. Names that refer to
nothing (users in roles, offerings and plans of instances) raise LandscapeError naming the entry."""

from __future__ import annotations

import secrets
from typing import Any

from provisioner.sim.cf.backend import CfBackend
from provisioner.sim.cf.model import (
    Instance,
    Key,
    LastOperation,
    Offering,
    Org,
    Plan,
    Space,
)
from provisioner.sim.core.ids import iso_now, stable_guid
from provisioner.sim.core.schema import Locator, Path_


def load_offering(cf: CfBackend, o: dict[str, Any]) -> None:
    name = o["name"]
    now = iso_now()
    off = Offering(o.get("guid") or stable_guid("offering", name), name, o.get("description", name),
                   o.get("broker", "cloud-alm" if name == "SAPCloudALMAPIs" else "generic"),
                   o.get("broker_guid") or stable_guid("broker", name),
                   o.get("catalog_id") or stable_guid("catalog", name), bool(o.get("bindable", True)),
                   bool(o.get("instances_retrievable", True)), bool(o.get("plan_updateable", True)),
                   list(o.get("tags") or []), now, cf.next_seq())
    cf.offerings[off.guid] = off
    for p in o["plans"]:
        ent = p.get("entitlement")
        plan = Plan(p.get("guid") or stable_guid("plan", name, p["name"]), p["name"], off.guid,
                    p.get("description", p["name"]), p.get("catalog_id") or stable_guid("catalog", name, p["name"]),
                    (ent["service"], ent["plan"]) if ent else None, now, cf.next_seq())
        cf.plans[plan.guid] = plan


def load_org(cf: CfBackend, o: dict[str, Any], subaccount_guid: str, path: Path_, loc: Locator) -> None:
    """A subaccount's `cf_org` at `path`."""
    now = iso_now()
    org = Org(o.get("guid") or stable_guid("org", o["name"]), o["name"], subaccount_guid, now, now, cf.next_seq(),
              dict(o.get("labels") or {}), dict(o.get("annotations") or {}))
    cf.orgs[org.guid] = org
    _roles(cf, o.get("roles"), org.guid, None, path + ("roles",), loc)
    for i, sp in enumerate(o.get("spaces") or []):
        where = path + ("spaces", i)
        space = Space(sp.get("guid") or stable_guid("space", org.name, sp["name"]), sp["name"], org.guid, now, now,
                      cf.next_seq(), dict(sp.get("labels") or {}), dict(sp.get("annotations") or {}))
        cf.spaces[space.guid] = space
        _roles(cf, sp.get("roles"), None, space.guid, where + ("roles",), loc)
        for j, si in enumerate(sp.get("service_instances") or []):
            _instance(cf, si, space, where + ("service_instances", j), loc)


def _roles(cf: CfBackend, roles: dict[str, list[str]] | None, org_guid: str | None, space_guid: str | None,
           path: Path_, loc: Locator) -> None:
    for type_, members in (roles or {}).items():
        for i, member in enumerate(members):
            guid = cf.identity.member(member)
            if guid is None:
                raise loc.error(path + (type_, i), f"unknown user or client {member!r}; add it to users or "
                                "cf_clients")
            cf.add_role(type_, guid, org_guid, space_guid)


def _instance(cf: CfBackend, si: dict[str, Any], space: Space, path: Path_, loc: Locator) -> None:
    name = si["name"]
    offering = next((o for o in cf.offerings.values() if o.name == si["offering"]), None)
    if offering is None:
        raise loc.error(path + ("offering",), f"unknown offering {si['offering']!r}; use one of service_offerings")
    plan = next((p for p in cf.plans.values() if p.offering_guid == offering.guid and p.name == si["plan"]), None)
    if plan is None:
        raise loc.error(path + ("plan",), f"offering {offering.name} has no plan {si['plan']!r}; use one of its "
                        "plans")
    now = _timestamp(si.get("created_at"))
    state = si.get("state", "succeeded")
    inst = Instance(si.get("guid") or stable_guid("instance", space.guid, name), name, space.guid, plan.guid,
                    dict(si.get("parameters") or {}), list(si.get("tags") or []), dict(si.get("labels") or {}),
                    dict(si.get("annotations") or {}), now, now,
                    LastOperation("create", state, si.get("description", "" if state == "succeeded" else "failed"),
                                  now, now),
                    cf.next_seq(), int(si.get("app_index") or cf.next_app_index()),
                    si.get("clientsecret") or secrets.token_urlsafe(24))
    cf.instances[inst.guid] = inst
    for k in si.get("keys") or []:
        made = _timestamp(k.get("created_at") or si.get("created_at"))
        key = Key(k.get("guid") or stable_guid("key", inst.guid, k["name"]), k["name"], inst.guid, {},
                  dict(k.get("labels") or {}), dict(k.get("annotations") or {}), made, made,
                  LastOperation("create", "succeeded", None, made, made), cf.next_seq(),
                  credentials=k.get("credentials"))
        cf.keys[key.guid] = key


def _timestamp(value: Any) -> str:
    """A CF timestamp (``2023-08-01T09:00:00Z``) from a landscape date or date-time (now when absent): keys are
    issued as XSUAA issued them that day (the instance-secret cut-off)."""
    if not value:
        return iso_now()
    text = str(value)
    return text if "T" in text else f"{text}T09:00:00Z"
