"""Splitting a fleet over CI jobs: ``--shard K/N`` (a stable split of the tenants by a hash of their subdomain),
the JSON a CI engine fans out on (``provisioner fleet matrix``), and ``--resume REPORT.json`` (skip the tenants an
earlier report shows converged).

A tenant's shard is ``int(sha256(subdomain.lower())[:16 hex digits], 16) % N + 1``: it depends on the subdomain
alone, so it does not move when tenants are added, removed or reordered, or when playbook files are split; the N
shards are disjoint and together hold every tenant.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from provisioner import safefile
from provisioner.errors import BadInput

#: the words of a report step that leave a tenant converged (run: done; plan: nothing to do)
CONVERGED_WORDS = frozenset({"created", "updated", "waited", "unchanged", "passed", "skipped",
                             "no change", "skip"})
FORMATS = ("github", "argo")
MAX_SHARDS = 256
#: the largest ``--resume`` report read (bytes): a report of tens of thousands of tenants
MAX_RESUME_BYTES = 32 * 1024 * 1024


class HasTenant(Protocol):
    """Anything with a tenant subdomain (a :class:`~provisioner.playbook.load.Playbook`)."""

    @property
    def tenant(self) -> Any: ...


@dataclass(frozen=True)
class Shard:
    """Shard ``index`` of ``count`` (1-based, as written on the command line: ``--shard 2/4``)."""

    index: int
    count: int

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"

    def holds(self, subdomain: str) -> bool:
        """Whether the tenant with this subdomain belongs to this shard."""
        return shard_number(subdomain, self.count) == self.index


def parse_shard(text: str) -> Shard:
    """``"K/N"`` → :class:`Shard`; :class:`BadInput` unless 1 ≤ K ≤ N ≤ 256."""
    m = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", text)
    if not m or not 1 <= int(m[1]) <= int(m[2]) <= MAX_SHARDS:
        raise BadInput(f"--shard {text!r}: use K/N with 1 <= K <= N <= {MAX_SHARDS} (e.g. 2/4)")
    return Shard(int(m[1]), int(m[2]))


def _point(subdomain: str) -> int:
    """The tenant's place on the hash ring: the first 16 hex digits of SHA-256 of its lower-case subdomain."""
    return int(hashlib.sha256(subdomain.strip().lower().encode("utf-8")).hexdigest()[:16], 16)


def shard_number(subdomain: str, count: int) -> int:
    """The 1-based shard (of ``count``) of the tenant with ``subdomain`` (case-insensitive)."""
    return _point(subdomain) % count + 1


def shard_count(subdomains: Sequence[str], per_shard: int) -> int:
    """The fewest shards N, from ``ceil(tenants / per_shard)`` up to 256, whose split (:func:`shard_number`, which
    a tenant's subdomain alone decides) puts at most ``per_shard`` tenants in every shard. A hash does not split
    evenly, so N may be above the ceiling (7 tenants at 6 a shard: 2 shards may hold 4 and 3, or 7 and 0; then 3
    shards are tried, and so on). Raises :class:`BadInput` when no N up to 256 keeps that bound, or on a
    ``per_shard`` below 1."""
    if per_shard < 1:
        raise BadInput(f"--per-shard {per_shard}: use 1 or more")
    points = [_point(s) for s in subdomains]
    if not points:
        return 1
    fullest = len(points)
    for count in range(max(1, math.ceil(len(points) / per_shard)), MAX_SHARDS + 1):
        fullest = max(Counter(p % count for p in points).values())
        if fullest <= per_shard:
            return count
    raise BadInput(f"--per-shard {per_shard}: no split of these {len(points)} tenants into at most {MAX_SHARDS} "
                   f"shards keeps each at {per_shard} or fewer (a shard holds the tenants whose subdomain hashes to "
                   f"it; with {MAX_SHARDS} shards the fullest holds {fullest}); raise --per-shard or give --shards")


def select(playbooks: Sequence[HasTenant], shard: Shard | None) -> list[Any]:
    """The playbooks of the tenants in ``shard`` (all of them without one), in their order."""
    if shard is None:
        return list(playbooks)
    return [pb for pb in playbooks if shard.holds(pb.tenant.subdomain)]


