"""``provisioner inventory PLAYBOOK``: every instance of the playbook's plan (``SAPCloudALMAPIs/standard``) in the
tenant's subaccount and its bindings or keys, read only.

Through SAP Service Manager (``GET /v1/service_instances?fieldQuery=service_plan_id eq '…'``, which also lists the
instances of the subaccount's Cloud Foundry environment with ``context.platform`` ``cloudfoundry``, and
``GET /v1/service_bindings``), and through Cloud Foundry when the playbook has a ``cf`` section (``GET
/v3/service_instances`` of the org, their annotations and service keys). For each instance: environment, name,
id, created, who made it (:mod:`provisioner.steps.generated`: generated with the tenant, this tool, someone else),
credential type, and its bindings or keys (name, created, who made it, a per-system binding
``<SID>_<client>_<system number>`` named as such, and whether it is the key in the local key file, compared by
client id and, since binding-secret bindings of one instance share their client id, by the secret's digest).
Never a secret. Warns when more than one key is in use for monitoring (Landscape Management holds
one key per tenant).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from provisioner.cf import CloudFoundry
from provisioner.credentials import check_key_sources, service_manager, sign_in_cf
from provisioner.errors import ApiError, StepFailed
from provisioner.http import RequestStats, SessionPool
from provisioner.keyfile import existing_key
from provisioner.platform import HASH_RECORD
from provisioner.platform.servicemanager import environment, to_instance, to_key
from provisioner.playbook import Playbook
from provisioner.runner import btp_client, pool_for, resolve_secrets
from provisioner.safetext import deep, shown
from provisioner.sm import ServiceManager
from provisioner.steps.generated import GENERATED, SOMEONE_ELSE, THIS_TOOL, binding_creator, instance_creator

ONE_KEY_WARNING = ("{n} keys are in use for monitoring ({names}); Landscape Management holds one key per tenant: "
                   "upload one, and delete the others once nothing uses them")


@dataclass
class Binding:
    """A binding or service key: ``creator`` is this tool | generated with the tenant | per-system binding |
    someone else; ``local``: it is the key in the key file of the playbook's Landscape Management purpose
    (:attr:`Playbook.landscape_management_purpose`; by client id and secret digest; None: not comparable): the one
    key of the tenant marked for Landscape Management."""

    name: str
    id: str
    created: str | None
    creator: str
    local: bool | None


@dataclass
class Instance:
    """An instance of the plan: ``environment`` subaccount | cloudfoundry | kubernetes; ``credential_type``
    binding-secret | instance-secret (None: unknown)."""

    environment: str
    name: str
    id: str
    created: str | None
    creator: str
    credential_type: str | None
    bindings: list[Binding] = field(default_factory=list)
    space: str | None = None


@dataclass
class Inventory:
    tenant: str
    subaccount: str
    instances: list[Instance]
    warnings: list[str]

    def to_json(self) -> dict[str, Any]:
        """The inventory as JSON data, every string :func:`provisioner.safetext.shown` (names are server text)."""
        return deep(asdict(self))


def credential_type(parameters: Mapping[str, Any] | None) -> str | None:
    """binding-secret when the parameters ask for it (``oauth2-configuration.credential-types``), instance-secret
    when they are readable and do not; None when not readable."""
    if parameters is None:
        return None
    xs = parameters.get("xs-security")
    conf = xs.get("oauth2-configuration") if isinstance(xs, Mapping) else None
    types = conf.get("credential-types") if isinstance(conf, Mapping) else None
    return "binding-secret" if isinstance(types, list) and "binding-secret" in types else "instance-secret"


def identity(credentials: Mapping[str, Any] | None) -> tuple[str, str] | None:
    """``(clientid, SHA-256 of clientsecret)`` of a key: the client id names the instance's XSUAA client, and
    binding-secret bindings of one instance share it, so the secret's digest tells them apart (the secret itself
    is never kept or shown)."""
    uaa = (credentials or {}).get("uaa")
    if not isinstance(uaa, Mapping) or not uaa.get("clientid"):
        return None
    return str(uaa["clientid"]), hashlib.sha256(str(uaa.get("clientsecret") or "").encode()).hexdigest()


def _is_local(credentials: Mapping[str, Any] | None, local: tuple[str, str] | None) -> bool | None:
    """Whether the credentials are the local key file's (None: not comparable)."""
    mine = identity(credentials)
    if mine is None:
        return None
    return local is not None and hmac.compare_digest("|".join(mine), "|".join(local))


def _local_identity(pb: Playbook) -> tuple[str, str] | None:
    try:
        path = pb.for_purpose(pb.landscape_management_purpose).download_path
        return identity(existing_key(Path(path)))
    except Exception:  # an unreadable local file is not an inventory error
        return None


def _sm_instances(pb: Playbook, sm: ServiceManager, local: tuple[str, str] | None) -> list[Instance]:
    s = pb.service
    offering = sm.offering(s.offering)
    plan = sm.plan(str(offering["id"]), s.plan) if offering else None
    if plan is None:
        return []
    out = []
    for item in sm.instances(plan_id=str(plan["id"])):
        env = environment(item)
        inst = to_instance(item)
        creator = instance_creator(inst, pb) if env == "subaccount" else SOMEONE_ELSE
        params = sm.instance_parameters(inst.guid) if env == "subaccount" else None
        row = Instance(env, inst.name, inst.guid, inst.created_at, creator, credential_type(params))
        for b in sm.bindings(inst.guid):
            key = to_key(b)
            creds = (sm.get("service_bindings", key.guid) or {}).get("credentials") if env == "subaccount" else None
            row.bindings.append(Binding(key.name, key.guid, key.created_at, binding_creator(key, pb),
                                        _is_local(creds, local)))
        out.append(row)
    return out


