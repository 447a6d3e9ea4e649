"""The one place the provisioning code takes time from: ``monotonic()`` (seconds) and ``sleep(seconds)``.

Waits (:mod:`provisioner.waits.wait`), step retries (tenacity), the entitlement lock retry and the HTTP layer's backoff
(urllib3 ``Retry``) all call these two functions, so a test (or an embedding program) replaces time for all of them
with :func:`use`: for example a clock whose ``sleep`` skips ahead instead of blocking. Wall-clock time
(``time.time()``: token expiry, ``Retry-After`` dates) is not affected.

Cancellation (Ctrl-C, SIGTERM) goes through here too: :func:`cancel` wakes every :func:`sleep` at once, and
:func:`sleep` and :func:`check_cancelled` (which the HTTP layer calls before each request) then raise
:class:`~provisioner.errors.Interrupted`, so waits are abandoned and nothing new is sent.

So does the run's time limit (``--timeout``, ``timeouts.run``): :func:`deadline` sets it for the calling thread
and what it starts with a copy of its context (the steps of a run, reads sent at once); :func:`sleep` refuses a
pause that would end after it (:class:`~provisioner.errors.RunTimeout`), waits and the HTTP layer read
:func:`current_deadline` and :func:`remaining` to end on time.
"""

from __future__ import annotations

import contextvars
import math
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Protocol

from provisioner.errors import Interrupted, RunTimeout

_cancelled = threading.Event()


class Clock(Protocol):
    """What a clock offers: ``monotonic()`` in seconds (only differences count) and ``sleep(seconds)``."""

    def monotonic(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...


class RealClock:
    """``time.monotonic`` and ``time.sleep``."""

    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            _cancelled.wait(seconds)  # time.sleep, but woken at once by cancel()


_current: Clock = RealClock()


def monotonic() -> float:
    """Seconds from the current clock (only differences count)."""
    return _current.monotonic()


def sleep(seconds: float) -> None:
    """Pause ``seconds`` on the current clock. Raises :class:`~provisioner.errors.Interrupted` once
    :func:`cancel` was called (before or during the pause), :class:`~provisioner.errors.RunTimeout` at once (no
    pause) when the pause would end after the run's time limit (:func:`deadline`)."""
    check_cancelled()
    limit = _deadline.get()
    if limit is not None and seconds > 0 and monotonic() + seconds > limit.at + SLACK:
        raise RunTimeout(f"{limit.describe()} runs out in {max(0.0, limit.at - monotonic()):.1f} s, before a "
                         f"pause of {seconds:.1f} s ends; re-run (what is in flight is adopted) or raise --timeout")
    _current.sleep(seconds)
    check_cancelled()


#: seconds a pause may end after the time limit (rounding of callers that pause exactly up to it)
SLACK = 0.01


@dataclass(frozen=True)
class Deadline:
    """The run's time limit: ``at`` (seconds on :func:`monotonic`) and the ``seconds`` it was given."""

    at: float
    seconds: float

    def describe(self) -> str:
        return f"the run's time limit of {self.seconds:g} s (--timeout, timeouts.run)"


_deadline: contextvars.ContextVar[Deadline | None] = contextvars.ContextVar("provisioner_deadline", default=None)


@contextmanager
def deadline(seconds: float | None) -> Iterator[Deadline | None]:
    """The run's time limit: ``seconds`` from now (None: none) for the ``with`` block, in this thread and in
    what it starts with a copy of its context (``contextvars.copy_context``)."""
    if seconds is None:
        yield None
        return
    limit = Deadline(monotonic() + seconds, seconds)
    token = _deadline.set(limit)
    try:
        yield limit
    finally:
        _deadline.reset(token)


def current_deadline() -> Deadline | None:
    """The run's time limit in this context, or None."""
    return _deadline.get()


def remaining() -> float:
    """Seconds left before the run's time limit (``math.inf`` without one; negative once it passed)."""
    limit = _deadline.get()
    return math.inf if limit is None else limit.at - monotonic()


def cancel() -> None:
    """Stop: wake every pause now; from here on :func:`sleep` and :func:`check_cancelled` raise
    :class:`~provisioner.errors.Interrupted` (the CLI calls this on the first Ctrl-C or SIGTERM)."""
    _cancelled.set()


def cancelled() -> bool:
    """Whether :func:`cancel` was called."""
    return _cancelled.is_set()


def check_cancelled(what: str = "") -> None:
    """Raise :class:`~provisioner.errors.Interrupted` if :func:`cancel` was called (``what``: what is not done)."""
    if _cancelled.is_set():
        raise Interrupted(f"interrupted{' before ' + what if what else ''}; re-run to converge (what is in flight "
                          "is adopted)")


def reset_cancel() -> None:
    """Forget a :func:`cancel` (a new command in the same process)."""
    _cancelled.clear()


def current() -> Clock:
    return _current


@contextmanager
def use(clock: Clock) -> Iterator[Clock]:
    """Make ``clock`` the clock of every wait, retry and backoff until the ``with`` block ends."""
    global _current
    previous, _current = _current, clock
    try:
        yield clock
    finally:
        _current = previous