def matrix(subdomains: Iterable[str], shards: int, fmt: str) -> str:
    """The JSON a CI engine fans out on, one entry per non-empty shard: ``{"shard": "K/N", "tenants": count}``.
    ``github``: ``{"include": [...]}`` for ``strategy.matrix: ${{ fromJSON(...) }}``; ``argo``: the bare list for
    ``withParam``. :class:`BadInput` on an unknown format or a shard count outside 1..256."""
    if fmt not in FORMATS:
        raise BadInput(f"--format {fmt!r}: use " + " or ".join(FORMATS))
    if not 1 <= shards <= MAX_SHARDS:
        raise BadInput(f"--shards {shards}: use 1 to {MAX_SHARDS}")
    counts = [0] * shards
    for sub in subdomains:
        counts[shard_number(sub, shards) - 1] += 1
    entries = [{"shard": f"{k}/{shards}", "tenants": n} for k, n in enumerate(counts, start=1) if n]
    return json.dumps({"include": entries} if fmt == "github" else entries)


def converged_tenants(report: Path) -> set[str]:
    """The tenants (lower-case subdomains) an earlier JSON report (``--report`` / ``--output json``) shows
    converged: ok, and every step done or nothing to do (a plan with changes pending is not converged), and those
    it skipped as converged itself (``resumed.skipped``: a resumed run's report carries them, so a chain of
    ``--resume`` never runs them again). Raises :class:`BadInput` when the file is unreadable or not such a
    report. Reads a regular file of at most :data:`MAX_RESUME_BYTES` only (a device, FIFO or directory is one line
    at once, never read)."""
    try:
        text = safefile.read_text(safefile.expand(report), "JSON report", MAX_RESUME_BYTES)
    except BadInput as exc:
        raise BadInput(f"--resume {exc}") from None
    try:
        data = json.loads(text)
        tenants = data["tenants"]
        return {str(t["tenant"]).lower() for t in tenants
                if t.get("ok") is True and all(s.get("action") in CONVERGED_WORDS for s in t.get("steps") or [])
                } | _carried(data)
    except RecursionError:
        raise BadInput(f"--resume {report}: not a provisioner JSON report (nested too deep)") from None
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise BadInput(f"--resume {report}: not a provisioner JSON report ({type(exc).__name__})") from None


def _carried(data: Any) -> set[str]:
    """The tenants (lower-case) a resumed run's report lists as skipped because converged earlier."""
    resumed = data.get("resumed")
    if resumed is None:
        return set()
    return {str(t["tenant"]).lower() for t in resumed["skipped"]}


@dataclass(frozen=True)
class Resumed:
    """What ``--resume REPORT`` left out: ``report`` as given, and the (playbook, tenant) of each tenant skipped
    because that report shows it converged, in playbook order."""

    report: str
    skipped: tuple[tuple[str, str], ...]

    def to_json(self) -> dict[str, Any]:
        """The report's ``resumed`` field: ``{"report", "skipped": [{"playbook", "tenant"}]}``."""
        return {"report": self.report, "skipped": [{"playbook": p, "tenant": t} for p, t in self.skipped]}

    def summary(self, ran: int) -> str:
        """The line a resumed run ends with: how many tenants it skipped (and which, when a few) and ran."""
        names = [t for _, t in self.skipped]
        which = f": {', '.join(names)}" if 0 < len(names) <= 10 else ""
        return (f"--resume {self.report}: {len(names)} tenant(s) skipped as converged{which}; {ran} tenant(s) "
                "run")


def resume(playbooks: Sequence[HasTenant], report: Path) -> tuple[list[Any], Resumed]:
    """The playbooks whose tenant ``report`` does not show converged (:func:`converged_tenants`), and what was
    skipped. Raises :class:`BadInput` as :func:`converged_tenants` does."""
    converged = converged_tenants(report)
    skipped = tuple((str(getattr(pb, "source", "")), pb.tenant.subdomain) for pb in playbooks
                    if pb.tenant.subdomain.lower() in converged)
    return without_converged(playbooks, converged), Resumed(str(report), skipped)


def without_converged(playbooks: Sequence[HasTenant], converged: set[str]) -> list[Any]:
    """The playbooks whose tenant is not in ``converged`` (lower-case subdomains)."""
    return [pb for pb in playbooks if pb.tenant.subdomain.lower() not in converged]
