"""Many tenants in one command: playbooks run concurrently (``--parallel N`` threads), sharing one session pool
per HTTP settings, whose per-host gate caps the requests in flight to each API host (fixed with ``--max-in-flight
N``, else adaptive: :mod:`provisioner.clients.inflight`), in one run context per HTTP settings
(:class:`provisioner.engine.context.RunContext`), which also holds their sign-ins and lookups and what the runs learn
of job durations (:mod:`provisioner.waits.jobtimes`). One tenant's failure never
stops the others; a crash in one tenant is recorded as that tenant's failure. A run holds the leases of its
tenant's key files throughout (:func:`key_leases`).

:func:`fan_out` is that fan-out for any per-tenant function (the reads of ``inventory``, ``plan``, a key's
status); :func:`run_many` runs or plans playbooks with it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager
from dataclasses import dataclass, replace
from typing import Generic, TypeVar

from provisioner.clients.budget import SM_CREATES_PER_MINUTE
from provisioner.engine.context import RunContext
from provisioner.engine.eras import era_of
from provisioner.engine.results import FAILED, RunResult, StepResult
from provisioner.engine.runner import http_settings, run
from provisioner.errors import EXIT_BAD_INPUT, EXIT_FAILED, EXIT_OK, ProvisionerError
from provisioner.keys.keylease import hold_all, lease_wait
from provisioner.playbook.load import Playbook
from provisioner.waits.wait import WaitSettings

T = TypeVar("T")
log = logging.getLogger(__name__)


@dataclass
class BadInputResult(RunResult):
    """A tenant that could not run because of bad input found only while running (a key file, a secret, the cf
    CLI's login): its step ``run`` failed with the one line; ``run`` then exits 2, as for bad input found before."""


class Pools:
    """One :class:`RunContext` per distinct transport settings, shared by every tenant that uses them."""

    def __init__(self, max_in_flight_per_host: int | None,
                 sm_creates_per_minute: float = SM_CREATES_PER_MINUTE):
        self.max_in_flight = max_in_flight_per_host
        self.sm_creates_per_minute = sm_creates_per_minute
        self._pools: dict[tuple[object, ...], RunContext] = {}

    def for_playbook(self, pb: Playbook) -> RunContext:
        settings = replace(http_settings(pb, self.max_in_flight), sm_creates_per_minute=self.sm_creates_per_minute)
        key = tuple(vars(settings).values())
        if key not in self._pools:
            self._pools[key] = RunContext(settings)
        return self._pools[key]

    def close(self) -> None:
        for pool in self._pools.values():
            pool.close()


@dataclass(frozen=True)
class TenantOutcome(Generic[T]):
    """What a per-tenant function came to for one playbook: its ``value``, or the ``error`` it raised in one line
    (then ``value`` is None) and that error's ``exit_code`` (2 bad input, 1 otherwise; 0 without error);
    ``seconds`` of wall time."""

    playbook: Playbook
    value: T | None
    error: str | None
    seconds: float
    exit_code: int = EXIT_OK

    @property
    def ok(self) -> bool:
        return self.error is None


def fan_out(playbooks: list[Playbook], work: Callable[[Playbook, RunContext], T], *, parallel: int = 4,
            max_in_flight_per_host: int | None = None,
            sm_creates_per_minute: float = SM_CREATES_PER_MINUTE) -> list[TenantOutcome[T]]:
    """``work(playbook, context)`` for every playbook, at most ``parallel`` at once, → one :class:`TenantOutcome` per
    playbook, in the playbooks' order. Tenants with the same transport settings share one run context, and
    with it their sign-ins for identical credentials, the subaccount list, the in-flight cap per API host and the
    Service Manager instance-create budget (:mod:`provisioner.clients.fleetshare`, :mod:`provisioner.clients.budget`).
    An error
    (:class:`ProvisionerError`, :class:`~provisioner.errors.BadInput` included, or a bug) in one tenant is that
    tenant's ``error``; the others go on. ``work`` must be safe to call from several threads at once."""
    pools = Pools(max_in_flight_per_host, sm_creates_per_minute)
    for pb in playbooks:  # the same run context for tenants with the same settings (created before the threads)
        pools.for_playbook(pb)

    def one(pb: Playbook) -> TenantOutcome[T]:
        started = time.monotonic()
        try:
            return TenantOutcome(pb, work(pb, pools.for_playbook(pb)), None, time.monotonic() - started)
        except ProvisionerError as exc:  # BadInput included (exit code 2)
            error, code = str(exc), exc.exit_code
        except Exception as exc:  # noqa: BLE001 - one tenant's crash must not stop the others
            error, code = f"unexpected {type(exc).__name__} (a bug; please report it)", EXIT_FAILED
        return TenantOutcome(pb, None, error, time.monotonic() - started, code)

    try:
        with ThreadPoolExecutor(max_workers=max(1, parallel), thread_name_prefix="tenant") as ex:
            return list(ex.map(one, playbooks))
    finally:
        pools.close()


def key_leases(pb: Playbook, say: Callable[[str], None]) -> AbstractContextManager[None]:
    """The leases of the tenant's key files (one per purpose, :mod:`provisioner.keys.keylease`), held for its run: two
    runs never write one key file at once (another tenant's run: that tenant fails at once, one line naming the
    path and the holder; the same tenant's: waited for, ``say`` gets the line)."""
    def told(line: str) -> None:
        log.warning("%s", line)
        say(line)

    paths = [pb.for_purpose(purpose).download_path for purpose in pb.tenant.purposes]
    return hold_all(paths, tenant=pb.tenant.subdomain, command=f"provisioner run {pb.source}", wait=lease_wait(pb),
                    say=told)


def run_many(playbooks: list[Playbook], *, parallel: int = 4, dry_run: bool = False, force: bool = False,
             max_in_flight_per_host: int | None = None, poll: WaitSettings | None = None,
             sm_creates_per_minute: float = SM_CREATES_PER_MINUTE,
             on_step: Callable[[RunResult, StepResult], None] | None = None,
             on_start: Callable[[RunResult, str], None] | None = None) -> list[RunResult]:
    """Run (or plan) every playbook with :func:`fan_out`; results in the playbooks' order. A tenant that could
    not run at all (an error outside its steps) gets one step ``run`` ``failed`` (a plan: ``error``); one stopped by
    bad input found while running is a :class:`BadInputResult` (``run`` exits 2)."""

    def one(pb: Playbook, ctx: RunContext) -> RunResult:
        if dry_run:  # a plan writes no key file
            return run(pb, dry_run=True, ctx=ctx, poll=poll, on_step=on_step, on_start=on_start)
        waited: list[str] = []
        with key_leases(pb, waited.append):
            result = run(pb, force=force, ctx=ctx, poll=poll, on_step=on_step, on_start=on_start)
        result.notes[:0] = waited
        return result

    results = []
    for out in fan_out(playbooks, one, parallel=parallel, max_in_flight_per_host=max_in_flight_per_host,
                       sm_creates_per_minute=sm_creates_per_minute):
        if out.value is not None:
            results.append(out.value)
            continue
        pb = out.playbook
        kind = BadInputResult if out.exit_code == EXIT_BAD_INPUT else RunResult
        result = kind(pb.source, pb.tenant.subdomain, era_of(pb.tenant.provisioned), dry_run, seconds=out.seconds)
        failed = StepResult("run", "error" if dry_run else FAILED, [], result.seconds, out.error)
        result.steps.append(failed)
        if on_step is not None:
            on_step(result, failed)
        results.append(result)
    return results
