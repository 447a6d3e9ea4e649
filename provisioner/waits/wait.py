"""Polling for async operations: CF jobs, ``last_operation``, Service Manager operations, BTP entitlement jobs and
assignment states.

The first read comes right after the request (it catches operations the API completed at once); the later ones
follow :func:`provisioner.waits.jobtimes.next_read`: without history a gap of 5 % of the time waited (0.1 s to 5 s),
so a
job is noticed within ``max(0.1 s, 5 % of its duration)``; with what the runs of this process learned of the same
kind of job (:class:`~provisioner.waits.jobtimes.JobTimes`, shared by a fleet through its session pool) it sleeps until
the expected end (less the span the recent waits leave it open), then sends one to three reads 10 ms apart, in
flight at once, so the read that sees the job done reaches the server a few milliseconds after its end; never more reads
than the schedule used before (10 % of the time waited). After ``timeout`` seconds a
:class:`~provisioner.errors.WaitTimeout` says what was still pending and that a re-run adopts the in-flight
resource.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future
from concurrent.futures import wait as futures_wait
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from provisioner import clock
from provisioner.errors import Interrupted, WaitTimeout
from provisioner.threads import helpers, in_step
from provisioner.waits.jobtimes import (
    AROUND,
    IN_FLIGHT,
    LAG_FLOOR,
    LAG_RATIO,
    Gaps,
    JobTimes,
    in_window,
    next_read,
    window,
)

T = TypeVar("T")

#: seconds a wait blocks on reads in flight before it looks for a cancellation again (a read may take up to the
#: HTTP read timeout)
ANSWER_WAIT = 0.25


@dataclass(frozen=True)
class WaitSettings:
    """Timeout and polling, in seconds (``ratio`` is a fraction of the time waited so far); ``times``: the job
    durations learned by the runs of this process (None: no learning, every wait reads on the no-history rhythm)."""

    timeout: float = 600.0
    first_interval: float = LAG_FLOOR
    max_interval: float = 5.0
    ratio: float = LAG_RATIO
    times: JobTimes | None = field(default=None, compare=False, repr=False)
    #: when the job started, as the client can tell (:func:`started`: ``clock.monotonic()`` half way through the
    #: request that started it); the waits' times count from it. None: from the first read
    origin: float | None = field(default=None, compare=False, repr=False)

    @property
    def gaps(self) -> Gaps:
        """The rhythm of dense reading."""
        return Gaps(first=self.first_interval, ratio=self.ratio, longest=self.max_interval)

    def pause(self, waited: float) -> float:
        """The pause (seconds) after ``waited`` seconds of waiting on something with no learned duration."""
        return self.gaps.after(waited)


def started(request: Callable[[], T]) -> tuple[T, float]:
    """Send ``request`` (one that starts an asynchronous job) → (its value, the job's origin for
    :attr:`WaitSettings.origin`: ``clock.monotonic()`` half way through its round trip, about when the server
    received it). A wait timed from there does not count the client's own work after the answer, which varies
    from run to run, into the job durations it learns."""
    before = clock.monotonic()
    value = request()
    return value, (before + clock.monotonic()) / 2


def poll(read: Callable[[], T], done: Callable[[T], bool], *, settings: WaitSettings, what: str,
         describe: Callable[[T], str] | None = None, kind: Callable[[T], str] | None = None,
         near: Callable[[], T] | None = None) -> T:
    """Call ``read()`` until ``done(value)``; return the value.

    ``done`` may raise to stop early (for example on a FAILED job). ``kind(first value)`` names the kind of job
    (API host and operation) whose durations ``settings.times`` learns and plans by; around the learned end the
    reads of :func:`~provisioner.waits.jobtimes.window` are sent on time, up to
    :data:`~provisioner.waits.jobtimes.IN_FLIGHT`
    at once (``read`` is then called from helper threads: it must be thread-safe, as the HTTP clients are), the
    others one after another in the calling thread. ``near`` (optional) replaces ``read`` for the reads of that
    burst and those after it up to :data:`~provisioner.waits.jobtimes.AROUND` times the learned end: a read of what the
    job makes (it then needs no read after the wait), where ``read`` tells a failure too (the reads after that
    use it again). Raises :class:`WaitTimeout` after ``settings.timeout`` seconds (or sooner, when the run's time limit,
    :func:`provisioner.clock.deadline`, ends before),
    naming ``what`` and the state still awaited (``describe(value)``), and
    :class:`~provisioner.errors.Interrupted` at once on Ctrl-C / SIGTERM (:func:`provisioner.clock.cancel`); an
    exception of ``read`` propagates.
    """
    return _Poll(read, done, settings, what, describe, kind, near).run()


class _Poll(Generic[T]):
    """One wait: the reads sent (their times, seconds since the first read), those in flight, what was learned."""

    def __init__(self, read: Callable[[], T], done: Callable[[T], bool], settings: WaitSettings, what: str,
                 describe: Callable[[T], str] | None, kind: Callable[[T], str] | None,
                 near: Callable[[], T] | None = None) -> None:
        self.read, self.done, self.settings, self.what = read, done, settings, what
        self.near = near or read
        self.describe, self.kind = describe, kind
        now = clock.monotonic()
        self.start = settings.origin if settings.origin is not None and settings.origin <= now else now
        #: seconds from the start: the step's timeout, or less when the run's time limit ends sooner
        self.timeout = min(settings.timeout, now - self.start + clock.remaining())
        self.limit = clock.current_deadline() if self.timeout < settings.timeout else None
        self.reads = 0
        self.last_running = 0.0
        self.last_value: T | None = None
        self.name: str | None = None
        self.expected: float | None = None
        self.spread = 0.0
        self.in_flight: dict[Future[tuple[float, T]], float] = {}
        self.next_at = 0.0

    def now(self) -> float:
        return clock.monotonic() - self.start

    def run(self) -> T:
        try:
            found = self._first()
            while found is None:
                found = self._step()
            return found[0]
        finally:
            for future in self.in_flight:  # reads still in flight end on their own; their answers are not needed
                future.cancel()

    def _first(self) -> tuple[T] | None:
        """The first read, right after the request (it catches operations completed at once)."""
        sent = self.now()
        value = self.read()
        self.reads = 1
        if self.kind is not None and self.settings.times is not None:
            self.name = self.kind(value)
            self.expected, self.spread = self.settings.times.estimate(self.name)
        if self.done(value):
            return (value,)
        self.last_value = value
        self.last_running = sent
        self.next_at = self._after(sent, self.now())
        return None

    def _after(self, sent: float, answered: float) -> float:
        """The next read's time after a read sent at ``sent`` that found the job running (answered at
        ``answered``): the schedule's, counted from when the read was sent (so the read that sees the job done
        reaches the server within the schedule's gap of its end, the round trip included); but when the read took
        longer than that gap (a busy host), counted from when it returned: such a read is not followed by another
        at once, so a loaded fleet reads less. From the burst around a learned end on, always from when it was
        sent (the reads keep the schedule's times)."""
        own = next_read(self.reads, sent, self.expected, self.settings.gaps, self.spread)
        burst_on = self.expected is not None and sent >= window(self.expected, self.spread)[0] - 1e-9
        if own >= answered or burst_on:
            return own
        return next_read(self.reads, answered, self.expected, self.settings.gaps, self.spread)

    def _step(self) -> tuple[T] | None:
        """Take the answers back, send the next read when it is due, or wait for it (or for an answer in flight);
        → the value when done."""
        finished = [f for f in self.in_flight if f.done()]
        if finished:
            for f in finished:
                del self.in_flight[f]
            return self._seen(dict(f.result() for f in finished))
        now = self.now()
        if not now < self.timeout:  # also ends a NaN timeout
            if self.limit is not None:
                after = f"after {self.timeout:.1f} s, when {self.limit.describe()} ran out"
            else:
                after = f"after {self.timeout:g} s (the step's timeout: raise it under timeouts: in the playbook)"
            raise WaitTimeout(f"{self.what}: {self._state()} {after}; it goes on in the landscape: re-run the "
                              "playbook to adopt it")
        burst = in_window(self.next_at, self.expected, self.spread)
        if not self.in_flight and not burst:
            if now < self.next_at:
                self._pause(self.next_at - now)
                return None
            value = (self.near if self._near_end(now) else self.read)()  # one read at a time, in this thread
            self.reads += 1
            found = self._seen({now: value})
            if found is None:
                self.next_at = self._after(now, self.now())
            return found
        slot = burst and len(self.in_flight) < IN_FLIGHT
        if slot and now >= self.next_at:
            self.in_flight[helpers().submit(in_step(self._sent_read))] = now
            self.reads += 1
            self.next_at = next_read(self.reads, now, self.expected, self.settings.gaps, self.spread)
            return None
        if not self.in_flight:
            self._pause(self.next_at - now)
            return None
        # wait for an answer, or until the next read of the burst is due (a request in flight takes real time);
        # at most ANSWER_WAIT seconds at a time, so that Ctrl-C is noticed while a read is in flight
        until = min(self.next_at - now, self.timeout - now, ANSWER_WAIT) if slot else ANSWER_WAIT
        futures_wait(list(self.in_flight), timeout=until, return_when=FIRST_COMPLETED)
        clock.check_cancelled(self.what)
        return None

    def _sent_read(self) -> tuple[float, T]:
        """A read of the burst, in a helper thread → (when it was sent, its value): the time is taken there, as the
        request leaves (on a busy machine a helper may start a little after it was asked to), so the brackets
        learned are those the server saw."""
        sent = self.now()
        return sent, self.near()

    def _near_end(self, t: float) -> bool:
        """Whether a read at ``t`` seconds is one around the learned end (the burst, then up to
        :data:`~provisioner.waits.jobtimes.AROUND` times that end): ``near`` reads it."""
        if self.expected is None:
            return False
        return window(self.expected, self.spread)[0] - 1e-9 <= t < self.expected * AROUND

    def _seen(self, answers: dict[float, T]) -> tuple[T] | None:
        """Check the answers (by when each read was sent, earliest first) → the first that is done (its duration
        learned); else note the latest read that found the job running."""
        for sent in sorted(answers):
            value = answers[sent]
            if self.done(value):
                if self.name is not None and self.settings.times is not None:
                    self.settings.times.record(self.name, self.last_running, sent)
                return (value,)
            self.last_value = value
            self.last_running = max(self.last_running, sent)
        return None

    def _pause(self, seconds: float) -> None:
        try:
            clock.sleep(max(0.0, min(seconds, self.timeout - self.now())))
        except Interrupted:
            raise Interrupted(f"{self.what}: interrupted while waiting ({self._state()}); it goes on in the "
                              "landscape: re-run the playbook to adopt it") from None

    def _state(self) -> str:
        if self.describe is not None and self.last_value is not None:
            return self.describe(self.last_value)
        return "still in progress"
