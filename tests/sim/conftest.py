"""Fixtures for the simulator's own tests: a fresh Simulator on port 0 with job_seconds=0, used over HTTP."""

from __future__ import annotations

import pytest

from provisioner.sim import Simulator

from .sim_testkit import Api, FakeClock


@pytest.fixture
def sim():
    simulator = Simulator(landscape=None, host="127.0.0.1", port=0, job_seconds=0.0)
    simulator.start()
    try:
        yield simulator
    finally:
        simulator.stop()


@pytest.fixture
def api(sim: Simulator) -> Api:
    return Api(sim)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def clocked_api(clock: FakeClock):
    """An Api of a simulator driven by `clock` (jobs last 10 seconds of it)."""
    simulator = Simulator(landscape=None, host="127.0.0.1", port=0, job_seconds=10.0, clock=clock)
    simulator.start()
    try:
        yield Api(simulator)
    finally:
        simulator.stop()
