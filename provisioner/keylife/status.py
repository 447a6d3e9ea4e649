"""``provisioner key status PLAYBOOK...``: per tenant and purpose, the keys of the playbook's key (the key in use,
and the keys rotations replaced that are not retired yet), found the way ``run`` finds them
(:mod:`provisioner.keylife.locate`), read only: name, who made it, credential type, created and age (the platform's
``created_at``), an x509 certificate's expiry, when it was last used where an API tells it (XSUAA's
``instanceSecretLastUsedAt`` for an instance secret, read with a binding-secret key of the same instance, since
signing in with the instance secret would itself count as a use; no API tells it for a binding secret: unknown),
whether the local key file holds it and whether it is the Landscape Management key. Thresholds (``--warn-age``,
``--warn-expiry``) name the keys in use that are over them. Never a secret; never a write (the Service Manager
binding of the cis key is not created, the org is not checked).
"""

from __future__ import annotations

import datetime as dt
import hmac
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from provisioner.clients.xsuaa_api import instance_secret_last_used
from provisioner.engine.context import RunContext
from provisioner.engine.inventory import identity
from provisioner.errors import ApiError, BadInput, ProvisionerError
from provisioner.fleet.tenants import TenantOutcome, fan_out
from provisioner.keylife.locate import Located, locate
from provisioner.keys.keyfile import existing_key
from provisioner.keys.x509key import certificate_expiry
from provisioner.platform.generated import binding_creator
from provisioner.platform.generations import created, now_utc, replaced
from provisioner.playbook.durations import format_age
from provisioner.playbook.load import Playbook
from provisioner.playbook.model import Purpose

ISO = "%Y-%m-%dT%H:%M:%SZ"


@dataclass(frozen=True)
class Thresholds:
    """``age``: seconds a key in use may be old; ``expiry``: seconds an x509 certificate must still be valid
    (None: not checked); ``age_text``/``expiry_text`` as the user wrote them."""

    age: int | None = None
    expiry: int | None = None
    age_text: str | None = None
    expiry_text: str | None = None


@dataclass
class KeyState:
    """One key: ``in_use`` (the key the playbook's file holds, else the newest), ``replaced_by`` (a rotation
    replaced it: retire it), ``local`` (the local key file holds it; None: no readable file),
    ``landscape_management`` (the Landscape Management key: the local file of that purpose holds it; None: no
    file to tell), ``age_seconds``, ``expires`` and ``last_used`` (ISO 8601 UTC; None: unknown), ``over``: the
    thresholds it is over, one phrase each."""

    purpose: str
    name: str
    instance: str
    made_by: str
    credential_type: str | None
    created: str | None
    age_seconds: int | None
    expires: str | None
    last_used: str | None
    in_use: bool
    replaced_by: str | None
    local: bool | None
    landscape_management: bool | None
    over: list[str] = field(default_factory=list)


@dataclass
class TenantKeys:
    tenant: str
    keys: list[KeyState]
    #: per purpose: keys on the instance that are not this key's (per-system bindings, other tools' keys)
    others: dict[str, int] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _credentials(found: Located, guid: str) -> dict[str, Any] | None:
    try:
        return found.platform.key_credentials(guid)
    except (ApiError, ProvisionerError):
        return None


def _expiry(creds: dict[str, Any] | None) -> dt.datetime | None:
    try:
        return certificate_expiry(creds) if creds else None
    except BadInput:
        return None


def _last_used(found: Located, creds: dict[str, dict[str, Any] | None]) -> dt.datetime | None | str:
    """The instance secret's last sign-in, read with a binding-secret key of the instance; "unknown" when none
    can ask or the API refuses."""
    asker = next((c for c in creds.values() if c and (c.get("uaa") or {}).get("credential-type") ==
                  "binding-secret"), None)
    if asker is None:
        return "unknown"
    try:
        return instance_secret_last_used(asker, pool=found.pool, stats=found.stats)
    except (ApiError, ProvisionerError):
        return "unknown"


