"""The one place the provisioning code takes time from: ``monotonic()`` (seconds) and ``sleep(seconds)``.

Waits (:mod:`provisioner.wait`), step retries (tenacity), the entitlement lock retry and the HTTP layer's backoff
(urllib3 ``Retry``) all call these two functions, so a test (or an embedding program) replaces time for all of them
with :func:`use`: for example a clock whose ``sleep`` skips ahead instead of blocking. Wall-clock time
(``time.time()``: token expiry, ``Retry-After`` dates) is not affected.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol


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
            time.sleep(seconds)


_current: Clock = RealClock()


def monotonic() -> float:
    """Seconds from the current clock (only differences count)."""
    return _current.monotonic()


def sleep(seconds: float) -> None:
    """Pause ``seconds`` on the current clock."""
    _current.sleep(seconds)


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
