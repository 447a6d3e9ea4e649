"""Many tenants in one command: playbooks run concurrently (``--parallel N`` threads), sharing one session pool
per HTTP settings, whose per-host gate caps the requests in flight to each API host (fixed with ``--max-in-flight
N``, else adaptive: :mod:`provisioner.inflight`); the pool also holds what the runs learn of job durations
(:mod:`provisioner.jobtimes`). One tenant's failure never
stops the others; a crash in one tenant is recorded as that tenant's failure. A run holds the leases of its
tenant's key files throughout (:func:`key_leases`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager
from dataclasses import replace

from provisioner.budget import SM_CREATES_PER_MINUTE
from provisioner.eras import era_of
from provisioner.errors import BadInput, ProvisionerError
from provisioner.http import SessionPool
from provisioner.keylease import hold_all, lease_wait
from provisioner.playbook import Playbook
from provisioner.runner import FAILED, RunResult, StepResult, http_settings, run
from provisioner.wait import WaitSettings

log = logging.getLogger(__name__)


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


def key_leases(pb: Playbook, say: Callable[[str], None]) -> AbstractContextManager[None]:
    """The leases of the tenant's key files (one per purpose, :mod:`provisioner.keylease`), held for its run: two
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
            if dry_run:  # a plan writes no key file
                return run(pb, dry_run=True, pool=pools.for_playbook(pb), poll=poll, on_step=on_step,
                           on_start=on_start)
            waited: list[str] = []
            with key_leases(pb, waited.append):
                result = run(pb, force=force, pool=pools.for_playbook(pb), poll=poll, on_step=on_step,
                             on_start=on_start)
            result.notes[:0] = waited
            return result
        except (BadInput, ProvisionerError) as exc:
            error = str(exc)
        except Exception as exc:  # noqa: BLE001 - one tenant's crash must not stop the others
            error = f"unexpected {type(exc).__name__} (a bug; please report it)"
        result = RunResult(pb.source, pb.tenant.subdomain, era_of(pb.tenant.provisioned), dry_run,
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
