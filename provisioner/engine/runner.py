"""Runs a playbook's steps: sign in, then for each step read → compare → (apply), timing each one; a step starts
as soon as the steps it needs (``Step.needs``) are done, independent chains side by side
(:mod:`provisioner.engine.stepgraph`), and steps are reported in the playbook's declared order.

``run(playbook, dry_run=True)`` is ``plan``: reads only. Each step's typed result (:class:`~provisioner.steps.base.
Done` or :class:`~provisioner.steps.base.Planned`) is handed to the later steps in an immutable
:class:`~provisioner.steps.base.Upstream`. Results are plain data (:class:`RunResult`,
:mod:`provisioner.engine.results`, where the run and plan words are listed) for the table, JSON and JUnit reports.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from typing import Any

from provisioner import clock
from provisioner.clients.atonce import StepStats
from provisioner.clients.http import HttpSettings
from provisioner.engine.context import RunContext
from provisioner.engine.eras import select_steps
from provisioner.engine.handoff import KeyMark, handoff, held
from provisioner.engine.orgcheck import OrgGuard
from provisioner.engine.results import CHANGE_WORDS as CHANGE_WORDS
from provisioner.engine.results import FAILED as FAILED
from provisioner.engine.results import PASSED as PASSED
from provisioner.engine.results import RunResult as RunResult
from provisioner.engine.results import StepResult as StepResult
from provisioner.engine.signin import BINDING_STEP, connect_retrying
from provisioner.engine.signin import btp_client as btp_client  # re-exported: the sign-in had no module of its own
from provisioner.engine.signin import connect as connect
from provisioner.engine.signin import connect_platform as connect_platform
from provisioner.engine.signin import load_cis_key as load_cis_key
from provisioner.engine.stepgraph import Ended, Node, run_graph
from provisioner.engine.stepretry import explained, retrying
from provisioner.errors import BadInput, ProvisionerError
from provisioner.playbook.load import Playbook
from provisioner.steps.base import (
    PLAN_WORDS,
    RUN_WORDS,
    Action,
    Change,
    Done,
    Env,
    Planned,
    Result,
    Step,
    Upstream,
    Verification,
    VerifyStep,
    first_run,
)
from provisioner.steps.key import KeyOutput
from provisioner.waits.wait import WaitSettings


def resolve_secrets(pb: Playbook) -> None:
    """Resolve every secret reference now, so an unset variable fails before any API call (exit 2). (The values are
    registered as secrets in play where they are used, not here: a username may be a reference too.)"""
    for ref in pb.secrets():
        ref.resolve(public=True)


def http_settings(pb: Playbook, max_in_flight_per_host: int | None = None) -> HttpSettings:
    """The transport settings of the playbook's ``http`` section; a fixed in-flight cap per host, or None."""
    return HttpSettings.of(pb.http, max_in_flight_per_host)


def context_for(pb: Playbook) -> RunContext:
    """A run context of its own for one tenant (:class:`provisioner.engine.context.RunContext`): close it."""
    return RunContext(http_settings(pb))


pool_for = context_for  # the name it had when the pool held what a run shares


@dataclass(frozen=True)
class Outcome:
    """What one step came to: the run or plan ``word``, its ``reasons``, what later steps learn (``result``: None
    for verifications), and for verifications the ``verification``."""

    word: str
    reasons: tuple[str, ...]
    result: Result | None = None
    verification: Verification | None = None


def converge(step: Step[Any, Any], env: Env, upstream: Upstream) -> Outcome:
    """read → compare → (apply unless nothing to do or ``env.dry_run``) → the outcome. After a wait (or when the
    apply adopted what a parallel run made: ``Output.recheck``) the step is read and compared once more and what
    still differs is applied; the word is then that of the second change (a wait and nothing else: ``waited``)."""
    observation = step.read(env, upstream)
    change = step.compare(env.settings, observation, upstream)
    if change.action is Action.NONE:
        return Outcome(RUN_WORDS[Action.NONE] if not env.dry_run else PLAN_WORDS[Action.NONE], change.reasons,
                       Done(step.current(observation)))
    guarded = _guard(env, change)
    if env.dry_run:
        return Outcome(PLAN_WORDS[change.action], change.reasons + guarded, Planned(change, step.current(observation)))
    output = step.apply(env, observation, change, upstream)
    action, reasons = change.action, change.reasons + guarded + output.notes
    if change.action is Action.WAIT or output.recheck:
        observation = step.reread(env, upstream, observation, output)
        again = step.compare(env.settings, observation, upstream)
        if again.action is Action.NONE:
            output = step.current(observation) or output
        else:
            guarded = _guard(env, again)
            output = step.apply(env, observation, again, upstream)
            action, reasons = again.action, reasons + again.reasons + guarded + output.notes
    return Outcome(RUN_WORDS[action], reasons, Done(output))


