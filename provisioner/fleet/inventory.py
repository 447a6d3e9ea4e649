"""``provisioner inventory PLAYBOOK...`` over a fleet: every tenant's :func:`provisioner.engine.inventory.inventory`,
read
side by side with the fleet's shared pool (:func:`provisioner.fleet.tenants.fan_out`), as one table and one JSON
document.

JSON: one tenant gives its inventory object as before (``{"tenant", "subaccount", "instances", "warnings"}``);
several give ``{"ok": bool, "tenants": [...]}``, one such object per tenant in the order of the playbooks and
their ``tenants:`` lists, each with ``playbook`` and ``error`` (null, or the one line that stopped its read;
then ``instances`` is empty) — as ``kubectl get`` answers one object for one name and a list for several.
Never a secret: built from :class:`~provisioner.engine.inventory.Inventory` records only.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from provisioner.engine.inventory import Inventory, inventory
from provisioner.fleet.tenants import TenantOutcome, fan_out
from provisioner.playbook.load import Playbook

CELL = 40  # characters of a value from an API answer in one cell
COLUMNS = ("TENANT", "WHERE", "INSTANCE", "MADE BY", "TYPE", "KEY", "CREATED", "KEY MADE BY", "LM KEY")

Read = TenantOutcome[Inventory]


def read_fleet(playbooks: list[Playbook], *, parallel: int = 4, max_in_flight: int | None = None) -> list[Read]:
    """Every tenant's inventory, at most ``parallel`` read at once; one outcome per tenant, in playbook order
    (a tenant whose read failed carries the error; the others are read all the same)."""
    return fan_out(playbooks, inventory, parallel=parallel, max_in_flight_per_host=max_in_flight)


def _tenant_json(read: Read) -> dict[str, Any]:
    pb = read.playbook
    body = read.value.to_json() if read.value is not None else {
        "tenant": pb.tenant.subdomain, "subaccount": pb.btp.subaccount, "instances": [], "warnings": []}
    return {"playbook": pb.source, **body, "error": read.error}


def to_json(reads: list[Read]) -> dict[str, Any]:
    """The fleet's inventory document: ``{"ok", "tenants": [...]}`` (see the module)."""
    return {"ok": all(r.ok for r in reads), "tenants": [_tenant_json(r) for r in reads]}


def _cell(text: str | None) -> str:
    """A value from an API answer as one short, printable table cell (control characters escaped)."""
    if not text:
        return "-"
    shown = "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)
    return shown if len(shown) <= CELL else shown[:CELL] + "…"


def rows(reads: list[Read]) -> list[tuple[str, ...]]:
    """One row per key (a binding or service key) of every instance of every tenant read; an instance without
    keys and a tenant without instances get one row each (``-`` where there is nothing)."""
    out: list[tuple[str, ...]] = []
    for read in reads:
        inv = read.value
        if inv is None:
            continue
        tenant = inv.tenant
        if not inv.instances:
            out.append((tenant, "-", "(no instance of the plan)", "-", "-", "-", "-", "-", "-"))
        for i in inv.instances:
            where = i.environment + (f"/{i.space}" if i.space else "")
            head = (tenant, _cell(where), _cell(i.name), i.creator, i.credential_type or "unknown")
            if not i.bindings:
                out.append((*head, "(no keys)", _cell(i.created), "-", "-"))
            for b in i.bindings:
                out.append((*head, _cell(b.name), _cell(b.created), b.creator, "yes" if b.local else "-"))
    return out


def render_table(reads: list[Read], say: Callable[[str], None]) -> None:
    """The fleet's inventory as one table (columns :data:`COLUMNS`; ``LM KEY``: the key in the local key file,
    the one uploaded to Landscape Management), then each tenant's warnings and errors, then a summary line."""
    table = [COLUMNS, *rows(reads)]
    widths = [max(len(row[c]) for row in table) for c in range(len(COLUMNS))]
    for row in table:
        say("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
    for read in reads:
        tenant = read.playbook.tenant.subdomain
        for w in read.value.warnings if read.value is not None else []:
            say(f"warning: {tenant}: {w}")
        if read.error is not None:
            say(f"error: {tenant} ({read.playbook.source}): {read.error}")
    failed = [r for r in reads if not r.ok]
    instances = sum(len(r.value.instances) for r in reads if r.value is not None)
    keys = sum(len(i.bindings) for r in reads if r.value is not None for i in r.value.instances)
    say(f"{len(reads)} tenants: {instances} instance(s), {keys} key(s); {len(reads) - len(failed)} read, "
        f"{len(failed)} failed" + (f" ({', '.join(r.playbook.tenant.subdomain for r in failed)})" if failed else ""))
