"""Fault injection: latency, transient failures, slow or failing jobs, stuck or locked entitlements
(docs/simulator.md, "Faults").

`Faults` is the settings object served by `GET /_sim/faults` (its JSON shape is `Faults.as_dict()`), validated
by `data/faults.schema.json`; `FaultInjector` holds the current settings and the one `random.Random(seed)` every
random decision comes from. The injector is used only under the simulator's lock, so random numbers are drawn
in request arrival order and a run with the same seed and the same sequence of requests makes the same
decisions. Nothing draws a random number while the corresponding setting is off.

Random draws, in this order:
- per API request (not `/_sim/`): for each matching rule of `failures`, then for the global `fail_rate`:
  one draw against the rule's `rate`; when it fires, one draw for the kind and, for `when: any` and a
  non-GET request, one for before/after. The first rule that fires decides; a 429 is always answered
  before the request is processed (rate limiters reject, they do not half-process);
- per job created: one draw against `job_failure_rate` (when it is above 0 and no `job_failures` entry names
  the job's operation);
- per `PUT .../subaccountServicePlans` that passes validation: one draw against `entitlement_lock_rate`.

The failure responses are built by errors.failure_response; a "reset" has none (serving.reset_connection).
"""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass, field
from fnmatch import fnmatchcase
from typing import Any

from provisioner.sim.core.schema import Marks, problem

FAIL_RATE_KINDS = ("429", "502", "503", "504", "reset")  # the kinds of the global `fail_rate`
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


class FaultsError(ValueError):
    """A faults object is not valid; the message is `SOURCE[:LINE:COLUMN]: key: problem; fix`."""


@dataclass
class Rule:
    """One transient failure rule of `failures`."""

    paths: list[str] = field(default_factory=lambda: ["*"])  # fnmatch patterns of the request path
    methods: list[str] | None = None  # None: every method
    rate: float = 1.0  # probability per matching request
    kinds: list[str] = field(default_factory=lambda: list(FAIL_RATE_KINDS))
    when: str = "before"  # before: not processed; after: processed, then the response is replaced; any
    times: int | None = None  # fire at most this many more times (None: unlimited); counts down

    def matches(self, method: str, path: str) -> bool:
        return (self.times != 0 and (self.methods is None or method in self.methods)
                and any(fnmatchcase(path, p) for p in self.paths))

    @classmethod
    def from_dict(cls, r: dict[str, Any]) -> Rule:
        """A rule of a schema-valid faults object (a single path, method or kind may stand for a list)."""
        rule = cls()
        if r.get("paths") is not None:
            rule.paths = _listed(r["paths"])
        if r.get("methods") is not None:
            rule.methods = [m.upper() for m in _listed(r["methods"])]
        if r.get("rate") is not None:
            rule.rate = float(r["rate"])
        if r.get("kinds") is not None:
            rule.kinds = [str(k) for k in _listed(r["kinds"])]
        if r.get("when") is not None:
            rule.when = r["when"]
        if r.get("times") is not None:
            rule.times = int(r["times"])
        return rule


def _listed(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list) else [value]