def _guard(env: Env, change: Change) -> tuple[str, ...]:
    """The run's write guard (``env.write_guard``) before a create or update (in a plan too): its note, if any;
    its failure propagates (the step fails, nothing is written)."""
    if env.write_guard is None or change.action not in (Action.CREATE, Action.UPDATE):
        return ()
    note = env.write_guard()
    return (note,) if note else ()


def verify(step: VerifyStep, env: Env, upstream: Upstream) -> Outcome:
    """A verification's outcome: ``passed`` / ``failed`` with the checks; in ``plan``, when it cannot be done yet,
    ``no change`` with what a run will verify."""
    verification = step.verify(env, upstream)
    if verification is None:
        return Outcome(PLAN_WORDS[Action.NONE], (step.later(env.settings),))
    return Outcome(PASSED if verification.passed else FAILED, (verification.summary,), None, verification)


def attempt_step(step: Step[Any, Any] | VerifyStep, env: Env, upstream: Upstream) -> Outcome:
    """:func:`converge` (or :func:`verify`), done again from the read on a transient failure
    (:func:`provisioner.engine.stepretry.retrying`)."""
    for attempt in retrying():
        with attempt:
            if attempt.retry_state.attempt_number > 1:
                env = replace(env, again=True)
            outcome = verify(step, env, upstream) if isinstance(step, VerifyStep) else converge(step, env, upstream)
    tries = attempt.retry_state.attempt_number
    if tries > 1:
        note = f"after {tries - 1} transient failure(s), re-read and adopted what existed"
        outcome = replace(outcome, reasons=(*outcome.reasons, note))
    return outcome


def step_result(name: str, outcome: Outcome, seconds: float, requests: int) -> StepResult:
    """The reported result of a step's outcome; a failed verification carries its failed checks as the error."""
    checks = [asdict(c) for c in outcome.verification.checks] if outcome.verification else []
    if outcome.word == FAILED:
        return StepResult(name, FAILED, [], seconds, "; ".join(outcome.reasons), requests, checks)
    return StepResult(name, outcome.word, list(outcome.reasons), seconds, requests=requests, checks=checks)


def attempt_counted(step: Step[Any, Any] | VerifyStep, env: Env, upstream: Upstream,
                    stats: StepStats) -> tuple[StepResult, Result | None]:
    """:func:`attempt_step` as one step of the graph (on a worker thread): its reported result, with its wall time
    and the requests it sent (:meth:`StepStats.counting`), and what later steps learn (None: nothing). A step
    failure is the result (``failed``, in a plan ``error``); :class:`BadInput` propagates."""
    t0 = clock.monotonic()
    with stats.counting() as counter:
        try:
            outcome = attempt_step(step, env, upstream)
        except BadInput:
            raise
        except ProvisionerError as exc:
            return StepResult(step.name, "error" if env.dry_run else FAILED, [], clock.monotonic() - t0,
                              explained(exc, step.name), requests=counter.value), None
    return step_result(step.name, outcome, clock.monotonic() - t0, counter.value), outcome.result


def run(pb: Playbook, *, dry_run: bool = False, force: bool = False, ctx: RunContext | None = None,
        poll: WaitSettings | None = None, on_step: Callable[[RunResult, StepResult], None] | None = None,
        on_start: Callable[[RunResult, str], None] | None = None) -> RunResult:
    """Run (or with ``dry_run`` plan) the playbook: the steps of each purpose's key in turn (``tenant.purposes``,
    :meth:`Playbook.for_purpose`; with several purposes a step is reported as ``key[api]``). Bad input raises
    :class:`BadInput`; API and step failures are recorded in the result (a failure stops the steps of that purpose
    that need the failed step, which are reported ``skipped``; the others run). The result's ``keys`` mark the one
    Landscape Management key (:mod:`provisioner.engine.handoff`), ``notes`` hold its warnings and the manual next step.
    ``on_step(result, step_result)`` is called as each step is reported (in declared order), ``on_start(result,
    step_name)`` as each starts (live output); both on the calling thread."""
    resolve_secrets(pb)
    parts = [(purpose, pb.for_purpose(purpose)) for purpose in pb.tenant.purposes]
    eras = [select_steps(part)[0] for _, part in parts]
    era = eras[0] if len(parts) == 1 else "; ".join(f"{p}: {e}" for (p, _), e in zip(parts, eras, strict=True))
    result = RunResult(pb.source, pb.tenant.subdomain, era, dry_run)
    stats = StepStats()
    started = clock.monotonic()
    own_ctx = ctx is None
    ctx = ctx or context_for(pb)
    chosen = pb.landscape_management_purpose
    marks: list[KeyMark] = []
    try:
        with clock.deadline(pb.timeouts.run):  # the run's time limit (--timeout): every wait and request ends by it
            for purpose, part in parts:
                label = "" if len(parts) == 1 else f"[{purpose}]"
                key, new, holds = _run_purpose(part, result, label, stats, ctx, dry_run=dry_run, force=force,
                                               poll=poll, on_step=on_step, on_start=on_start)
                marks.append(KeyMark(purpose, part.download_path, key, purpose == chosen, new, *holds))
        return result
    finally:
        result.keys, result.notes = handoff(pb, marks, result.steps, dry_run=dry_run)
        result.requests, result.writes = stats.requests, stats.writes
        result.seconds = clock.monotonic() - started
        if own_ctx:
            ctx.close()


