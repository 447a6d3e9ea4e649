"""``provisioner inventory PLAYBOOK``: every instance of the playbook's plan (``SAPCloudALMAPIs/standard``) in the
tenant's subaccount and its bindings or keys, read only.

Through SAP Service Manager (``GET /v1/service_instances?fieldQuery=service_plan_id eq '…'``, which also lists the
instances of the subaccount's Cloud Foundry environment with ``context.platform`` ``cloudfoundry``, and
``GET /v1/service_bindings``), and through Cloud Foundry when the playbook has a ``cf`` section (``GET
/v3/service_instances`` of the org, their annotations and service keys). For each instance: environment, name,
id, created, who made it (:mod:`provisioner.platform.generated`: generated with the tenant, this tool, someone else),
the credential types it issues, its scopes (its ``authorities``: the scopes of every key's token), the playbook
purposes it serves, and its bindings or keys (name, created, who made it, a per-system binding
``<SID>_<client>_<system number>`` named as such, its credential type, an x509 certificate's expiry, and which
purpose's local key file holds it, compared by client id and, since binding-secret bindings of one instance share
their client id, by the secret's or certificate's digest; the Landscape Management purpose's is marked). Never a
secret. Warns when more than one key is in use for monitoring (Landscape Management holds one key per tenant).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from provisioner.clients.cf import CloudFoundry
from provisioner.clients.http import RequestStats
from provisioner.clients.sm import ServiceManager
from provisioner.engine.context import RunContext
from provisioner.engine.credentials import check_key_sources, service_manager, sign_in_cf
from provisioner.engine.runner import btp_client, context_for, resolve_secrets
from provisioner.errors import ApiError, BadInput, StepFailed
from provisioner.keys.keyfile import existing_key
from provisioner.keys.x509key import certificate_expiry, describe_expiry
from provisioner.platform import HASH_RECORD
from provisioner.platform.generated import GENERATED, SOMEONE_ELSE, THIS_TOOL, binding_creator, instance_creator
from provisioner.platform.servicemanager import environment, to_instance, to_key
from provisioner.playbook.load import Playbook
from provisioner.safetext import deep, shown
from provisioner.steps.parameters import credential_types

#: per purpose: (the identity of its local key file or None, whether it is the Landscape Management purpose)
Locals = dict[str, tuple[tuple[str, str] | None, bool]]
ONE_KEY_WARNING = ("{n} keys are in use for monitoring ({names}); Landscape Management holds one key per tenant: "
                   "upload one, and delete the others once nothing uses them")


@dataclass
class Binding:
    """A binding or service key: ``creator`` is this tool | generated with the tenant | per-system binding |
    someone else; ``local``: it is the key in the key file of the playbook's Landscape Management purpose
    (:attr:`Playbook.landscape_management_purpose`; by client id and secret digest; None: not comparable): the one
    key of the tenant marked for Landscape Management; ``purpose``: the purpose whose key file holds it (None:
    none); ``credential_type`` (None: not read); ``expires``: an x509 certificate's end (ISO 8601 UTC)."""

    name: str
    id: str
    created: str | None
    creator: str
    local: bool | None
    purpose: str | None = None
    credential_type: str | None = None
    expires: str | None = None


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
    #: the instance's authorities without the ``$XSMASTERAPPNAME.`` prefix (None: parameters not readable)
    scopes: list[str] | None = None
    #: the playbook purposes whose instance this is
    purposes: list[str] = field(default_factory=list)


@dataclass
class Inventory:
    tenant: str
    subaccount: str
    instances: list[Instance]
    warnings: list[str]

    def to_json(self) -> dict[str, Any]:
        """The inventory as JSON data, every string :func:`provisioner.safetext.shown` (names are server text)."""
        out: dict[str, Any] = deep(asdict(self))
        return out


def credential_type(parameters: Mapping[str, Any] | None, environment: str = "cloudfoundry") -> str | None:
    """The credential types the instance issues (``oauth2-configuration.credential-types``, e.g.
    ``binding-secret, instance-secret`` during a migration); without a list, the platform's default: on Cloud
    Foundry ``instance-secret`` (before 2026-01-19; binding-secret for keys made since), else ``binding-secret``;
    None when the parameters cannot be read."""
    if parameters is None:
        return None
    types = credential_types(parameters)
    if types:
        return ", ".join(types)
    return "instance-secret (no credential-types)" if environment == "cloudfoundry" else \
        "binding-secret (no credential-types)"


def scopes_of(parameters: Mapping[str, Any] | None) -> list[str] | None:
    """The instance's authorities without the ``$XSMASTERAPPNAME.`` prefix: the scopes of its keys' tokens."""
    xs = (parameters or {}).get("xs-security")
    found = xs.get("authorities") if isinstance(xs, Mapping) else None
    if not isinstance(found, list):
        return None
    return [str(a).removeprefix("$XSMASTERAPPNAME.") for a in found]


def identity(credentials: Mapping[str, Any] | None) -> tuple[str, str] | None:
    """``(clientid, SHA-256 of clientsecret, or of uaa.certificate for an x509 key)`` of a key: the client id
    names the instance's XSUAA client, and binding-secret bindings of one instance share it, so the secret's
    digest tells them apart (the secret itself is never kept or shown)."""
    uaa = (credentials or {}).get("uaa")
    if not isinstance(uaa, Mapping) or not uaa.get("clientid"):
        return None
    secret = uaa.get("clientsecret") or uaa.get("certificate") or ""
    return str(uaa["clientid"]), hashlib.sha256(str(secret).encode()).hexdigest()


