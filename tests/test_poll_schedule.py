"""The poll schedule as a pure function (provisioner.waits.jobtimes): for a job of any duration, the lag from its
completion to the read that sees it, and the number of reads, against the schedule used before polling learned
(10 % of the time waited) and the target lag ``max(0.1 s, 5 % of the job)``; the burst of reads around a learned
end. No sleeping, no clock."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from provisioner.waits.jobtimes import (
    BASELINE,
    IN_FLIGHT,
    MAX_BURST,
    JobTimes,
    agreement,
    baseline_time,
    lag_bound,
    read_times,
    short_end,
    spacing,
    window,
)

durations = st.floats(min_value=0.0, max_value=3600.0, allow_nan=False)
histories = st.lists(st.floats(min_value=0.0, max_value=600.0, allow_nan=False), min_size=1, max_size=8)


def outcome(duration: float, expected: float | None, spread: float = 0.0) -> tuple[int, float]:
    """(reads, lag) of the schedule for a job that completes ``duration`` seconds after its first read."""
    for reads, t in enumerate(read_times(expected, spread=spread), start=1):
        if t >= duration:
            return reads, t - duration
    raise AssertionError("unreachable: the schedule is endless")


def baseline_reads(duration: float) -> int:
    k = 0
    while baseline_time(k) < duration:
        k += 1
    return k + 1


def learned(durations_seen: list[float]) -> float | None:
    times = JobTimes()
    for d in durations_seen:
        times.record("api.example.com cf service_instance.create", d, d)
    return times.expected("api.example.com cf service_instance.create")


@given(durations)
def test_without_history_every_job_is_seen_within_the_lag_bound(duration):
    _, lag = outcome(duration, None)
    assert lag <= lag_bound(duration) + 1e-9


@given(durations, histories)
def test_with_any_history_never_more_reads_than_before(duration, seen):
    reads, lag = outcome(duration, learned(seen))
    assert reads <= baseline_reads(duration)


@given(histories, st.integers(min_value=1, max_value=60))
def test_at_any_moment_no_more_reads_sent_than_before(seen, k):
    """The k-th read is never sent before the k-th read of the schedule used before learning: reads still in flight
    when the job is seen done (the burst sends several at once) are within that count too."""
    times = read_times(learned(seen))
    sent = [next(times) for _ in range(k + 1)]
    assert all(t >= baseline_time(i) - 1e-9 for i, t in enumerate(sent))
    assert sent == sorted(sent)


@given(st.floats(min_value=0.0, max_value=600.0, allow_nan=False), st.floats(min_value=0.0, max_value=1.0))
def test_a_job_ending_in_the_burst_is_seen_within_one_spacing(expected, where):
    """Around the learned end the reads are :func:`spacing` apart (10 ms for a job of up to 2 s): a job that ends
    anywhere in the burst is seen by the next read of it, at most one spacing late (for a job of 1 s or more: on a
    shorter one the schedule before learning has not made as many reads yet, and the burst waits for it; the lag
    bound holds), with all the burst's reads in flight at once."""
    first, last = window(expected)
    duration = first + where * (last - first) - 1e-9 * expected  # (the burst's times are sums of floats)
    _, lag = outcome(duration, expected)
    assert lag <= (spacing(expected) if expected >= 1.0 else lag_bound(duration)) + 1e-9
    burst = [t for t in _until(read_times(expected), last + 1e-9) if t >= first - 1e-9]
    assert len(burst) <= IN_FLIGHT


def _until(times, end):
    for t in times:
        if t > end:
            return
        yield t


@given(histories, st.floats(min_value=1.0, max_value=2.0))
def test_a_job_as_long_as_the_history_says_is_seen_within_the_lag_bound(seen, factor):
    """From the short end of the history (its lower quartile) to twice that, the lag bound holds and the reads are
    at most those of the schedule before."""
    duration = short_end(seen) * factor
    reads, lag = outcome(duration, learned(seen))
    assert lag <= lag_bound(duration) + 1e-9
    assert reads <= baseline_reads(duration)


@given(durations, histories)
def test_a_job_later_than_the_history_is_seen_as_soon_as_before(duration, seen):
    """From the burst around the learned end on, the lag is never above the old schedule's gap at that time."""
    expected = learned(seen)
    assert expected is not None
    _, lag = outcome(duration, expected)
    if duration >= window(expected)[0]:
        assert lag <= max(lag_bound(duration), BASELINE.after(duration)) + 1e-9


def test_learning_cuts_the_reads_of_a_typical_job():
    """A 2 s job: 19 reads before, 21 without history (to meet the lag bound); once learned, the first read and a
    read at the expected end: 3 reads up to the one that sees a job ending just after it (the next read half a
    no-history gap later: within the lag bound), 2 up to the end of a burst that the recent waits left no spread."""
    assert baseline_reads(2.0) == 19
    assert outcome(2.0, None)[0] == 21
    reads, lag = outcome(2.0, learned([2.0 - 0.005]))
    assert reads == 3 and lag <= lag_bound(2.0)
    assert len(list(_until(read_times(2.0), window(2.0)[1] + 1e-9))) == 2
    assert learned([]) is None and learned([1.0]) == 1.0
    assert learned([0.2, 2.0, 2.1, 1.9, 2.0]) == 1.9  # one odd short job does not pull it down


