"""What ``provisioner key status`` prints and writes: a table (a row per key), the keys over a threshold and a
summary line; ``--output json`` one document (docs/key-status.md); ``--junit FILE`` one ``testcase`` per tenant
and purpose (a ``failure`` when its key in use is over a threshold, an ``error`` when the tenant could not be
read). Every value from an API answer is :func:`provisioner.safetext.shown`; never a secret (the records hold
none)."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path
from typing import Any

from provisioner.fleet.reports import Case, _finish, _now, _suite
from provisioner.fleet.tenants import TenantOutcome
from provisioner.keylife.status import KeyState, TenantKeys, Thresholds
from provisioner.playbook.durations import format_age
from provisioner.safefile import atomic_write
from provisioner.safetext import deep, shown

Read = TenantOutcome[TenantKeys]
COLUMNS = ("TENANT", "PURPOSE", "KEY", "MADE BY", "TYPE", "CREATED", "AGE", "EXPIRES", "LAST USED", "FILE", "LM",
           "STATE")
CELL = 40
VERSION = 1


def over_tenants(reads: list[Read]) -> list[str]:
    """The tenants with a key in use over a threshold, in playbook order."""
    return [r.value.tenant for r in reads if r.value is not None and any(k.over for k in r.value.keys)]


def _yes(value: bool | None) -> str:
    return "unknown" if value is None else "yes" if value else "no"


def _state(k: KeyState) -> str:
    state = "in use" if k.in_use else f"replaced by {k.replaced_by}: retire" if k.replaced_by else "not in use"
    return state + ("; OVER: " + "; ".join(k.over) if k.over else "")


def _row(tenant: str, k: KeyState) -> tuple[str, ...]:
    age = format_age(k.age_seconds) if k.age_seconds is not None else "unknown"
    return (tenant, k.purpose, k.name, k.made_by, k.credential_type or "unknown", (k.created or "unknown")[:10], age,
            (k.expires or "-")[:10], (k.last_used or "unknown")[:16], _yes(k.local), _yes(k.landscape_management),
            _state(k))


def render(reads: list[Read], say: Callable[[str], None]) -> None:
    """The table, then each tenant's keys over a threshold, errors and other keys, then a summary line."""
    rows = [tuple(shown(c, None) for c in _row(r.value.tenant, k)) for r in reads if r.value is not None
            for k in r.value.keys]
    cut = [tuple(c if len(c) <= CELL or i == len(COLUMNS) - 1 else c[:CELL - 1] + "…" for i, c in enumerate(row))
           for row in rows]
    widths = [max([len(h)] + [len(row[i]) for row in cut]) for i, h in enumerate(COLUMNS)]
    for row in [COLUMNS, *cut]:
        say("  ".join(c.ljust(widths[i]) for i, c in enumerate(row)).rstrip())
    for r in reads:
        if r.value is None:
            say(shown(f"error: {r.playbook.tenant.subdomain} ({r.playbook.source}): {r.error}", None))
            continue
        for k in r.value.keys:
            for phrase in k.over:
                say(shown(f"over: {r.value.tenant} {k.purpose} key {k.name}: {phrase}", None))
    over = over_tenants(reads)
    keys = sum(len(r.value.keys) for r in reads if r.value is not None)
    failed = [r for r in reads if r.value is None]
    say(f"{len(reads)} tenant(s), {keys} key(s); {len(over)} over a threshold"
        + (f": {', '.join(over)}" if over else "") + (f"; {len(failed)} not read" if failed else ""))


def to_json(reads: list[Read], thresholds: Thresholds) -> dict[str, Any]:
    """``{"version", "ok", "thresholds", "over", "tenants": [{"playbook", "tenant", "error", "keys", "others"}]}``
    (docs/key-status.md)."""
    tenants = []
    for r in reads:
        body = r.value.to_json() if r.value is not None else {"tenant": r.playbook.tenant.subdomain, "keys": [],
                                                               "others": {}}
        tenants.append({"playbook": r.playbook.source, **body, "error": r.error})
    over = over_tenants(reads)
    document: dict[str, Any] = deep({"version": VERSION, "ok": not over and all(r.ok for r in reads),
                                     "thresholds": {"warn_age": thresholds.age_text,
                                                    "warn_expiry": thresholds.expiry_text},
                                     "over": over, "tenants": tenants})
    return document


def to_junit(reads: list[Read]) -> str:
    """One ``testsuite`` per tenant, one ``testcase`` per purpose (classname the tenant, name ``key[PURPOSE]``):
    a ``failure`` when its key in use is over a threshold; a tenant not read: one ``key status`` ``error``."""
    suites = ET.Element("testsuites", name="provisioner key status")
    now = _now()
    for r in reads:
        pb = r.playbook
        tenant = pb.tenant.subdomain
        if r.value is None:
            cases = [Case(tenant, "key status", r.seconds, "error", "not read", r.error or "not read",
                          f"{r.error} (playbook {pb.source})")]
        else:
            cases = []
            for purpose in pb.tenant.purposes:
                keys = [k for k in r.value.keys if k.purpose == purpose]
                over = [f"{k.name}: {phrase}" for k in keys for phrase in k.over]
                text = "; ".join(f"{k.name} ({_state(k)}, age {format_age(k.age_seconds or 0)})" for k in keys)
                cases.append(Case(tenant, f"key[{purpose}]", 0.0, "failure" if over else "ok",
                                  "over threshold" if over else "ok", "; ".join(over) or "ok", text))
        _suite(suites, tenant, cases, started=now - dt.timedelta(seconds=r.seconds), seconds=r.seconds,
               playbook=pb.source, properties={"playbook": pb.source})
    return _finish(suites)


def write_junit(reads: list[Read], path: Path) -> None:
    """:func:`to_junit` to ``path``, atomically (mode 0644)."""
    atomic_write(path, to_junit(reads), mode=0o644)
