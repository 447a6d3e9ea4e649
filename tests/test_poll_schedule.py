"""The poll schedule as a pure function (provisioner.jobtimes): for a job of any duration, the lag from its
completion to the read that sees it, and the number of reads, against the schedule used before polling learned
(10 % of the time waited) and the target lag ``max(0.1 s, 5 % of the job)``. No sleeping, no clock."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from provisioner.jobtimes import BASELINE, EARLY, JobTimes, baseline_time, lag_bound, read_times, short_end

durations = st.floats(min_value=0.0, max_value=3600.0, allow_nan=False)
histories = st.lists(st.floats(min_value=0.0, max_value=600.0, allow_nan=False), min_size=1, max_size=8)


def outcome(duration: float, dense_from: float | None) -> tuple[int, float]:
    """(reads, lag) of the schedule for a job that completes ``duration`` seconds after its first read."""
    for reads, t in enumerate(read_times(dense_from), start=1):
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
    return times.dense_from("api.example.com cf service_instance.create")


@given(durations)
def test_without_history_every_job_is_seen_within_the_lag_bound(duration):
    _, lag = outcome(duration, None)
    assert lag <= lag_bound(duration) + 1e-9


@given(durations, histories)
def test_with_any_history_never_more_reads_than_before(duration, seen):
    reads, lag = outcome(duration, learned(seen))
    assert reads <= baseline_reads(duration)


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
    """Past the start of dense reading, the lag is never above the old schedule's gap at that time."""
    dense_from = learned(seen)
    assert dense_from is not None
    _, lag = outcome(duration, dense_from)
    if duration >= dense_from:
        assert lag <= max(lag_bound(duration), BASELINE.after(duration)) + 1e-9


def test_learning_cuts_the_reads_of_a_typical_job():
    """A 2 s job: 19 reads before, 21 without history (to meet the lag bound), 6 once learned (half gaps around
    the expected end: a lag of a few hundredths of a second)."""
    assert baseline_reads(2.0) == 19
    assert outcome(2.0, None)[0] == 21
    reads, lag = outcome(2.0, learned([2.0 - 0.1]))
    assert reads == 6 and lag <= lag_bound(2.0) / 2
    assert learned([]) is None and learned([1.0]) == EARLY * 1.0
    assert learned([0.2, 2.0, 2.1, 1.9, 2.0]) == EARLY * 1.9  # one odd short job does not pull it down


def test_without_history_the_lag_bound_costs_reads():
    """Meeting the lag bound for every duration needs a gap of at most 5 % of the time waited: without history
    that is more reads than the 10 % rhythm for a long job (no schedule does both for every duration; history is
    what lets it read less)."""
    assert outcome(60.0, None)[0] > baseline_reads(60.0)
    assert outcome(60.0, learned([60.0]))[0] < baseline_reads(60.0) / 4


def test_learned_durations_are_kept_between_runs(tmp_path):
    """A pool's job times are saved on close and loaded by the next process's (the file holds host names and
    seconds only); a store that is not JSON is ignored, and PROVISIONER_JOB_TIMES=off keeps none."""
    from provisioner.jobtimes import MAX_KINDS, store_path

    store = tmp_path / "cache" / "job-times.json"
    first = JobTimes(store=store)
    assert first.dense_from("h cf service_instance.create") is None
    first.record("h cf service_instance.create", 1.9, 2.1)
    first.save()
    assert JobTimes(store=store).dense_from("h cf service_instance.create") == EARLY * 2.0
    assert oct(store.stat().st_mode & 0o777) == "0o600"
    for i in range(MAX_KINDS + 5):  # hosts come and go (a simulator's ports): the oldest kinds are dropped
        many = JobTimes(store=store)
        many.record(f"h{i} cf service_keys.create", 1.0, 1.0)
        many.save()
    kept = JobTimes(store=store)
    assert kept.dense_from("h cf service_instance.create") is None and kept.dense_from(f"h{MAX_KINDS + 4} cf "
                                                                                       "service_keys.create")
    store.write_text("not json")
    assert JobTimes(store=store).dense_from("h cf service_instance.create") is None
    assert store_path({"PROVISIONER_JOB_TIMES": "off"}) is None
    assert store_path({"XDG_CACHE_HOME": "/c"}) == Path("/c/provisioner/job-times.json")
