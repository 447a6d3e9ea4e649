"""The plain wait: :func:`wait_for`, as Terraform's ``StateChangeConf`` (``Pending``, ``Target``, ``Refresh``,
``Timeout``, ``Delay``): read the state until it is a target state, fail on a state that is neither pending nor a
target, stop after a timeout.

How often it reads is a strategy behind it. Without one, the reads follow the no-history gaps of
:class:`~provisioner.waits.jobtimes.Gaps` (5 % of the time waited, 0.1 s to 5 s). With a :class:`Learned` strategy
the reads plan by what the runs learned of the same kind of job (:class:`~provisioner.waits.jobtimes.JobTimes`,
:func:`provisioner.waits.wait.poll`); README "Waits and timeouts" says when that is on.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Generic, TypeVar

from provisioner.errors import StepFailed
from provisioner.waits.jobtimes import Gaps, JobTimes
from provisioner.waits.wait import WaitSettings, poll

T = TypeVar("T")


@dataclass(frozen=True)
class Learned(Generic[T]):
    """The learned scheduling: ``times`` the job durations learned (shared by a run or a fleet), ``kind(value)``
    the kind of job a read value is (API host and operation, e.g. ``api.cf.example.com cf service_instance.create``)
    whose durations are learned and planned by; ``near`` (optional) the read around the learned end instead of the
    refresh (see :func:`provisioner.waits.wait.poll`)."""

    times: JobTimes
    kind: Callable[[T], str]
    near: Callable[[], tuple[T, str]] | None = None


class UnexpectedState(StepFailed):
    """A wait read a state that is neither pending nor a target (exit code 1)."""


def wait_for(refresh: Callable[[], tuple[T, str]], pending: Collection[str], target: Collection[str],
             timeout: float, delay: Gaps | None = None, *, what: str,
             describe: Callable[[T], str] | None = None, learned: Learned[T] | None = None,
             origin: float | None = None) -> T:
    """Call ``refresh()`` → ``(value, state)`` until ``state`` is in ``target``; → that value.

    The first read comes right after the call (an operation done at once costs no pause), the next ones after the
    gaps of ``delay`` (None: the defaults of :class:`~provisioner.waits.jobtimes.Gaps`), or planned by ``learned``.
    ``refresh`` may raise to stop early (for example on a failed job, with its error). A state in neither set raises
    :class:`UnexpectedState` naming it and the expected ones. After ``timeout`` seconds from ``origin``
    (:func:`provisioner.waits.wait.started`; None: from the first read), or sooner when the run's time limit ends,
    :class:`~provisioner.errors.WaitTimeout` names ``what`` and the state still pending (``describe(value)``, else
    the state's name); :class:`~provisioner.errors.Interrupted` on Ctrl-C / SIGTERM.
    """
    expected = [*target, *pending]

    def done(seen: tuple[T, str]) -> bool:
        state = seen[1]
        if state in target:
            return True
        if state in pending:
            return False
        raise UnexpectedState(f"{what}: unexpected state {state!r} (expected {', '.join(map(repr, expected))})")

    gaps = delay or Gaps()
    settings = WaitSettings(timeout=timeout, first_interval=gaps.first, max_interval=gaps.longest, ratio=gaps.ratio,
                            times=learned.times if learned is not None else None, origin=origin)
    kind = learned.kind if learned is not None else None
    seen = poll(refresh, done, settings=settings, what=what,
                describe=lambda s: describe(s[0]) if describe is not None else f"state is {s[1]}",
                kind=(lambda s: kind(s[0])) if kind is not None else None,
                near=learned.near if learned is not None else None)
    return seen[0]


def plan(settings: WaitSettings, kind: Callable[[T], str],
         near: Callable[[], tuple[T, str]] | None = None) -> Learned[T] | None:
    """The strategy the poll settings ask for: :class:`Learned` when they carry learned job times, else None (the
    plain gaps)."""
    return Learned(settings.times, kind, near) if settings.times is not None else None
