"""The one place the provisioning code takes time from: ``monotonic()`` (seconds) and ``sleep(seconds)``.

Waits (:mod:`provisioner.wait`), step retries (tenacity), the entitlement lock retry and the HTTP layer's backoff
(urllib3 ``Retry``) all call these two functions, so a test (or an embedding program) replaces time for all of them
with :func:`use`: for example a clock whose ``sleep`` skips ahead instead of blocking. Wall-clock time
(``time.time()``: token expiry, ``Retry-After`` dates) is not affected.

Cancellation (Ctrl-C, SIGTERM) goes through here too: :func:`cancel` wakes every :func:`sleep` at once, and
:func:`sleep` and :func:`check_cancelled` (which the HTTP layer calls before each request) then raise
:class:`~provisioner.errors.Interrupted`, so waits are abandoned and nothing new is sent.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol

from provisioner.errors import Interrupted

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
    :func:`cancel` was called (before or during the pause)."""
    check_cancelled()
    _current.sleep(seconds)
    check_cancelled()


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
