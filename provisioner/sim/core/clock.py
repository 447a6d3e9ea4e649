"""The simulator's replaceable clock: job progress and latency injection read and wait on it.

Wall-clock values (token `iat`/`exp`, timestamps, `X-RateLimit-Reset`) use `time.time()` instead.
"""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    """A monotonic clock: `monotonic()` in seconds (any origin) and `sleep(seconds)`."""

    def monotonic(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...


class SystemClock:
    """The real clock: `time.monotonic` and `time.sleep`."""

    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)
