"""The plain wait (provisioner.waits.waitfor.wait_for), as Terraform's StateChangeConf: pending states are waited
for, a target state ends the wait, any other state fails in one line naming it and the expected ones, a timeout
says what was pending. On the skip clock: no sleeping."""

from __future__ import annotations

import pytest

from provisioner import clock
from provisioner.errors import WaitTimeout
from provisioner.waits.jobtimes import JobTimes, lag_bound
from provisioner.waits.waitfor import Learned, UnexpectedState, wait_for


def job(ends_after: float, end: str = "COMPLETE") -> tuple[list[float], object]:
    """A refresh whose job is PROCESSING until ``ends_after`` seconds after its first read, then ``end``; and the
    times of its reads."""
    reads: list[float] = []

    def refresh() -> tuple[str, str]:
        now = clock.monotonic()
        reads.append(now)
        state = end if now - reads[0] >= ends_after else "PROCESSING"
        return f"job is {state}", state

    return reads, refresh


@pytest.mark.parametrize("seconds", [0.0, 2.0, 45.0, 300.0])
def test_a_job_is_seen_done_within_the_lag_bound(seconds):
    reads, refresh = job(seconds)
    value = wait_for(refresh, {"PROCESSING", "POLLING"}, {"COMPLETE"}, 600.0, what="job")
    assert value == "job is COMPLETE"
    assert reads[-1] - reads[0] - seconds <= lag_bound(seconds) + 1e-6
    assert len(reads) == 1 or seconds > 0


def test_an_unexpected_state_fails_in_one_line_naming_it_and_the_expected_ones():
    _, refresh = job(1.0, end="CANCELLED")
    with pytest.raises(UnexpectedState) as err:
        wait_for(refresh, ("PROCESSING", "POLLING"), ("COMPLETE",), 600.0, what="instance x")
    assert str(err.value) == ("instance x: unexpected state 'CANCELLED' (expected 'COMPLETE', 'PROCESSING', "
                              "'POLLING')")


def test_a_timeout_names_what_was_pending():
    _, refresh = job(10_000.0)
    with pytest.raises(WaitTimeout) as err:
        wait_for(refresh, ("PROCESSING",), ("COMPLETE",), 30.0, what="key k", describe=lambda v: v)
    assert str(err.value).startswith("key k: job is PROCESSING after 30 s (the step's timeout")


def test_the_learned_strategy_reads_less_once_it_knows_the_kind():
    times = JobTimes()
    counts = []
    for _ in range(3):
        reads, refresh = job(60.0)
        wait_for(refresh, ("PROCESSING",), ("COMPLETE",), 600.0, what="job",
                 learned=Learned(times, lambda _: "h cf service_instance.create"))
        counts.append(len(reads))
    assert counts[-1] < counts[0]
