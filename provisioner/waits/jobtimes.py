"""When to read an async job again: the poll schedule (a pure function) and what the runs of a process learned of
how long each kind of job takes (:class:`JobTimes`).

Times are seconds since the job's origin: half way through the request that started it (about when the server
received it, :func:`provisioner.waits.wait.started`), else the first read, which comes right after that request (it
catches jobs the API completed at once); :func:`provisioner.waits.wait.poll` counts each gap from when the previous read
was sent (so the lag the schedule gives holds at the server, the round trip included), or, when that read took
longer than the gap (a busy host), from when it returned (it is not followed by another at once), except from the
burst around a learned end on (history), where the reads always keep the schedule's times. A read "at ``t``" is
one sent then: it sees the job as the server finds it a round trip's outbound half later, and the learned ends are
measured on the same reads, so that half is part of them. The lag of a schedule is the time from a job's
completion to the read that sees it; the target is at most ``max(0.1 s, 5 % of the job)`` (:func:`lag_bound`).

- Without history the gap after a read at ``t`` is ``max(0.1, 0.05 t)`` seconds, at most 5 s: whatever the job's
  duration, the next read sees it within the bound.
- With history (:meth:`JobTimes.expected`: each finished wait brackets the end between its last read that found
  the job running and its first that found it done; the span the recent brackets agree on, else the lower
  quartile of their middles, :func:`agreement`), the schedule reads once right away, then sleeps until a little
  before the expected end and reads a short burst around it (:func:`window`: :data:`LEAD` reads before it and
  :data:`TRAIL` after, or over the whole span still open, :func:`spacing` apart: 10 ms, or 0.5 % of the job if
  longer), several in flight at once (:data:`IN_FLIGHT`:
  :func:`provisioner.waits.wait.poll` sends them without waiting for the answers), so the read that sees the job done
  reaches the server a few milliseconds after its end instead of up to a whole round trip later; past the burst
  it reads with half the gaps above up to a little past the expected end (:data:`DENSE`, :data:`AROUND`), the
  gaps above after that. The ``k``-th read never comes earlier than the ``k``-th read of the schedule used before
  learning (:data:`BASELINE`: 10 % of the time waited, 0.1 s to 5 s), so at any moment it has made at most as many
  reads as that schedule (fewer than a fixed 0.1 s rhythm). A job that ends between the short end and twice that
  is noticed within :func:`lag_bound`; one that ends earlier is noticed at the start of the burst, and one that
  ends much later (when the baseline binds) within 10 % of the time waited.
- The brackets are kept between runs in a small cache file (:mod:`provisioner.waits.jobstore`:
  ``$PROVISIONER_JOB_TIMES``;
  ``off`` keeps none; trusted only when the user's own, values bounded, saves merged), so a single tenant's run,
  too, polls on what earlier runs saw.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from provisioner.waits import jobstore
from provisioner.waits.jobstore import MAX_KINDS as MAX_KINDS  # re-exported: the cache's limits and path live there
from provisioner.waits.jobstore import STORE_VARIABLE as STORE_VARIABLE
from provisioner.waits.jobstore import Bracket
from provisioner.waits.jobstore import store_path as store_path

#: the lag target: at most this fraction of the job's duration, or :data:`LAG_FLOOR` seconds, whichever is larger
LAG_RATIO = 0.05
LAG_FLOOR = 0.1
#: around the expected end: reads this far apart (seconds), or this fraction of the expected end if longer
SPACING = 0.01
SPACING_RATIO = 0.005
#: reads of the burst around the expected end: this many spacings before it, this many after (0, 0: one read at the
#: expected end when the recent waits agree to the millisecond; a span they leave open is covered as below)
LEAD = 0
TRAIL = 0
#: reads of the burst in flight at once (the rest wait for an answer)
IN_FLIGHT = 6
#: the most reads a burst has when the recent waits leave the end open over a wider span (a first, coarse one):
#: two, so that a learned fresh tenant makes 9 polls for its 3 jobs (12 before polling learned durations)
#: while the read that sees a job done still reaches the server within about one spacing of its end
MAX_BURST = 2
#: durations kept per kind of job (the most recent ones)
KEEP = 8
#: with history, past the burst, reads up to AROUND × the expected end use this fraction of the no-history gaps
DENSE = 0.5
AROUND = 1.1


@dataclass(frozen=True)
class Gaps:
    """A geometric poll rhythm: the gap after a read at ``t`` seconds is ``ratio × t``, at least ``first`` and at
    most ``longest`` seconds."""

    first: float = LAG_FLOOR
    ratio: float = LAG_RATIO
    longest: float = 5.0

    def after(self, t: float) -> float:
        """The gap (seconds) after a read at ``t`` seconds."""
        return min(self.longest, max(self.first, self.ratio * t))


#: the schedule used before polling learned (10 % of the time waited, 0.1 s to 5 s): the read count to stay under
BASELINE = Gaps(first=0.1, ratio=0.1, longest=5.0)


def lag_bound(duration: float) -> float:
    """The longest acceptable lag (seconds) for a job of ``duration`` seconds: ``max(0.1, 0.05 × duration)``."""
    return max(LAG_FLOOR, LAG_RATIO * duration)


_BASELINE_TIMES = [0.0]
_BASELINE_LOCK = threading.Lock()


def baseline_time(k: int) -> float:
    """The time (seconds) of read ``k`` (0 = the first, at 0) of the :data:`BASELINE` schedule."""
    if k < len(_BASELINE_TIMES):
        return _BASELINE_TIMES[max(k, 0)]
    with _BASELINE_LOCK:
        while len(_BASELINE_TIMES) <= k:
            last = _BASELINE_TIMES[-1]
            _BASELINE_TIMES.append(last + BASELINE.after(last))
        return _BASELINE_TIMES[k]


def spacing(expected: float) -> float:
    """The gap (seconds) between the reads of the burst around an expected end of ``expected`` seconds."""
    return max(SPACING, SPACING_RATIO * expected)


def window(expected: float, spread: float = 0.0) -> tuple[float, float]:
    """The burst around an expected end of ``expected`` seconds, known to ``spread`` seconds either side (the
    span the recent waits agree on, :meth:`JobTimes.spread`; at most :data:`MAX_BURST` reads cover it): its first
    and its last read time (seconds since the first read)."""
    gap = spacing(expected)
    half = min(max(0.0, spread), MAX_BURST / 2 * gap)
    return max(0.0, expected - max(LEAD * gap, half)), expected + max(TRAIL * gap, half)


def in_window(t: float, expected: float | None, spread: float = 0.0) -> bool:
    """Whether a read at ``t`` seconds belongs to the burst around ``expected`` (None: no history, no burst): such
    reads are sent on time even while earlier ones are still in flight."""
    if expected is None:
        return False
    first, last = window(expected, spread)
    return first - 1e-9 <= t < last + spacing(expected) * (1 - 1e-6)  # up to the first read at or past its end


def next_read(reads: int, last: float, expected: float | None, gaps: Gaps = Gaps(), spread: float = 0.0) -> float:
    """The time (seconds since the first read) of the next read, after ``reads`` reads (``reads`` >= 1) of which
    the last was sent at ``last`` seconds (the job still running, or its answer not back yet). ``expected`` is the
    learned end (:meth:`JobTimes.expected`; None: no history), ``spread`` how far either side of it the recent
    waits leave it open (:meth:`JobTimes.spread`). Pure: no clock, no state."""
    if expected is None:
        return last + gaps.after(last)
    first, end = window(expected, spread)
    gap = spacing(expected)
    if last < first - 1e-9:
        own = first
    elif last < end - 1e-9 * max(1.0, end):  # the burst around the expected end, up to a read at or past it
        own = last + gap
    elif last < expected * AROUND:  # a little past it: finer reads
        own = last + gaps.after(last) * DENSE
    else:
        own = last + gaps.after(last)
    return max(own, baseline_time(reads))


def read_times(expected: float | None, gaps: Gaps = Gaps(), spread: float = 0.0) -> Iterator[float]:
    """Every read time of the schedule (an endless iterator, starting with 0.0)."""
    t, reads = 0.0, 1
    yield t
    while True:
        t = next_read(reads, t, expected, gaps, spread)
        reads += 1
        yield t


class JobTimes:
    """How long each kind of job took (a fleet shares one, via its :class:`~provisioner.clients.http.SessionPool`). A
    kind
    is a string naming the API host and the operation, e.g. ``"api.cf.example.com cf service_instance.create"``.
    Thread-safe. With a ``store`` (:func:`store_path`) the durations earlier runs saw are loaded at the start and
    those of this run merged into it by :meth:`save`: a cache (host names and seconds, nothing secret); a store that
    cannot be read or written, or is not to be trusted, is ignored (:mod:`provisioner.waits.jobstore`)."""

    def __init__(self, keep: int = KEEP, store: Path | None = None) -> None:
        self._seen: dict[str, deque[Bracket]] = {}
        self._new: dict[str, list[Bracket]] = {}
        self._keep = keep
        self._lock = threading.Lock()
        self._store = store
        for kind, brackets in jobstore.load(store).items():
            self._seen[kind] = deque(brackets[-keep:], maxlen=keep)

    def save(self) -> None:
        """Merge the durations recorded since the start into the store (the most recent :data:`KEEP` per kind, each
        ``[running_at, done_at]`` seconds); never raises (a cache)."""
        with self._lock:
            new, self._new = self._new, {}
        jobstore.save(self._store, new, self._keep)

    def record(self, kind: str, running_at: float, done_at: float) -> None:
        """Note a finished job of ``kind``: the last read that found it running was sent ``running_at`` seconds
        after its first read, the first read that found it done ``done_at`` seconds after (the two bracket its end:
        around the expected end they are a few milliseconds apart). A job done at its first read is not recorded:
        the first read catches such jobs whatever the history says."""
        bracket = (max(0.0, running_at), max(0.0, running_at, done_at))
        with self._lock:
            self._seen.setdefault(kind, deque(maxlen=self._keep)).append(bracket)
            self._new.setdefault(kind, []).append(bracket)

    def estimate(self, kind: str) -> tuple[float | None, float]:
        """When a job of ``kind`` is expected to end (seconds after its first read, as :meth:`record` measures;
        None before any job of that kind finished) and how far either side the recent brackets leave it open
        (seconds; 0 when none): :func:`agreement` of the recent brackets, read once."""
        with self._lock:
            seen = list(self._seen.get(kind) or ())
        return agreement(seen) if seen else (None, 0.0)

    def expected(self, kind: str) -> float | None:
        """:meth:`estimate`'s expected end."""
        return self.estimate(kind)[0]

    def spread(self, kind: str) -> float:
        """:meth:`estimate`'s span either side of the expected end."""
        return self.estimate(kind)[1]


def agreement(brackets: list[Bracket]) -> tuple[float, float]:
    """Where the recent ``brackets`` (non-empty) place the end, and how far either side it stays open (seconds).
    Where they all agree (a span after the latest read that found a job running, up to the earliest that found one
    done, which every finished wait narrows): its middle, open half its width or half the spread of the brackets'
    middles (their lower to upper quartile: jobs, and when the client saw them, vary a little from run to run),
    whichever is larger. Where they do not agree (the durations vary more): :func:`short_end` of their middles,
    open 0 s (the finer reads after the burst take the rest)."""
    low, high = max(b[0] for b in brackets), min(b[1] for b in brackets)
    middles = sorted((b[0] + b[1]) / 2 for b in brackets)
    if low <= high:
        quartiles = middles[(3 * len(middles)) // 4] - middles[len(middles) // 4]
        return (low + high) / 2, max(high - low, quartiles) / 2
    return short_end(middles), 0.0


def short_end(durations: list[float]) -> float:
    """The lower quartile of ``durations`` (seconds; the shortest of fewer than 4): a job of the kind rarely ends
    before it, and one odd short job does not make every later wait read early."""
    return sorted(durations)[len(durations) // 4]
