"""When to read an async job again: the poll schedule (a pure function) and what the runs of a process learned of
how long each kind of job takes (:class:`JobTimes`).

Times are seconds since the first read of the job, which comes right after the request that started it (it catches
jobs the API completed at once); :func:`provisioner.wait.poll` counts each gap from when the previous read returned,
so a read slowed by a busy host adds its own time to the lag (and is not followed by another at once), except past
``dense_from`` (history), where the reads keep the schedule's times (counted from when each was sent). The lag of a
schedule is the time from a job's completion to the read that sees it; the target is at most ``max(0.1 s, 5 % of the
job)`` (:func:`lag_bound`).

- Without history the gap after a read at ``t`` is ``max(0.1, 0.05 t)`` seconds, at most 5 s: whatever the job's
  duration, the next read sees it within the bound.
- With history (``dense_from``: a little before the lower quartile of the durations seen recently for this kind of
  job, :func:`short_end`), the schedule reads once right away, sleeps until ``dense_from``, then reads with half the
  gaps above up to a little past the expected end (:data:`DENSE`, :data:`AROUND`), the gaps above after that;
  and the ``k``-th read never comes earlier than the ``k``-th read of the schedule used before learning
  (:data:`BASELINE`: 10 % of the time waited, 0.1 s to 5 s), so for every job duration it makes at most as many
  reads as that schedule did. A job that ends between the short end and twice that is noticed within
  :func:`lag_bound`; one that ends earlier is noticed at ``dense_from``, and one that ends much later (when the
  baseline binds) within 10 % of the time waited.
- The durations are kept between runs in a small cache file (:func:`store_path`, ``$PROVISIONER_JOB_TIMES``; ``off``
  keeps none), so a single tenant's run, too, polls on what earlier runs saw.
"""

from __future__ import annotations

import json
import os
import threading
from collections import deque
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from provisioner import safefile
from provisioner.errors import ProvisionerError

#: the lag target: at most this fraction of the job's duration, or :data:`LAG_FLOOR` seconds, whichever is larger
LAG_RATIO = 0.05
LAG_FLOOR = 0.1
#: dense reading starts this fraction of the shortest recent duration after the first read ("shortly before")
EARLY = 0.95
#: durations kept per kind of job (the most recent ones)
KEEP = 8
#: with history, reads up to AROUND × the expected end use this fraction of the no-history gaps
DENSE = 0.5
AROUND = 1.1
#: kinds of job kept between runs (the most recently seen; hosts come and go, e.g. a local simulator's ports)
MAX_KINDS = 64
#: where learned durations are kept between runs (a file path, or "off"); default in the user's cache folder
STORE_VARIABLE = "PROVISIONER_JOB_TIMES"


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
    if last < dense_from:
        own = dense_from
    elif last < dense_from / EARLY * AROUND:  # around the expected end: finer reads
        own = last + gaps.after(last) * DENSE
    else:
        own = last + gaps.after(last)
    return max(own, baseline_time(reads))


def read_times(dense_from: float | None, gaps: Gaps = Gaps()) -> Iterator[float]:
    """Every read time of the schedule (an endless iterator, starting with 0.0)."""
    t, reads = 0.0, 1
    yield t
    while True:
        t = next_read(reads, t, dense_from, gaps)
        reads += 1
        yield t


def store_path(environ: Mapping[str, str] | None = None) -> Path | None:
    """The file learned durations are kept in between runs: ``$PROVISIONER_JOB_TIMES`` (``off``: none), else
    ``$XDG_CACHE_HOME/provisioner/job-times.json`` (``~/.cache`` when unset)."""
    env = os.environ if environ is None else environ
    chosen = env.get(STORE_VARIABLE)
    if chosen is not None:
        return None if chosen.strip().lower() in ("", "off", "0", "false", "no") else Path(chosen).expanduser()
    cache = env.get("XDG_CACHE_HOME") or str(Path("~/.cache").expanduser())
    return Path(cache) / "provisioner" / "job-times.json"


class JobTimes:
    """How long each kind of job took (a fleet shares one, via its :class:`~provisioner.http.SessionPool`). A kind
    is a string naming the API host and the operation, e.g. ``"api.cf.example.com cf service_instance.create"``.
    Thread-safe. With a ``store`` (:func:`store_path`) the durations earlier runs saw are loaded at the start and
    those of this run merged into it by :meth:`save`: a cache (host names and seconds, nothing secret); a store that
    cannot be read or written is ignored."""

    def __init__(self, keep: int = KEEP, store: Path | None = None) -> None:
        self._seen: dict[str, deque[float]] = {}
        self._new: dict[str, list[float]] = {}
        self._keep = keep
        self._lock = threading.Lock()
        self._store = store
        for kind, durations in _load(store).items():
            self._seen[kind] = deque(durations[-keep:], maxlen=keep)

    def save(self) -> None:
        """Merge the durations recorded since the start into the store (the most recent :data:`KEEP` per kind);
        never raises (a cache)."""
        with self._lock:
            new, self._new = self._new, {}
        if self._store is None or not new:
            return
        merged = _load(self._store)
        for kind, durations in new.items():  # a kind seen now moves to the end: the oldest kinds are dropped
            merged[kind] = (merged.pop(kind, []) + durations)[-self._keep:]
        merged = dict(list(merged.items())[-MAX_KINDS:])
        try:
            safefile.atomic_write(self._store, json.dumps(merged, indent=1, sort_keys=True) + "\n", 0o600,
                                  what="job times cache")
        except (ProvisionerError, OSError):
            pass

    def record(self, kind: str, running_at: float, done_at: float) -> None:
        """Note a finished job of ``kind``: its last read that found it running was sent ``running_at`` seconds
        after its first read, the read that found it done ``done_at`` seconds after. Its duration is taken as the
        middle of the two (the reads bracket the completion). A job done at its first read is not recorded: the
        first read catches such jobs whatever the history says."""
        duration = max(0.0, (running_at + max(running_at, done_at)) / 2)
        with self._lock:
            self._seen.setdefault(kind, deque(maxlen=self._keep)).append(duration)
            self._new.setdefault(kind, []).append(duration)

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


def _load(store: Path | None) -> dict[str, list[float]]:
    """The durations kept in ``store``: ``{kind: [seconds, ...]}``; empty when there is none or it is not that."""
    if store is None:
        return {}
    try:
        body = json.loads(safefile.read_text(store, "job times cache", 1 << 20))
    except (ProvisionerError, OSError, ValueError):
        return {}
    if not isinstance(body, dict):
        return {}
    return {k: [float(d) for d in v if isinstance(d, int | float) and not isinstance(d, bool) and 0 <= d < 1e6]
            for k, v in body.items() if isinstance(k, str) and isinstance(v, list)}
