"""Polling for async operations: CF jobs, ``last_operation``, Service Manager operations, BTP entitlement jobs and
assignment states.

The first read comes right after the request (it catches operations the API completed at once); the later ones
follow :func:`provisioner.jobtimes.next_read`: without history a gap of 5 % of the time waited (0.1 s to 5 s), so a
job is noticed within ``max(0.1 s, 5 % of its duration)``; with what the runs of this process learned of the same
kind of job (:class:`~provisioner.jobtimes.JobTimes`, shared by a fleet through its session pool) it sleeps until
shortly before the short end of the recent durations, then reads densely, never more often than the schedule
used before (10 % of the time waited). After ``timeout`` seconds a :class:`~provisioner.errors.WaitTimeout` says
what was still pending and that a re-run adopts the in-flight resource.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from provisioner import clock
from provisioner.errors import Interrupted, WaitTimeout
from provisioner.jobtimes import LAG_FLOOR, LAG_RATIO, Gaps, JobTimes, next_read

T = TypeVar("T")


@dataclass(frozen=True)
class WaitSettings:
    """Timeout and polling, in seconds (``ratio`` is a fraction of the time waited so far); ``times``: the job
    durations learned by the runs of this process (None: no learning, every wait reads on the no-history rhythm)."""

    timeout: float = 600.0
    first_interval: float = LAG_FLOOR
    max_interval: float = 5.0
    ratio: float = LAG_RATIO
    times: JobTimes | None = field(default=None, compare=False, repr=False)

    @property
    def gaps(self) -> Gaps:
        """The rhythm of dense reading."""
        return Gaps(first=self.first_interval, ratio=self.ratio, longest=self.max_interval)

    def pause(self, waited: float) -> float:
        """The pause (seconds) after ``waited`` seconds of waiting on something with no learned duration."""
        return self.gaps.after(waited)


def poll(read: Callable[[], T], done: Callable[[T], bool], *, settings: WaitSettings, what: str,
         describe: Callable[[T], str] | None = None, kind: Callable[[T], str] | None = None) -> T:
    """Call ``read()`` until ``done(value)``; return the value.

    ``done`` may raise to stop early (for example on a FAILED job). ``kind(first value)`` names the kind of job
    (API host and operation) whose durations ``settings.times`` learns and plans by. Raises :class:`WaitTimeout`
    after ``settings.timeout`` seconds, naming ``what`` and the state still awaited (``describe(value)``), and
    :class:`~provisioner.errors.Interrupted` at once on Ctrl-C / SIGTERM (:func:`provisioner.clock.cancel`).
    """
    start = clock.monotonic()
    reads, last_running, name = 0, 0.0, None
    while True:
        sent = clock.monotonic() - start
        value = read()
        reads += 1
        if name is None and kind is not None and settings.times is not None:
            name = kind(value)
        if done(value):
            if name is not None and settings.times is not None and reads > 1:
                settings.times.record(name, last_running, clock.monotonic() - start)
            return value
        last_running = sent
        waited = clock.monotonic() - start
        if not waited < settings.timeout:  # also ends a NaN timeout
            state = describe(value) if describe else "still in progress"
            raise WaitTimeout(f"{what}: {state} after {settings.timeout:g} s; it goes on in the landscape: "
                              "re-run the playbook to adopt it (or raise the timeout with --timeout)")
        dense_from = settings.times.dense_from(name) if name is not None and settings.times is not None else None
        # the schedule counts from when a read returned: a read slowed by a busy host is not followed by another
        # at once, so a loaded fleet reads less, as the fixed rhythm before did
        # (with history, around the expected end, the reads keep the schedule's times: counted from when the read
        # was sent, never more than the schedule allows)
        anchor = sent if dense_from is not None and sent >= dense_from else waited
        pause = next_read(reads, anchor, dense_from, settings.gaps) - waited
        try:
            clock.sleep(max(0.0, min(pause, settings.timeout - waited)))
        except Interrupted:
            state = describe(value) if describe else "still in progress"
            raise Interrupted(f"{what}: interrupted while waiting ({state}); it goes on in the landscape: re-run "
                              "the playbook to adopt it") from None
