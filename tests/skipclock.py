"""A clock for tests: real time plus skips. ``sleep(seconds)`` moves the clock ahead at once instead of blocking,
so backoff, polling pauses and the simulator's jobs and latency cost no real time, while time still passes for
whatever does not sleep (another process, a request in flight). One instance is shared by the tool
(``provisioner.clock.use``) and the simulator (``Simulator(clock=...)``) in a test."""

from __future__ import annotations

import threading
import time


class SkipClock:
    def __init__(self) -> None:
        self._skipped = 0.0
        self._lock = threading.Lock()

    def monotonic(self) -> float:
        return time.monotonic() + self._skipped

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            with self._lock:
                self._skipped += seconds
        time.sleep(0)  # let other threads run, as a real sleep would
