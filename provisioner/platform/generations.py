"""The generations of one key, and which of them a rotation replaced (``provisioner key rotate``, ``key retire``,
and the key step of a ``run`` once ``rotation.grace`` has passed).

A rotation makes ``<name>-<UTC YYYYMMDDhhmmss>`` beside the key ``<name>`` (or beside the newest generation) and
keeps the old one: both sign in during the grace period. What a rotation replaced is read back from the platform,
never from a local file a CI machine may not have:

- the keys this tool made are one family, ``NAME`` and ``NAME-YYYYMMDDhhmmss``, ordered by their ``created_at``
  (the platform's): every generation older than the key in use (the one the key file holds, else the newest) was
  replaced by the next newer one;
- a key this tool did not make (SAP's generated binding ``binding-key-…``, a generated CF key) is replaced only
  when the user named it (``key rotate --include-foreign NAME``): the new key then records the old key's id in
  :data:`SUPERSEDES` (a Service Manager label, a Cloud Foundry annotation), so that ``key retire`` and ``run`` find
  the user's consent on the platform again.

A replaced key retires when its successor's ``created_at`` plus ``rotation.grace`` has passed (``run``), or at once
by ``key retire`` / ``key rotate --retire`` after a confirmation.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from provisioner.platform import MANAGED_BY, MANAGED_RECORD, ServiceKey

#: on a key a rotation made: the ids of the keys it replaced, comma-separated (label or annotation)
SUPERSEDES = "provisioner/supersedes"
GENERATION = re.compile(r"-\d{14}$")  # NAME-YYYYMMDDhhmmss: a key made by `provisioner key rotate`


def base_name(name: str) -> str:
    """``NAME-20261205171200`` → ``NAME``; any other name as it is."""
    return GENERATION.sub("", name)


def is_generation_of(key: ServiceKey, name: str) -> bool:
    """Whether ``key`` is ``name`` or one of its rotations ``name-YYYYMMDDhhmmss``."""
    return key.name == name or (key.name.startswith(name + "-") and bool(GENERATION.fullmatch(key.name[len(name):])))


def made_here(key: ServiceKey, marked: bool) -> bool:
    """Whether this tool made ``key``: on Service Manager (``marked``) its label says so; in Cloud Foundry every
    generation of the playbook's key name is the tool's."""
    return not marked or key.record.get(MANAGED_RECORD) == MANAGED_BY


def replaced_ids(key: ServiceKey) -> set[str]:
    """The ids ``key``'s :data:`SUPERSEDES` record names."""
    return {part for part in (key.record.get(SUPERSEDES) or "").split(",") if part}


def created(key: ServiceKey) -> dt.datetime | None:
    """The key's ``created_at`` as a UTC time (None when the platform gives none or an unreadable one)."""
    text = key.created_at or ""
    try:
        when = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)


@dataclass(frozen=True)
class Replaced:
    """A key a rotation replaced: ``key``, the key that replaced it (``by``) and when its grace ends (``due``, UTC;
    None without ``rotation.grace`` or without a creation time: never by ``run``)."""

    key: ServiceKey
    by: ServiceKey
    due: dt.datetime | None

    def is_due(self, now: dt.datetime) -> bool:
        return self.due is not None and now >= self.due


def _order(key: ServiceKey) -> tuple[str, str]:
    return key.created_at or "", key.name


def replaced(family: list[ServiceKey], current: ServiceKey, own: set[str],
             grace_seconds: float | None) -> list[Replaced]:
    """The keys of ``family`` (live keys: the tool's generations and a located foreign key) that rotations
    replaced, oldest first: the tool's own (``own``: their ids) older than ``current``, and any key a live key's
    :data:`SUPERSEDES` record names. Never ``current``, never a newer key."""
    live = sorted((k for k in family if k.last_operation.type != "delete"), key=_order)
    recorded = {guid: k for k in live for guid in replaced_ids(k)}
    out = []
    for i, key in enumerate(live):
        if key.guid == current.guid or _order(key) > _order(current):
            continue
        successor = recorded.get(key.guid) or (live[i + 1] if key.guid in own and i + 1 < len(live) else None)
        if successor is None:
            continue
        start = created(successor)
        due = start + dt.timedelta(seconds=grace_seconds) if start is not None and grace_seconds is not None \
            else None
        out.append(Replaced(key, successor, due))
    return out


def now_utc() -> dt.datetime:
    """The wall clock in UTC (creation times on the platforms are wall-clock times)."""
    return dt.datetime.now(dt.UTC)
