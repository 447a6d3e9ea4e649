"""Many tenants in one command: playbooks run concurrently (``--parallel N`` threads), sharing one session pool
per HTTP settings, whose per-host gate caps the requests in flight to each API host (fixed with ``--max-in-flight
N``, else adaptive: :mod:`provisioner.inflight`); the pool also holds what the runs learn of job durations
(:mod:`provisioner.jobtimes`). One tenant's failure never
stops the others; a crash in one tenant is recorded as that tenant's failure.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace

from provisioner.budget import SM_CREATES_PER_MINUTE
from provisioner.eras import era_of
from provisioner.errors import BadInput, ProvisionerError
from provisioner.http import SessionPool
from provisioner.playbook import Playbook
from provisioner.runner import FAILED, RunResult, StepResult, http_settings, run
from provisioner.wait import WaitSettings


@dataclass
class BadInputResult(RunResult):
    """A tenant that could not run because of bad input found only while running (a key file, a secret, the cf
    CLI's login): its step ``run`` failed with the one line; ``run`` then exits 2, as for bad input found before."""


class Pools:
    """One :class:`SessionPool` per distinct transport settings, shared by every tenant that uses them."""

    def __init__(self, max_in_flight_per_host: int | None,
                 sm_creates_per_minute: float = SM_CREATES_PER_MINUTE):
        self.max_in_flight = max_in_flight_per_host
        self.sm_creates_per_minute = sm_creates_per_minute
        self._pools: dict[tuple[object, ...], SessionPool] = {}

    def for_playbook(self, pb: Playbook) -> SessionPool:
        settings = replace(http_settings(pb, self.max_in_flight), sm_creates_per_minute=self.sm_creates_per_minute)
        key = tuple(vars(settings).values())
        if key not in self._pools:
            self._pools[key] = SessionPool(settings)
        return self._pools[key]

    def close(self) -> None:
        for pool in self._pools.values():
            pool.close()


def run_many(playbooks: list[Playbook], *, parallel: int = 4, dry_run: bool = False, force: bool = False,
             max_in_flight_per_host: int | None = None, poll: WaitSettings | None = None,
             sm_creates_per_minute: float = SM_CREATES_PER_MINUTE,
             on_step: Callable[[RunResult, StepResult], None] | None = None,
             on_start: Callable[[RunResult, str], None] | None = None) -> list[RunResult]:
    """Run (or plan) every playbook, at most ``parallel`` at once; results in the playbooks' order. Tenants with
    the same transport settings share one pool and with it their sign-ins for identical credentials, the
    subaccount list and the Service Manager instance-create budget (``sm_creates_per_minute``; see
    :mod:`provisioner.fleetshare`, :mod:`provisioner.budget`)."""
    pools = Pools(max_in_flight_per_host, sm_creates_per_minute)
    for pb in playbooks:  # the same pool object for tenants with the same settings (created before the threads)
        pools.for_playbook(pb)

    def one(pb: Playbook) -> RunResult:
        started = time.monotonic()
        try:
            return run(pb, dry_run=dry_run, force=force, pool=pools.for_playbook(pb), poll=poll, on_step=on_step,
                       on_start=on_start)
        except (BadInput, ProvisionerError) as exc:
            error, kind = str(exc), (BadInputResult if isinstance(exc, BadInput) else RunResult)
        except Exception as exc:  # noqa: BLE001 - one tenant's crash must not stop the others
            error, kind = f"unexpected {type(exc).__name__} (a bug; please report it)", RunResult
        result = kind(pb.source, pb.tenant.subdomain, era_of(pb.tenant.provisioned), dry_run,
                      seconds=time.monotonic() - started)
        failed = StepResult("run", "error" if dry_run else FAILED, [], result.seconds, error)
        result.steps.append(failed)
        if on_step is not None:
            on_step(result, failed)
        return result

    try:
        with ThreadPoolExecutor(max_workers=max(1, parallel), thread_name_prefix="tenant") as ex:
            return list(ex.map(one, playbooks))
    finally:
        pools.close()
