"""The result model of a run or plan: :class:`StepResult` (one step) and :class:`RunResult` (one tenant), plain
data for the table, JSON and JUnit reports, made by :mod:`provisioner.engine.runner`.

Words: a run reports created | updated | waited | unchanged | passed | failed | skipped; a plan reports create |
update | wait | no change | passed | failed | skip | error (check and test are verifications: passed or failed).
Only create and update are changes: a plan whose only actions are waits has no changes (exit 0).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from provisioner.safetext import deep, shown
from provisioner.steps.base import PLAN_WORDS, Action

PASSED, FAILED = "passed", "failed"
#: the words of changes the landscape needs (plan) or got (run); a wait is not one
CHANGE_WORDS = (PLAN_WORDS[Action.CREATE], PLAN_WORDS[Action.UPDATE])


@dataclass
class StepResult:
    """One step's outcome. ``action``: the run or plan word (see the module); ``reasons``: why; ``error``: the
    failure's one line; ``checks``: a verification's checks (``{"name", "passed", "message"}``); ``seconds``: the
    step's wall time; ``requests``: API requests it made."""

    step: str
    action: str
    reasons: list[str]
    seconds: float
    error: str | None = None
    requests: int = 0
    checks: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:  # server text in a message: no secret, no control character, cut
        object.__setattr__(self, "error", shown(self.error) if self.error else self.error)
        object.__setattr__(self, "reasons", [shown(r) for r in self.reasons])
        object.__setattr__(self, "checks", [deep(c) for c in self.checks])


@dataclass
class RunResult:
    """One tenant's run or plan: ``playbook`` (the path as given), ``tenant`` (its subdomain), ``era`` (a sentence,
    :mod:`provisioner.engine.eras`), ``dry_run`` (a plan), ``steps`` in the order they ran, ``requests`` and ``writes``
    (API requests made; writes are POST/PUT/PATCH/DELETE other than token requests), ``seconds`` (wall time);
    ``ok`` is False when a step failed, ``has_changes`` whether a plan found something to create or update."""

    playbook: str
    tenant: str
    era: str
    dry_run: bool
    steps: list[StepResult] = field(default_factory=list)
    #: per purpose: :class:`provisioner.engine.handoff.KeyMark` as a dict (at most one marked for Landscape Management)
    keys: list[dict[str, Any]] = field(default_factory=list)
    #: warnings and manual next steps (:func:`provisioner.engine.handoff.handoff_notes`)
    notes: list[str] = field(default_factory=list)
    requests: int = 0
    writes: int = 0
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return all(s.action not in (FAILED, "error") for s in self.steps)

    @property
    def has_changes(self) -> bool:
        """Whether a plan found something to create or update (waits are not changes)."""
        return any(s.action in CHANGE_WORDS for s in self.steps)

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["ok"] = self.ok
        return out
