"""What a step that locates the credentials by the playbook's names says when the named instance is not there: the
instances of the plan in the space, with their keys (:func:`candidates`), as one short line. Who made an instance or
a binding, and the discovery by plan and creator at subaccount level: :mod:`provisioner.platform.generated`.
"""

from __future__ import annotations

from provisioner.platform import HASH_RECORD, MANAGED_RECORD, ServicePlatform
from provisioner.playbook.load import Playbook

#: at most this many instances (and keys of each) named as candidates when the named one is not found
CANDIDATES = 10


def candidates(platform: ServicePlatform, pb: Playbook, space: str) -> tuple[str, ...]:
    """The instances of the playbook's plan in ``space`` (a space guid; every managed instance there when the plan
    is not visible), each with its keys, as ``'name' (keys 'a', 'b')`` (``made by this tool;`` first for the
    tool's own): what a user may pin with ``steps.instance.name`` / ``steps.key.name`` when the named instance is
    not there. Reads only; at most :data:`CANDIDATES` instances are read, and the list is cut to about 120
    characters (names to 40 each, ``and N more``), so that the error stays one short line."""
    plan = platform.find_plan(pb.service.offering, pb.service.plan, space=space)
    found = platform.list_instances(space, plan.guid if plan is not None else None)
    out: list[str] = []
    for inst in found[:CANDIDATES]:
        ours = "made by this tool; " if HASH_RECORD in inst.record or MANAGED_RECORD in inst.record else ""
        item = f"{short(inst.name)} ({ours}keys {listed([k.name for k in platform.list_keys(inst.guid)], 3)})"
        if out and sum(len(x) + 2 for x in out) + len(item) > 120:
            break
        out.append(item)
    return (*out, f"and {len(found) - len(out)} more") if len(found) > len(out) else tuple(out)


def short(name: str) -> str:
    """A name from an API answer for a one-line message: quoted, control characters escaped, at most 40 characters
    and "…"."""
    return repr(name) if len(name) <= 40 else repr(name[:40]) + "…"


def listed(names: list[str], most: int) -> str:
    """The first ``most`` names (:func:`short`), then ``and N more``; ``none`` when there are none."""
    shown = ", ".join(short(n) for n in names[:most]) or "none"
    return shown + (f" and {len(names) - most} more" if len(names) > most else "")
