"""A request budget shared by the runs of a fleet: a token bucket on :mod:`provisioner.clock`.

SAP Service Manager allows 50 instance creates a minute per client; a fleet creating many instances through one
Service Manager takes a token from the bucket before each ``POST /v1/service_instances``, so it stays under that
rate instead of collecting 429s. The rate is ``HttpSettings.sm_creates_per_minute`` (``--sm-creates-per-minute``).
"""

from __future__ import annotations

import threading

from provisioner import clock

#: Service Manager's documented limit on instance creates per client (per minute)
SM_CREATES_PER_MINUTE = 50.0


class TokenBucket:
    """At most ``capacity`` takes at once, refilled at ``per_minute`` / 60 a second. Thread-safe."""

    def __init__(self, per_minute: float, capacity: float | None = None):
        if per_minute <= 0:
            raise ValueError("per_minute must be positive")
        self.rate = per_minute / 60.0  # tokens per second
        self.capacity = capacity if capacity is not None else per_minute
        self._tokens = self.capacity
        self._stamp = clock.monotonic()
        self._lock = threading.Lock()

    def take(self) -> float:
        """Take one token, waiting (on :mod:`provisioner.clock`) until one is there; returns the seconds waited."""
        with self._lock:  # reserve under the lock, wait outside it: takers queue in order of arrival
            now = clock.monotonic()
            self._tokens = min(self.capacity, self._tokens + (now - self._stamp) * self.rate)
            self._stamp = now
            self._tokens -= 1
            wait = -self._tokens / self.rate if self._tokens < 0 else 0.0
        if wait > 0:
            clock.sleep(wait)
        return wait