@dataclass
class Faults:
    """Everything `/_sim/faults` serves and changes; the defaults inject nothing."""

    seed: int = 0
    latency: float = 0.0  # seconds added to every API request
    latency_by_path: dict[str, float] = field(default_factory=dict)  # pattern → seconds (first match wins)
    fail_rate: float = 0.0  # global rule: all API paths, FAIL_RATE_KINDS, before/after at random for writes
    failures: list[Rule] = field(default_factory=list)
    retry_after: int = 1  # Retry-After seconds of injected 429s
    job_seconds_by_operation: dict[str, float] = field(default_factory=dict)  # overrides config.job_seconds
    job_failures: dict[str, str] = field(default_factory=dict)  # operation → failure description
    job_failure_rate: float = 0.0  # every job fails with this probability
    entitlements_stuck: bool = False  # entitlement jobs never complete (assignments stay PROCESSING)
    entitlement_lock_rate: float = 0.0  # PUT subaccountServicePlans answers 400 30004 at this rate
    tokens_expire_every: float = 0.0  # seconds (simulator clock): each time this passes, access tokens are revoked

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Any, source: str = "faults", marks: Marks | None = None) -> Faults:
        """Validate a faults object (missing keys take their defaults, null resets a key); raises FaultsError."""
        if not isinstance(data, dict):
            raise FaultsError(f"{source}: the faults object must be a JSON/YAML mapping; write its keys, "
                              "e.g. {fail_rate: 0.1}")
        found = problem("faults.schema.json", data, source, marks)
        if found:
            raise FaultsError(found)
        d = {k: v for k, v in data.items() if v is not None}
        floats = ("latency", "fail_rate", "job_failure_rate", "entitlement_lock_rate", "tokens_expire_every")
        return cls(
            seed=int(d.get("seed", 0)), retry_after=int(d.get("retry_after", 1)),
            **{k: float(d[k]) for k in floats if k in d},
            latency_by_path={k: float(v) for k, v in (d.get("latency_by_path") or {}).items()},
            failures=[Rule.from_dict(r) for r in d.get("failures") or []],
            job_seconds_by_operation={k: float(v) for k, v in (d.get("job_seconds_by_operation") or {}).items()},
            job_failures=dict(d.get("job_failures") or {}),
            entitlements_stuck=bool(d.get("entitlements_stuck", False)))


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge patch: objects merge recursively, null removes a key, anything else replaces."""
    if not isinstance(patch, dict):
        return patch
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


@dataclass
class Fault:
    kind: str  # "429", "500", "502", "503", "504", "reset", or "lock" (decided by the entitlements handler)
    when: str  # "before" or "after"


class FaultInjector:
    """The current fault settings and their random generator. Call only while holding the simulator's lock."""

    def __init__(self, settings: Faults | None = None) -> None:
        self.settings = settings or Faults()
        self.rng = random.Random(self.settings.seed)
        self._expiry: float | None = None  # when access tokens are revoked next (simulator clock)

    def as_dict(self) -> dict[str, Any]:
        return self.settings.as_dict()

    def replace(self, data: dict[str, Any] | None) -> None:
        """Set all settings (None or {}: no faults) and restart the random generator from the seed."""
        self.settings = Faults.from_dict(data or {})
        self.rng = random.Random(self.settings.seed)
        self._expiry = None

    def patch(self, changes: Any) -> None:
        """Merge `changes` (RFC 7386); the generator restarts only when `changes` names a seed."""
        if not isinstance(changes, dict):
            raise FaultsError("faults: the body must be a JSON object; send e.g. {\"fail_rate\": 0.1}")
        self.settings = Faults.from_dict(merge_patch(self.as_dict(), changes))
        if "seed" in changes:
            self.rng = random.Random(self.settings.seed)
        if "tokens_expire_every" in changes:
            self._expiry = None

    # ---- per request ---------------------------------------------------------------------------

    def latency(self, path: str) -> float:
        """Seconds to wait before handling a request to `path`."""
        for pattern, seconds in self.settings.latency_by_path.items():
            if fnmatchcase(path, pattern):
                return seconds
        return self.settings.latency

    def decide(self, method: str, path: str) -> Fault | None:
        """The transient failure of one API request, or None."""
        s = self.settings
        rules = list(s.failures)
        if s.fail_rate > 0:
            rules.append(Rule(rate=s.fail_rate, kinds=list(FAIL_RATE_KINDS), when="any"))
        for rule in rules:
            if not rule.matches(method, path) or self.rng.random() >= rule.rate:
                continue
            kind = self.rng.choice(rule.kinds)
            when = rule.when
            if when == "any":
                when = "before" if method in SAFE_METHODS else self.rng.choice(("before", "after"))
            if kind in ("422", "429"):  # refusals: nothing was processed
                when = "before"
            if rule.times is not None:
                rule.times -= 1
            return Fault(kind, when)
        return None

    def tokens_expire(self, now: float) -> bool:
        """Whether access tokens expire now (``now``: the simulator clock): each time ``tokens_expire_every``
        seconds passed since it was set (counted from the first request after); no random draw."""
        every = self.settings.tokens_expire_every
        if every <= 0:
            return False
        if self._expiry is None:
            self._expiry = now + every
            return False
        if now < self._expiry:
            return False
        while self._expiry <= now:
            self._expiry += every
        return True

    def entitlement_locked(self) -> bool:
        rate = self.settings.entitlement_lock_rate
        return rate > 0 and self.rng.random() < rate

    # ---- jobs ----------------------------------------------------------------------------------

    def job_seconds(self, operation: str, default: float) -> float:
        return self.settings.job_seconds_by_operation.get(operation, default)

    def job_failure(self, operation: str) -> str | None:
        """Decided when the job is created: the failure description, or None."""
        s = self.settings
        if operation in s.job_failures:
            return s.job_failures[operation]
        if s.job_failure_rate > 0 and self.rng.random() < s.job_failure_rate:
            return f"Service broker error: injected failure of {operation} (job_failure_rate)"
        return None

    @property
    def entitlements_stuck(self) -> bool:
        return self.settings.entitlements_stuck