def purpose_keys(pb: Playbook, purpose: Purpose, ctx: RunContext,
                 thresholds: Thresholds) -> tuple[list[KeyState], int]:
    """The key states of one purpose (oldest first) and how many other keys its instance holds."""
    ppb = pb.for_purpose(purpose)
    found = locate(ppb, ctx, writes=False)
    live = [k for k in found.family if k.last_operation.type != "delete"]
    try:
        on_disk = identity(existing_key(Path(ppb.download_path)))
    except BadInput:
        on_disk = None
    creds = {k.guid: _credentials(found, k.guid) for k in live}
    held = [k for k in live if on_disk is not None and (mine := identity(creds[k.guid])) is not None
            and hmac.compare_digest("|".join(mine), "|".join(on_disk))]
    current = (held or live)[-1] if held or live else None
    own = {k.guid for k in found.keys}
    gone = {r.key.guid: r.by.name for r in (replaced(live, current, own, None) if current else [])}
    types = {g: ((c or {}).get("uaa") or {}).get("credential-type") for g, c in creds.items()}
    used = _last_used(found, creds) if "instance-secret" in types.values() else "unknown"
    now, lm = now_utc(), purpose == pb.landscape_management_purpose
    out = []
    for k in live:
        made, end = created(k), _expiry(creds[k.guid])
        local = None if on_disk is None else k in held
        state = KeyState(
            purpose, k.name, found.instance.name, "this tool" if k in found.keys else "generated with the tenant"
            if found.located else binding_creator(k, ppb), types[k.guid], made.strftime(ISO) if made else None,
            int((now - made).total_seconds()) if made else None, end.strftime(ISO) if end else None,
            used.strftime(ISO) if types[k.guid] == "instance-secret" and isinstance(used, dt.datetime) else None,
            k is current, gone.get(k.guid), local, local if lm else False)
        if state.in_use:
            state.over = _over(state, end, now, thresholds)
        out.append(state)
    return out, len([k for k in found.foreign if k not in found.family])


def _over(state: KeyState, end: dt.datetime | None, now: dt.datetime, thresholds: Thresholds) -> list[str]:
    over = []
    if thresholds.age is not None and state.age_seconds is not None and state.age_seconds > thresholds.age:
        over.append(f"age {format_age(state.age_seconds)} over --warn-age {thresholds.age_text}")
    if thresholds.expiry is not None and end is not None:
        left = (end - now).total_seconds()
        if left <= thresholds.expiry:
            over.append(f"certificate expired on {end:%Y-%m-%d}" if left <= 0 else
                        f"certificate expires in {format_age(left)} ({end:%Y-%m-%d}), within --warn-expiry "
                        f"{thresholds.expiry_text}")
    return over


def tenant_keys(pb: Playbook, ctx: RunContext, thresholds: Thresholds) -> TenantKeys:
    """Every purpose's keys of the tenant (see the module). Raises
    :class:`~provisioner.errors.ProvisionerError` when a purpose's instance or key cannot be found or read."""
    keys: list[KeyState] = []
    others: dict[str, int] = {}
    for purpose in pb.tenant.purposes:
        states, others[purpose] = purpose_keys(pb, purpose, ctx, thresholds)
        keys += states
    return TenantKeys(pb.tenant.subdomain, keys, others)


def read_fleet(playbooks: list[Playbook], thresholds: Thresholds, *, parallel: int = 4,
               max_in_flight: int | None = None) -> list[TenantOutcome[TenantKeys]]:
    """Every tenant's :func:`tenant_keys`, at most ``parallel`` at once (:func:`provisioner.fleet.tenants.fan_out`)."""
    return fan_out(playbooks, lambda pb, ctx: tenant_keys(pb, ctx, thresholds), parallel=parallel,
                   max_in_flight_per_host=max_in_flight)