def test_brackets_that_agree_narrow_the_expected_end():
    """Each finished wait brackets the end between its last read that found the job running and its first that
    found it done; where the brackets agree, the expected end is the middle of what they share and the burst covers
    all of it (a coarse first bracket, then the burst's fine ones); where they do not (durations vary), the lower
    quartile of their middles."""
    at, spread = agreement([(1.85, 2.05)])
    assert abs(at - 1.95) < 1e-9 and abs(spread - 0.1) < 1e-9
    at, spread = agreement([(1.85, 2.05), (1.94, 1.95)])
    assert abs(at - 1.945) < 1e-9 and abs(spread - 0.005) < 1e-9
    assert abs(agreement([(1.85, 2.05), (0.0, 1.96), (1.93, 1.99)])[0] - 1.945) < 1e-9
    assert agreement([(1.0, 1.1), (2.0, 2.1), (3.0, 3.1)]) == (short_end([1.05, 2.05, 3.05]), 0.0)
    times = JobTimes()
    times.record("k", 1.9, 1.8)  # reads answered out of order: a bracket of zero width
    assert times.expected("k") == 1.9 and times.spread("k") == 0.0


@given(st.floats(min_value=0.0, max_value=600.0, allow_nan=False), st.floats(min_value=0.0, max_value=1.0),
       st.floats(min_value=-1.0, max_value=1.0))
def test_a_job_anywhere_in_the_span_the_waits_agree_on_is_seen_within_one_spacing(expected, spread, where):
    """After a coarse first wait the end is known only to a span: the burst covers it (up to MAX_BURST reads), so a
    job ending anywhere in it is still seen at most one spacing late (for a job of 2 s or more: on a shorter one the
    schedule before learning has not made as many reads yet; the lag bound holds), and never with more reads than
    before."""
    spread *= MAX_BURST / 2 * spacing(expected)
    duration = max(0.0, expected + where * spread - 1e-9 * max(1.0, expected))  # (the burst's times: float sums)
    reads, lag = outcome(duration, expected, spread)
    assert lag <= (spacing(expected) if expected >= 2.0 else lag_bound(duration)) + 1e-9 * max(1.0, expected)
    assert reads <= baseline_reads(duration)


def test_without_history_the_lag_bound_costs_reads():
    """Meeting the lag bound for every duration needs a gap of at most 5 % of the time waited: without history
    that is more reads than the 10 % rhythm for a long job (no schedule does both for every duration; history is
    what lets it read less)."""
    assert outcome(60.0, None)[0] > baseline_reads(60.0)
    assert outcome(60.0, learned([60.0]))[0] < baseline_reads(60.0) / 4


def test_learned_durations_are_kept_between_runs(tmp_path):
    """A pool's job times are saved on close and loaded by the next process's (the file holds host names and
    seconds only); a store that is not JSON is ignored, and PROVISIONER_JOB_TIMES=off keeps none."""
    from provisioner.waits.jobtimes import MAX_KINDS, store_path

    store = tmp_path / "cache" / "job-times.json"
    first = JobTimes(store=store)
    assert first.expected("h cf service_instance.create") is None
    first.record("h cf service_instance.create", 1.9, 2.1)
    first.save()
    assert JobTimes(store=store).expected("h cf service_instance.create") == 2.0
    assert oct(store.stat().st_mode & 0o777) == "0o600"
    for i in range(MAX_KINDS + 5):  # hosts come and go (a simulator's ports): the oldest kinds are dropped
        many = JobTimes(store=store)
        many.record(f"h{i} cf service_keys.create", 1.0, 1.0)
        many.save()
    kept = JobTimes(store=store)
    assert kept.expected("h cf service_instance.create") is None and kept.expected(f"h{MAX_KINDS + 4} cf "
                                                                                   "service_keys.create")
    store.write_text('{"h cf service_keys.create": [1.5, [1.0, 2.0], [2.0, 1.0], 999999, -1]}')  # an older cache
    assert JobTimes(store=store).expected("h cf service_keys.create") == 1.5  # kept: 1.5 and [1.0, 2.0]
    store.write_text('{"h cf service_keys.create": [1.5, "x", true]}')  # not the shape of a job-times cache
    assert JobTimes(store=store).expected("h cf service_keys.create") is None
    store.write_text("not json")
    assert JobTimes(store=store).expected("h cf service_instance.create") is None
    assert store_path({"PROVISIONER_JOB_TIMES": "off"}) is None
    assert store_path({"XDG_CACHE_HOME": "/c"}) == Path("/c/provisioner/job-times.json")
