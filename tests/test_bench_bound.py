"""The critical-path bound ``make bench`` compares runs against (benchmarks/bound.py): its arithmetic."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
from bound import CONVERGED, FRESH, Node, bound, schedule  # noqa: E402

seconds = st.floats(min_value=0.0, max_value=10.0, allow_nan=False)


def test_fresh_tenant_bound_is_six_round_trips_and_three_jobs():
    t = bound(FRESH, 0.05, 2.0)
    assert (t.round_trips, t.jobs) == (6, 3)
    assert abs(t.done - 6.3) < 1e-9
    assert t.path[-1] == "key-sign-in"


def test_converged_bound_is_four_round_trips():
    t = bound(CONVERGED, 0.05, 2.0)
    assert (t.round_trips, t.jobs) == (4, 0)
    assert abs(t.done - 0.2) < 1e-9


@settings(max_examples=50, deadline=None)
@given(seconds, seconds, seconds, seconds)
def test_the_bound_grows_with_latency_and_job_time(lat, job, more_lat, more_job):
    for graph in (FRESH, CONVERGED):
        assert bound(graph, lat + more_lat, job + more_job).done >= bound(graph, lat, job).done - 1e-9


@settings(max_examples=50, deadline=None)
@given(seconds, seconds)
def test_every_node_ends_after_what_it_needs(lat, job):
    for graph in (FRESH, CONVERGED):
        done = schedule(graph, lat, job)
        for node in graph:
            for before in node.after:
                assert done[node.name].done >= done[before].done + lat - 1e-9
            if node.job_of:
                assert done[node.name].done >= done[node.job_of].done + job - 1e-9


def test_a_graph_listed_out_of_order_is_refused():
    with pytest.raises(KeyError):
        schedule((Node("b", "GET /b", after=("a",)), Node("a", "GET /a")), 0.1, 0.0)


def test_a_fresh_runs_critical_chain_is_read_back_from_the_journal(make_landscape, skip_clock):
    """benchmarks/edges.py walks a run's journal back from its last answer: the three jobs of a fresh tenant are
    on the chain (each from the write that started it to the read that saw it done), and the edges add up to the
    run."""
    from conftest import cli
    from edges import chain

    landscape = make_landscape(job_seconds=2.0)
    landscape.clear_journal()
    start = skip_clock.monotonic()
    assert cli("run", landscape.playbook()).exit_code == 0
    end = skip_clock.monotonic()
    edges = chain(landscape.journal(), start, end, 0.0)
    jobs = [e for e in edges if e.kind == "job"]
    assert [e.what.split()[0] for e in jobs] == ["GET", "GET", "GET"]
    assert all(abs(e.job - 2.0) < 0.05 and e.lag >= 0 for e in jobs)
    assert edges[0].kind == "start" and edges[-1].kind == "finish"
    assert abs(sum(e.span for e in edges) - (end - start)) < 1e-6