def _binding(name: str, guid: str, created: str | None, creator: str, creds: Mapping[str, Any] | None,
             local: Locals) -> Binding:
    """A row for a binding or key, its credentials compared with every purpose's key file."""
    uaa = (creds or {}).get("uaa") if isinstance((creds or {}).get("uaa"), Mapping) else {}
    mine = identity(creds)
    purpose = next((p for p, (ident, _) in local.items() if mine is not None and ident is not None
                    and hmac.compare_digest("|".join(mine), "|".join(ident))), None)
    lm = [p for p, (_, marked) in local.items() if marked]
    expires = None
    if isinstance(uaa, Mapping) and uaa.get("certificate"):
        try:
            end = certificate_expiry(dict(creds or {}))
            expires = end.strftime("%Y-%m-%dT%H:%M:%SZ") if end else None
        except BadInput:
            expires = None
    is_lm = None if mine is None else (purpose is not None and purpose in lm)
    return Binding(name, guid, created, creator, is_lm, purpose,
                   str(uaa.get("credential-type")) if isinstance(uaa, Mapping) and uaa.get("credential-type")
                   else None, expires)


def _local_identities(pb: Playbook) -> Locals:
    """Per purpose: the identity of its local key file (None: no readable file) and whether it is the Landscape
    Management purpose."""
    out: Locals = {}
    for purpose in pb.tenant.purposes:
        try:
            found = identity(existing_key(Path(pb.for_purpose(purpose).download_path)))
        except Exception:  # an unreadable local file is not an inventory error
            found = None
        out[purpose] = (found, purpose == pb.landscape_management_purpose)
    return out


def _purposes_of(pb: Playbook, row: Instance) -> None:
    """The purposes whose instance ``row`` is (by name; a located generated instance by its keys' files)."""
    named = [p for p in pb.tenant.purposes if pb.for_purpose(p).instance_name == row.name]
    held = [b.purpose for b in row.bindings if b.purpose]
    row.purposes = sorted(set(named) | set(held), key=pb.tenant.purposes.index)


def _sm_instances(pb: Playbook, sm: ServiceManager, local: Locals) -> list[Instance]:
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
        row = Instance(env, inst.name, inst.guid, inst.created_at, creator, credential_type(params, env),
                       scopes=scopes_of(params))
        for b in sm.bindings(inst.guid):
            key = to_key(b)
            creds = (sm.get("service_bindings", key.guid) or {}).get("credentials") if env == "subaccount" else None
            row.bindings.append(_binding(key.name, key.guid, key.created_at, binding_creator(key, pb), creds, local))
        out.append(row)
    return out


def _cf_details(pb: Playbook, cf: CloudFoundry, rows: dict[str, Instance], local: Locals) -> None:
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
        row.scopes = scopes_of(params) if params is not None else row.scopes
        keys = []
        for k in cf.list_keys(item["guid"]):
            try:
                creds: Mapping[str, Any] | None = cf.key_credentials(k["guid"])
            except ApiError:
                creds = None
            kind = row.creator if row.creator != GENERATED or k.get("name") == pb.key_name else SOMEONE_ELSE
            keys.append(_binding(k.get("name", ""), k["guid"], k.get("created_at"), kind, creds, local))
        row.bindings = keys
        rows[row.id] = row


def inventory(pb: Playbook, ctx: RunContext | None = None) -> Inventory:
    """Read the subaccount's instances and bindings (see the module), in the run context ``ctx`` (a fleet's, shared
    by its tenants: :func:`provisioner.fleet.tenants.fan_out`; default one of its own). Raises
    :class:`~provisioner.errors.ProvisionerError` on API errors; writes nothing (a missing Service Manager
    binding is not created: run the playbook first, or give ``btp.sm_key``)."""
    resolve_secrets(pb)
    check_key_sources(pb)  # a bad key file or URL: bad input, before any request
    ctx, stats = ctx or context_for(pb), RequestStats()
    btp = btp_client(pb, ctx, stats) if pb.btp.sm_key is None else None
    local = _local_identities(pb)
    warnings: list[str] = []
    try:
        rows = {i.id: i for i in _sm_instances(pb, service_manager(pb, btp, ctx, stats, create=False), local)}
    except StepFailed as exc:
        if pb.cf is None or isinstance(exc, ApiError):
            raise
        # a Cloud Foundry route user without the tool's Service Manager binding: Cloud Foundry only
        warnings.append(f"Service Manager not read: subaccount {pb.btp.subaccount} has no Service Manager binding "
                        f"{pb.btp.sm_binding} (a run on the subaccount route creates it; or give btp.sm_key): "
                        "subaccount-level instances are not listed")
        rows = {}
    if pb.cf is not None:
        _cf_details(pb, sign_in_cf(pb, ctx, stats), rows, local)
    instances = sorted(rows.values(), key=lambda i: (i.created or "", i.name))
    for row in instances:
        _purposes_of(pb, row)
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
        purposes = f", purpose {', '.join(i.purposes)}" if i.purposes else ""
        scopes = ", ".join(i.scopes) if i.scopes is not None else "unknown"
        say(f"- {i.name!r} [{where}] id {i.id}, created {i.created or '?'}, made by: {i.creator}, "
            f"credential type {i.credential_type or 'unknown'}, scopes {scopes}{purposes}")
        for b in i.bindings:
            kind = f", type {b.credential_type}" if b.credential_type else ""
            if b.expires:
                valid, words = describe_expiry(dt.datetime.fromisoformat(b.expires.replace("Z", "+00:00")))
                kind += f", certificate {words}"
            held = f", the {b.purpose} key in its local key file" if b.purpose else ""
            mark = ": the Landscape Management key" if b.local else ""
            say(f"    {b.name} (created {b.created or '?'}, made by: {b.creator}{kind}{held}{mark})")
    for w in inv.warnings:
        say(f"warning: {w}")
