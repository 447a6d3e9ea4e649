"""When to read an async job again: the poll schedule (a pure function) and what the runs of a process learned of
how long each kind of job takes (:class:`JobTimes`).

Times are seconds since the first read of the job, which comes right after the request that started it (it catches
jobs the API completed at once); :func:`provisioner.wait.poll` counts each gap from when the previous read returned,
so a read slowed by a busy host adds its own time to the lag (and is not followed by another at once). The lag of a
schedule is the time from a job's completion to the read that sees it; the target is at most ``max(0.1 s, 5 % of the
job)`` (:func:`lag_bound`).

- Without history the gap after a read at ``t`` is ``max(0.1, 0.05 t)`` seconds, at most 5 s: whatever the job's
  duration, the next read sees it within the bound.
- With history (``dense_from``: a little before the lower quartile of the durations seen recently for this kind of
  job, :func:`short_end`), the schedule reads once right away, sleeps until ``dense_from``, then reads with the gaps
  above; and the ``k``-th read never comes earlier than the ``k``-th read of the schedule used before learning
  (:data:`BASELINE`: 10 % of the time waited, 0.1 s to 5 s), so for every job duration it makes at most as many
  reads as that schedule did. A job that ends between the short end and twice that is noticed within
  :func:`lag_bound`; one that ends earlier is noticed at ``dense_from``, and one that ends much later (when the
  baseline binds) within 10 % of the time waited.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass

#: the lag target: at most this fraction of the job's duration, or :data:`LAG_FLOOR` seconds, whichever is larger
LAG_RATIO = 0.05
LAG_FLOOR = 0.1
#: dense reading starts this fraction of the shortest recent duration after the first read ("shortly before")
EARLY = 0.95
#: durations kept per kind of job (the most recent ones)
KEEP = 8


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


def next_read(reads: int, last: float, dense_from: float | None, gaps: Gaps = Gaps()) -> float:
    """The time (seconds since the first read) of the next read, after ``reads`` reads (``reads`` >= 1) of which
    the last, at ``last`` seconds, found the job still running. ``dense_from`` is the learned start of dense
    reading (None: no history). Pure: no clock, no state."""
    if dense_from is None:
        return last + gaps.after(last)
    own = dense_from if last < dense_from else last + gaps.after(last)
    return max(own, baseline_time(reads))


def read_times(dense_from: float | None, gaps: Gaps = Gaps()) -> Iterator[float]:
    """Every read time of the schedule (an endless iterator, starting with 0.0)."""
    t, reads = 0.0, 1
    yield t
    while True:
        t = next_read(reads, t, dense_from, gaps)
        reads += 1
        yield t


class JobTimes:
    """How long each kind of job took in the runs of one process (a fleet shares one, via its
    :class:`~provisioner.http.SessionPool`). A kind is a string naming the API host and the operation, e.g.
    ``"api.cf.example.com cf service_instance.create"``. Thread-safe; durations are kept in memory only."""

    def __init__(self, keep: int = KEEP) -> None:
        self._seen: dict[str, deque[float]] = {}
        self._keep = keep
        self._lock = threading.Lock()

    def record(self, kind: str, running_at: float, done_at: float) -> None:
        """Note a finished job of ``kind``: its last read that found it running was sent ``running_at`` seconds
        after its first read, the read that found it done ``done_at`` seconds after. Its duration is taken as the
        middle of the two (the reads bracket the completion). A job done at its first read is not recorded: the
        first read catches such jobs whatever the history says."""
        with self._lock:
            seen = self._seen.setdefault(kind, deque(maxlen=self._keep))
            seen.append(max(0.0, (running_at + max(running_at, done_at)) / 2))

    def dense_from(self, kind: str) -> float | None:
        """When to start reading densely (seconds after the first read): :data:`EARLY` × :func:`short_end` of the
        recent durations of ``kind`` (see :meth:`record`); None before any job of that kind finished."""
        with self._lock:
            seen = self._seen.get(kind)
            return EARLY * short_end(list(seen)) if seen else None


def short_end(durations: list[float]) -> float:
    """The lower quartile of ``durations`` (seconds; the shortest of fewer than 4): a job of the kind rarely ends
    before it, and one odd short job does not make every later wait read early."""
    return sorted(durations)[len(durations) // 4]
