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
import re
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
    """Anything with a tenant subdomain (a :class:`~provisioner.playbook.Playbook`)."""

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


def shard_number(subdomain: str, count: int) -> int:
    """The 1-based shard (of ``count``) of the tenant with ``subdomain`` (case-insensitive)."""
    digest = hashlib.sha256(subdomain.strip().lower().encode("utf-8")).hexdigest()
    return int(digest[:16], 16) % count + 1


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
    converged: ok, and every step done or nothing to do (a plan with changes pending is not converged). Raises
    :class:`BadInput` when the file is unreadable or not such a report. Reads a regular file of at most
    :data:`MAX_RESUME_BYTES` only (a device, FIFO or directory is one line at once, never read)."""
    try:
        text = safefile.read_text(safefile.expand(report), "JSON report", MAX_RESUME_BYTES)
    except BadInput as exc:
        raise BadInput(f"--resume {exc}") from None
    try:
        data = json.loads(text)
        tenants = data["tenants"]
        return {str(t["tenant"]).lower() for t in tenants
                if t.get("ok") is True and all(s.get("action") in CONVERGED_WORDS for s in t.get("steps") or [])}
    except RecursionError:
        raise BadInput(f"--resume {report}: not a provisioner JSON report (nested too deep)") from None
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise BadInput(f"--resume {report}: not a provisioner JSON report ({type(exc).__name__})") from None


def without_converged(playbooks: Sequence[HasTenant], converged: set[str]) -> list[Any]:
    """The playbooks whose tenant is not in ``converged`` (lower-case subdomains)."""
    return [pb for pb in playbooks if pb.tenant.subdomain.lower() not in converged]