def _cf_details(pb: Playbook, cf: CloudFoundry, rows: dict[str, Instance], local: tuple[str, str] | None) -> None:
    """Add what only CF knows to the CF instances: space, the tool's annotations, keys and their client ids."""
    assert pb.cf is not None
    org = cf.find_org(pb.cf.org)
    if org is None:
        return
    plan = cf.find_plan(pb.service.offering, pb.service.plan, org_guid=org["guid"])
    if plan is None:
        return
    spaces = {s["guid"]: s["name"] for s in cf.list("/v3/spaces", {"organization_guids": org["guid"]})}
    for item in cf.list("/v3/service_instances", {"organization_guids": org["guid"],
                                                  "service_plan_guids": plan["guid"]}):
        notes = (item.get("metadata") or {}).get("annotations") or {}
        space = ((item.get("relationships") or {}).get("space") or {}).get("data") or {}
        ours = HASH_RECORD in notes
        generated = pb.mode != "create" and item.get("name") == pb.instance_name and not ours
        params = cf.instance_parameters(item["guid"])
        row = rows.get(item["guid"]) or Instance("cloudfoundry", item.get("name", ""), item["guid"],
                                                 item.get("created_at"), SOMEONE_ELSE, None)
        row.space = spaces.get(space.get("guid", ""))
        row.creator = THIS_TOOL if ours else GENERATED if generated else SOMEONE_ELSE
        row.credential_type = credential_type(params) if params is not None else row.credential_type
        keys = []
        for k in cf.list_keys(item["guid"]):
            try:
                creds: Mapping[str, Any] | None = cf.key_credentials(k["guid"])
            except ApiError:
                creds = None
            kind = row.creator if row.creator != GENERATED or k.get("name") == pb.key_name else SOMEONE_ELSE
            keys.append(Binding(k.get("name", ""), k["guid"], k.get("created_at"), kind, _is_local(creds, local)))
        row.bindings = keys
        rows[row.id] = row


def inventory(pb: Playbook, pool: SessionPool | None = None) -> Inventory:
    """Read the subaccount's instances and bindings (see the module), through ``pool`` (a fleet's, shared by its
    tenants: :func:`provisioner.fleet.fan_out`; default a pool of its own). Raises
    :class:`~provisioner.errors.ProvisionerError` on API errors; writes nothing (a missing Service Manager
    binding is not created: run the playbook first, or give ``btp.sm_key``)."""
    resolve_secrets(pb)
    check_key_sources(pb)  # a bad key file or URL: bad input, before any request
    pool, stats = pool or pool_for(pb), RequestStats()
    btp = btp_client(pb, pool, stats) if pb.btp.sm_key is None else None
    local = _local_identity(pb)
    warnings: list[str] = []
    try:
        rows = {i.id: i for i in _sm_instances(pb, service_manager(pb, btp, pool, stats, create=False), local)}
    except StepFailed as exc:
        if pb.cf is None or isinstance(exc, ApiError):
            raise
        # a Cloud Foundry route user without the tool's Service Manager binding: Cloud Foundry only
        warnings.append(f"Service Manager not read: subaccount {pb.btp.subaccount} has no Service Manager binding "
                        f"{pb.btp.sm_binding} (a run on the subaccount route creates it; or give btp.sm_key): "
                        "subaccount-level instances are not listed")
        rows = {}
    if pb.cf is not None:
        _cf_details(pb, sign_in_cf(pb, pool, stats), rows, local)
    instances = sorted(rows.values(), key=lambda i: (i.created or "", i.name))
    in_use = [f"{i.name}/{b.name}" for i in instances for b in i.bindings
              if b.creator in (GENERATED, THIS_TOOL)]
    if len(in_use) > 1:
        warnings.append(ONE_KEY_WARNING.format(n=len(in_use), names=", ".join(in_use)))
    return Inventory(pb.tenant.subdomain, pb.btp.subaccount, instances, warnings)


def _shown_by(say: Callable[[str], None]) -> Callable[[str], None]:
    return lambda line: say(shown(line, None))


def render(inv: Inventory, say: Callable[[str], None]) -> None:
    """The inventory as lines for a terminal (never a secret; names and ids, server text, made
    :func:`provisioner.safetext.shown`)."""
    say = _shown_by(say)
    say(f"tenant {inv.tenant}, subaccount {inv.subaccount}: {len(inv.instances)} instance(s)")
    for i in inv.instances:
        where = i.environment + (f" (space {i.space})" if i.space else "")
        say(f"- {i.name!r} [{where}] id {i.id}, created {i.created or '?'}, made by: {i.creator}, "
            f"credential type {i.credential_type or 'unknown'}")
        for b in i.bindings:
            mark = {True: ", the key in the local key file: the Landscape Management key", False: "",
                    None: ""}[b.local]
            say(f"    {b.name} (created {b.created or '?'}, made by: {b.creator}{mark})")
    for w in inv.warnings:
        say(f"warning: {w}")