def _run_purpose(pb: Playbook, result: RunResult, label: str, stats: StepStats, ctx: RunContext, *,
                 dry_run: bool, force: bool, poll: WaitSettings | None,
                 on_step: Callable[[RunResult, StepResult], None] | None,
                 on_start: Callable[[RunResult, str], None] | None) -> tuple[str | None, bool, tuple[Any, ...]]:
    """The steps of one purpose's playbook, recorded in ``result`` (step names + ``label``) → the key's name
    (None: none found), whether the run made the key or wrote it to the file anew, and what it holds
    (:func:`provisioner.engine.handoff.held`: instance, credential type, scopes)."""
    _, selected = select_steps(pb)

    def record(step_result: StepResult) -> None:
        step_result.step += label
        result.steps.append(step_result)
        if on_step is not None:
            on_step(result, step_result)

    need_btp = any(step.name == "entitlement" and skip is None for step, skip in selected)
    t0 = clock.monotonic()
    try:
        conn = connect_retrying(pb, ctx, stats, need_btp=need_btp, writes=not dry_run)
    except BadInput:
        raise
    except ProvisionerError as exc:
        record(StepResult("sign-in", "error" if dry_run else FAILED, [], clock.monotonic() - t0,
                          explained(exc, "sign-in")))
        return None, False, held(pb, Upstream(()))
    b = conn.binding  # the Service Manager binding this sign-in created (a plan: would create; said once a tenant)
    if b is not None and not any(s.step.startswith(BINDING_STEP) for s in result.steps):
        record(StepResult(BINDING_STEP, b.word, [b.reason], b.seconds, requests=b.requests))
    selected = conn.skips(selected)  # a plan that cannot read Service Manager yet skips the steps reading it
    env = Env(pb, conn.cf, conn.btp, conn.platform, dry_run=dry_run, force=force, poll=poll or WaitSettings(),
              pool=ctx.pool, stats=stats, job_times=ctx.job_times,
              write_guard=OrgGuard(pb, conn.cf, conn.btp, lambda: btp_client(pb, ctx, stats), ctx=ctx, stats=stats))
    if conn.cf is not None and pb.cf is not None and not first_run(pb):
        conn.cf.org_early(pb.cf_settings.org)  # the space and the entitlement steps both read it
    steps = {step.name: (step, skip) for step, skip in selected}
    ahead = not dry_run and not first_run(pb)  # verifications ahead of their needs: on a re-run only
    nodes = [Node(step.name, step.needs, skip is None, ahead and isinstance(step, VerifyStep) and step.ahead)
             for step, skip in selected]
    done: dict[str, Result] = {}  # written on this thread only, as steps are reported (in declared order)

    def task(node: Node, before: dict[str, tuple[StepResult, Result | None]]) -> tuple[StepResult, Result | None]:
        # what the step needs, directly or through its needs, in declared order (immutable)
        upstream = Upstream(tuple((name, res) for name, (_, res) in before.items() if res is not None))
        return attempt_counted(steps[node.name][0], env, upstream, stats)

    def end(ended: Ended[tuple[StepResult, Result | None]]) -> None:
        name = ended.node.name
        if ended.value is None:
            reason = steps[name][1] if ended.skipped else None
            record(StepResult(name, "skip" if dry_run else "skipped", [reason or "an earlier step failed"], 0.0))
            return
        if ended.value[1] is not None:
            done[name] = ended.value[1]
        record(ended.value[0])

    def keep(value: tuple[StepResult, Result | None], before: dict[str, tuple[StepResult, Result | None]]) -> bool:
        # an early verification stands when it passed and nothing it needs changed (the file it read is the one)
        return value[0].action == PASSED and all(r.action in (RUN_WORDS[Action.NONE], PASSED) for r, _ in
                                                 before.values())

    stopped: list[bool] = []  # KeyboardInterrupt (no CLI handler): stop the running steps, then forget the stop

    def abort() -> None:
        stopped.append(not clock.cancelled())
        clock.cancel()

    try:
        run_graph(nodes, task, failed=lambda value: value[0].action in (FAILED, "error"), keep=keep, on_end=end,
                  on_start=lambda node: on_start(result, node.name + label) if on_start is not None else None,
                  on_abort=abort)
    finally:
        if any(stopped):
            clock.reset_cancel()
    finished = Upstream(tuple((n.name, done[n.name]) for n in nodes if n.name in done))
    key = finished.output("key", KeyOutput)
    new = any(s.step == "download" + label and s.action in (RUN_WORDS[Action.CREATE], RUN_WORDS[Action.UPDATE])
              for s in result.steps)
    return (key.key.name if key is not None else None), new or (key is not None and key.created), held(pb, finished)
