"""Runs a playbook's steps: sign in, then for each step read → compare → (apply), timing each one.

``run(playbook, dry_run=True)`` is ``plan``: reads only. Results are plain data (:class:`RunResult`) for the table,
JSON and JUnit reports.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

from provisioner.btp import Btp
from provisioner.cf import CloudFoundry
from provisioner.eras import select_steps
from provisioner.errors import ApiError, BadInput, ProvisionerError
from provisioner.explain import hint
from provisioner.http import HttpSettings, RequestStats, SessionPool
from provisioner.keyfile import parse_key_text
from provisioner.playbook import Playbook, text_of
from provisioner.steps.base import NONE, PAST, Context
from provisioner.wait import WaitSettings

PLAN_WORDS = {"create": "create", "update": "update", NONE: "no change"}


@dataclass
class StepResult:
    """One step's outcome. ``action``: for run created | updated | unchanged | failed | skipped; for plan
    create | update | no change | skip | error. ``seconds`` is the step's wall time."""

    step: str
    action: str
    reasons: list[str]
    seconds: float
    error: str | None = None
    requests: int = 0


@dataclass
class RunResult:
    playbook: str
    tenant: str
    era: str
    dry_run: bool
    steps: list[StepResult] = field(default_factory=list)
    requests: int = 0
    writes: int = 0
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return all(s.action not in ("failed", "error") for s in self.steps)

    @property
    def changes_pending(self) -> bool:
        return any(s.action in ("create", "update") for s in self.steps)

    def to_json(self) -> dict:
        out = asdict(self)
        out["ok"] = self.ok
        return out


def load_cis_key(pb: Playbook) -> dict:
    """The cis service key from ``btp.cis_key`` ({file}, {env} or {vcap}); any of the three key formats."""
    ref = pb.btp.cis_key
    return parse_key_text(ref.resolve().reveal(), ref.file or f"{ref.where} ({ref.describe()})")


def resolve_secrets(pb: Playbook) -> None:
    """Resolve every secret reference now, so an unset variable fails before any API call (exit 2)."""
    for ref in pb.secrets():
        ref.resolve()


def connect(pb: Playbook, pool: SessionPool, stats: RequestStats, *, need_btp: bool) -> tuple[CloudFoundry, Btp | None]:
    """Sign in to CF (from the playbook's login source) and, if needed, build the BTP client from the cis key."""
    from provisioner.credentials import sign_in_cf

    btp = None
    if need_btp:
        btp = Btp(load_cis_key(pb), source=pb.btp.cis_key.where, username=text_of(pb.btp.username),
                  password=pb.btp.password.resolve() if pb.btp.password else None, pool=pool, stats=stats)
    return sign_in_cf(pb, pool, stats), btp


def pool_for(pb: Playbook) -> SessionPool:
    return SessionPool(HttpSettings(connect_timeout=pb.http.connect_timeout, read_timeout=pb.http.read_timeout,
                                    retries=pb.http.retries, verify=pb.http.ca_bundle or True))


STEP_ATTEMPTS = 8


def explained(exc: ProvisionerError, step: str) -> str:
    """The error's one line, with the fix for API errors (:mod:`provisioner.explain`)."""
    if isinstance(exc, ApiError) and exc.hint is None and (fix := hint(exc, step)):
        exc.with_hint(fix)
    return str(exc)


def transient(exc: BaseException) -> bool:
    """Whether a step that raised ``exc`` is done again from its read (see :attr:`ApiError.transient`); a POST is
    so never repeated blindly: re-reading adopts whatever the lost request created."""
    return isinstance(exc, ApiError) and exc.transient


def attempt_step(step, ctx: Context, dry_run: bool):
    """read → compare → apply, done again from the read on a transient failure (up to 8 times, exponential
    backoff with jitter from 0.2 s to 5 s, via tenacity). Returns the :class:`Change` that was applied."""
    from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_exponential, wait_random

    wait = wait_exponential(multiplier=0.2, max=5) + wait_random(0, 0.2)
    for attempt in Retrying(stop=stop_after_attempt(STEP_ATTEMPTS), wait=wait, retry=retry_if_exception(transient),
                            reraise=True):
        with attempt:
            ctx.pending.discard(step.name)  # each attempt decides anew whether the step still has work pending
            observed = step.read(ctx)
            change = step.compare(ctx, observed)
            if not dry_run and change.action != NONE:
                step.apply(ctx, observed, change)
            if attempt.retry_state.attempt_number > 1:
                change.reasons.append(f"after {attempt.retry_state.attempt_number - 1} transient failure(s), "
                                      "re-read and adopted what existed")
    return change


def run(pb: Playbook, *, dry_run: bool = False, force: bool = False, pool: SessionPool | None = None,
        poll: WaitSettings | None = None, on_step: Callable[[RunResult, StepResult], None] | None = None,
        on_start: Callable[[RunResult, str], None] | None = None) -> RunResult:
    """Run (or with ``dry_run`` plan) the playbook. Bad input raises :class:`BadInput`; API and step failures are
    recorded in the result (the first failure stops the steps after it, which are reported ``skipped``).
    ``on_step(result, step_result)`` is called as each step ends, ``on_start(result, step_name)`` as each starts
    (for live output)."""
    resolve_secrets(pb)
    era, selected = select_steps(pb)
    result = RunResult(pb.source, pb.tenant.subdomain, era, dry_run)

    def record(step_result: StepResult) -> None:
        result.steps.append(step_result)
        if on_step is not None:
            on_step(result, step_result)

    stats = RequestStats()
    started = time.monotonic()
    pool = pool or pool_for(pb)
    try:
        need_btp = any(step.name == "entitlement" and skip is None for step, skip in selected)
        t0 = time.monotonic()
        try:
            cf, btp = connect(pb, pool, stats, need_btp=need_btp)
        except BadInput:
            raise
        except ProvisionerError as exc:
            record(StepResult("sign-in", "error" if dry_run else "failed", [], time.monotonic() - t0,
                              explained(exc, "sign-in")))
            return result
        ctx = Context(pb, cf, btp, dry_run=dry_run, force=force, poll=poll or WaitSettings())
        failed = False
        for step, skip in selected:
            if skip is not None or failed:
                reason = skip if skip is not None else "an earlier step failed"
                record(StepResult(step.name, "skip" if dry_run else "skipped", [reason], 0.0))
                continue
            if on_start is not None:
                on_start(result, step.name)
            t0, r0 = time.monotonic(), stats.requests
            try:
                change = attempt_step(step, ctx, dry_run)
                action = PLAN_WORDS[change.action] if dry_run else PAST[change.action]
                record(StepResult(step.name, action, change.reasons, time.monotonic() - t0,
                                  requests=stats.requests - r0))
            except BadInput:
                raise
            except ProvisionerError as exc:
                failed = True
                record(StepResult(step.name, "error" if dry_run else "failed", [], time.monotonic() - t0,
                                  explained(exc, step.name), requests=stats.requests - r0))
        return result
    finally:
        result.requests, result.writes = stats.requests, stats.writes
        result.seconds = time.monotonic() - started
