"""`make bench` section (f), alone: `python benchmarks/waits.py`. Does the learned wait schedule pay on realistic
job durations? One tenant's fresh run against a simulator whose jobs (entitlement, instance, key) take 5, 30 and 120
seconds, on a skip clock (tests/skipclock.py: pauses cost no real time, the simulated time still passes), 50 ms per
request: the plain wait (no history: ``PROVISIONER_JOB_TIMES=off``, each run its own) against the learned one (a
job-times cache the round before filled). Printed per job duration: the run's simulated seconds, the reads of the
jobs and operations (GET requests in all), and how much of the run the waits' lag after the jobs' ends cost."""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "tests"))

import landscapes  # noqa: E402
import requests  # noqa: E402
from skipclock import SkipClock  # noqa: E402

from provisioner import clock  # noqa: E402
from provisioner.engine import runner  # noqa: E402
from provisioner.playbook import load as playbook  # noqa: E402
from provisioner.sim import Simulator  # noqa: E402
from provisioner.sim.generate import fleet_landscape  # noqa: E402

LATENCY = 0.05
JOBS = (5.0, 30.0, 120.0)
ROUNDS = 3


def one_run(job: float, port: int, store: str) -> tuple[float, int]:
    """A fresh tenant's run → (simulated seconds, GET requests)."""
    os.environ["PROVISIONER_JOB_TIMES"] = store
    with clock.use(SkipClock()) as c, tempfile.TemporaryDirectory() as d:
        sim = Simulator(landscape=fleet_landscape(1), port=port, job_seconds=job, faults={"latency": LATENCY},
                        tls=False, clock=c).start()
        try:
            pb = playbook.load(landscapes.one_tenant_playbook(sim, Path(d)))
            requests.delete(sim.url + "/_sim/requests", timeout=30)
            t0 = c.monotonic()
            result = runner.run(pb)
            seconds = c.monotonic() - t0
            entries = requests.get(sim.url + "/_sim/requests", timeout=30).json()
        finally:
            sim.stop()
    if not result.ok:
        raise SystemExit(f"the run failed: {[s.error for s in result.steps if s.error]}")
    return seconds, sum(1 for e in entries if e["method"] == "GET")


def waits() -> None:
    print(f"(f) waits on realistic jobs: one fresh tenant, jobs of {', '.join(f'{j:g}' for j in JOBS)} s, "
          f"{LATENCY * 1000:.0f} ms a request, skip clock; medians of {ROUNDS}")
    print(f"  {'job':>6}  {'plain s':>9}  {'learned s':>9}  {'saved':>7}  {'plain GETs':>10}  {'learned GETs':>12}")
    for job in JOBS:
        port = landscapes.free_port()
        with tempfile.TemporaryDirectory() as d:
            store = str(Path(d) / "job-times.json")
            one_run(job, port, store)  # fills the cache: the learned rounds plan by it
            learned = [one_run(job, port, store) for _ in range(ROUNDS)]
        plain = [one_run(job, port, "off") for _ in range(ROUNDS)]
        p_s, l_s = (statistics.median(s for s, _ in r) for r in (plain, learned))
        p_g, l_g = (statistics.median(g for _, g in r) for r in (plain, learned))
        print(f"  {job:>5g}s  {p_s:>9.2f}  {l_s:>9.2f}  {(p_s - l_s) / p_s:>7.1%}  {p_g:>10.0f}  {l_g:>12.0f}")


if __name__ == "__main__":
    waits()
