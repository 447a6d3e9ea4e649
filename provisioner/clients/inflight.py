"""The cap on requests in flight to one API host, over every tenant of a fleet: fixed (``--max-in-flight N``) or
adaptive (the default), additive increase / multiplicative decrease as TCP does it.

Adaptive: the cap starts at :data:`START` and grows by one for every fast successful answer (an answer that is
not a 429 or a 5xx and took at most :data:`SLOW_FACTOR` × the host's recent median for that kind of request:
reads, writes) until the first back-off, then
by one per cap's worth of such answers, never above :data:`CEILING`. It halves (never below :data:`FLOOR`) on an
HTTP 429 (also one the HTTP layer retried) or an answer much slower than the recent median; requests sent before a
halving cannot halve it again, so one burst of 429s halves it once. The cap is what a fleet learns of a host: how
much concurrency it answers quickly, and when it asks the client to slow down.
"""

from __future__ import annotations

import statistics
import threading
from collections import deque
from dataclasses import dataclass

from provisioner import safetext

log = safetext.logger("provisioner.http")

#: the adaptive cap: where it starts, the lowest and highest it goes
START = 16
FLOOR = 2
CEILING = 128
#: an answer this many times slower than the host's recent median (and at least MIN_SLOW seconds) is "slow"
SLOW_FACTOR = 4.0
MIN_SLOW = 0.25
#: answers the median is taken over; the slow test needs at least MIN_SAMPLES of them
WINDOW = 64
MIN_SAMPLES = 16


@dataclass(frozen=True)
class CapReport:
    """What a host's cap did: ``cap`` now, the ``lowest`` and ``highest`` it reached, how many times it halved
    (``backoffs``: on 429 or slow answers), and whether it is ``fixed`` (``--max-in-flight N``)."""

    cap: int
    lowest: int
    highest: int
    backoffs: int
    fixed: bool


class InFlightCap:
    """A gate for the requests to one host. ``enter()`` blocks while ``cap`` requests are in flight and returns a
    ticket; ``leave(ticket, seconds, status, throttled, write)`` frees the slot and (when adaptive) adjusts the cap
    from the answer: ``seconds`` it took, its HTTP ``status`` (None: no answer), ``throttled`` when a 429 was
    retried on the way, ``write`` for a request that is not a GET or HEAD (writes are compared with writes: they
    take longer). ``fixed``: a cap that never moves."""

    def __init__(self, cap: int | None = None) -> None:
        self.fixed = cap is not None
        self._cap = float(max(1, cap) if cap is not None else START)
        self._lowest = self._highest = int(self._cap)
        self._in_flight = 0
        self._backoffs = 0
        self._epoch = 0
        self._grown_fast = True  # slow start: +1 an answer until the first back-off
        self._seconds: dict[bool, deque[float]] = {False: deque(maxlen=WINDOW), True: deque(maxlen=WINDOW)}
        self._cond = threading.Condition()

    @property
    def cap(self) -> int:
        """The number of requests allowed in flight now."""
        return int(self._cap)

    def enter(self) -> int:
        """Wait for a free slot; → the ticket to pass to :meth:`leave`."""
        with self._cond:
            while self._in_flight >= int(self._cap):
                self._cond.wait()
            self._in_flight += 1
            return self._epoch

    def leave(self, ticket: int, seconds: float, status: int | None, throttled: bool = False,
              write: bool = False) -> None:
        """Free the slot taken by :meth:`enter`; adapt the cap to the answer (see the class)."""
        with self._cond:
            self._in_flight -= 1
            if not self.fixed and status is not None:
                self._adapt(ticket, seconds, status, throttled, write)
            # wake as many waiters as there are free slots now (not all of them: at a cap that binds, dozens of
            # threads would wake for one slot and all but one wait again)
            free = int(self._cap) - self._in_flight
            if free > 0:
                self._cond.notify(free)

    def _adapt(self, ticket: int, seconds: float, status: int, throttled: bool, write: bool) -> None:
        if status == 429 or throttled:
            self._back_off(ticket, "429")
            return
        recent = self._seconds[write]
        slow = len(recent) >= MIN_SAMPLES and seconds > max(MIN_SLOW, SLOW_FACTOR * statistics.median(recent))
        recent.append(seconds)  # slow ones too: a host that stays slower becomes the new normal
        if slow:
            self._back_off(ticket, f"a {seconds:.3f} s answer")
            return
        if status >= 500:
            return
        self._cap = min(float(CEILING), self._cap + (1.0 if self._grown_fast else 1.0 / self._cap))
        self._highest = max(self._highest, int(self._cap))

    def _back_off(self, ticket: int, why: str) -> None:
        if ticket != self._epoch:  # sent before the last halving: that one already answered this burst
            return
        self._epoch += 1
        self._backoffs += 1
        self._grown_fast = False
        self._cap = max(float(FLOOR), self._cap / 2)
        self._lowest = min(self._lowest, int(self._cap))
        log.debug("in-flight cap halved to %d (%s)", int(self._cap), why)

    def report(self) -> CapReport:
        """What the cap did so far."""
        with self._cond:
            return CapReport(int(self._cap), self._lowest, self._highest, self._backoffs, self.fixed)
