"""Asynchronous jobs (CF `/v3/jobs`, BTP `jobs-management`) on a lazy clock, without background threads.

A job is due its duration after it was started: `faults.job_seconds_by_operation[operation]`, else
`config.job_seconds`, read from the *current* settings (so lowering `job_seconds` through `/_sim/config` also
finishes jobs already running). `Jobs.tick()` runs at the start of every request and completes the due jobs in
creation order, applying their effect then (the "broker" answers at that moment), or, for a job the fault
injector chose to fail when it was started, its failure. While a job runs its phase is computed from the clock:
the first half is phase 0 (CF job `PROCESSING`, last operation `initial`, BTP entity `STARTED`), the second half
phase 1 (`POLLING`, `in progress`, `PROCESSING`). With a duration of 0 a job completes on the next request. A
job whose `hold()` is true (BTP entitlement jobs while `entitlements_stuck`) never completes and stays in phase 1.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from provisioner.sim.core.clock import Clock
from provisioner.sim.core.config import Config
from provisioner.sim.core.faults import FaultInjector
from provisioner.sim.core.ids import iso_now, new_guid


def _never() -> bool:
    return False


@dataclass
class Job:
    """An asynchronous operation: a CF job (`guid`) or a BTP jobs-management job (`number`)."""

    operation: str  # CF: "service_instance.create" ...; BTP: "entitlements.assign"
    effect: Callable[[], str | None]  # applied at completion; returns a failure description or None
    fail: Callable[[str], object] | None = None  # applied instead of `effect` when the job is made to fail
    hold: Callable[[], bool] = _never  # true while the job must not complete
    started: float = 0.0  # clock.monotonic() at start, seconds
    guid: str = field(default_factory=new_guid)
    number: int = 0
    created_at: str = field(default_factory=iso_now)
    updated_at: str = ""
    resource_type: str | None = None  # CF link key: "service_instances", "service_credential_binding"
    resource_guid: str | None = None
    done: bool = False
    failure: str | None = None
    injected_failure: str | None = None  # decided by the fault injector when the job starts

    def __post_init__(self) -> None:
        self.updated_at = self.updated_at or self.created_at

    @property
    def running(self) -> bool:
        return not self.done


class Jobs:
    """Starts jobs, tells their phase and completes the due ones (`tick`). Call under the simulator's lock."""

    def __init__(self, clock: Clock, config: Config, faults: FaultInjector) -> None:
        self.clock = clock
        self.config = config
        self.faults = faults
        self._pending: list[Job] = []
        self._events: list[dict[str, object]] = []

    def start(self, job: Job) -> Job:
        job.started = self.clock.monotonic()
        job.injected_failure = self.faults.job_failure(job.operation)
        self._pending.append(job)
        self._events.append({"event": "start", "operation": job.operation, "started": job.started,
                             "due": job.started + self.seconds(job)})
        return job

    def drain(self) -> list[dict[str, object]]:
        """The jobs started or completed since the last call (for the request journal): ``{"event": "start" |
        "complete", "operation", "started", "due"}`` and, for a completion, ``"completed"``; times are the clock's
        ``monotonic()`` seconds, ``due`` is when the job was due (its start + its duration at that moment)."""
        events, self._events = self._events, []
        return events

    def seconds(self, job: Job) -> float:
        return self.faults.job_seconds(job.operation, self.config.job_seconds)

    def phase(self, job: Job) -> int:
        """0 in the first half of a running job, 1 in the second half (and while it is held)."""
        if job.hold():
            return 1
        return 0 if self.clock.monotonic() - job.started < self.seconds(job) / 2 else 1

    def tick(self) -> None:
        """Complete every due job, oldest first."""
        now = self.clock.monotonic()
        due = [job for job in self._pending if not job.hold() and now - job.started >= self.seconds(job)]
        for job in due:
            self.complete(job)

    def complete(self, job: Job) -> None:
        """Complete `job` now (due or not): its effect, or its injected failure (a synchronous operation)."""
        if job.done:
            return
        self._pending.remove(job)
        if job.injected_failure is None:
            job.failure = job.effect()
        else:
            if job.fail is not None:
                job.fail(job.injected_failure)
            job.failure = job.injected_failure
        job.done = True
        job.updated_at = iso_now()
        self._events.append({"event": "complete", "operation": job.operation, "started": job.started,
                             "due": job.started + self.seconds(job), "completed": self.clock.monotonic()})
