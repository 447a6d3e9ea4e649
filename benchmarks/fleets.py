"""`make bench` (c): fleets of tenants, each fleet one `provisioner run` subprocess against an in-process simulator:
wall time, tenants per second, peak RSS; at scale with the default (adaptive) in-flight cap."""

from __future__ import annotations

import contextlib
import json
import os
import resource
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from landscapes import PROVISIONER, free_port, one_tenant_playbook, verdict

from provisioner.sim import Simulator
from provisioner.sim.core.tokens import make_key_pool
from provisioner.sim.generate import fleet_landscape


@dataclass
class FleetRun:
    """One `provisioner run` of a fleet in a subprocess: wall seconds, tenants ok, its peak RSS (MB), stderr tail."""

    wall: float
    ok: int
    rss_mb: float
    err: str


def run_fleet(fleet_yaml: Path, parallel: int, max_in_flight: int | None = None) -> FleetRun:
    """``provisioner run FLEET --parallel N [--max-in-flight M]`` (None: the default, adaptive cap)."""
    cap = [] if max_in_flight is None else ["--max-in-flight", str(max_in_flight)]
    t0 = time.perf_counter()
    out, err, usage = run_measured([*PROVISIONER, "run", str(fleet_yaml), "--parallel", str(parallel), *cap,
                                    "--output", "json"])
    wall = time.perf_counter() - t0
    report = json.loads(out or b"{}") if out else {}
    ok = sum(1 for t in report.get("tenants", []) if t["ok"])
    return FleetRun(wall, ok, usage.ru_maxrss / 1024, err[-300:])


@contextlib.contextmanager
def fleet_landscape_started(count: int, size: int, latency: float, job: float, port: int = 0) -> Iterator[Path]:
    """A simulator with ``count`` tenants (latency and job seconds as given) on ``port`` (0: any free one) → the
    fleet playbook of the first ``size``; stopped, and its folder removed, on leaving."""
    make_key_pool()  # once per process: the simulator's signing keys are not made during a measured fleet run
    with tempfile.TemporaryDirectory() as d:
        sim = Simulator(landscape=fleet_landscape(count), port=port, job_seconds=job,
                        faults={"latency": latency}, tls=False).start()
        try:
            one_tenant_playbook(sim, Path(d), size)
            yield Path(d) / "fleet.yaml"
        finally:
            sim.stop()


def describe(label: str, r: FleetRun, size: int) -> str:
    """One printed line of a fleet run: wall time, tenants/s, how many succeeded, peak RSS (and stderr's end when
    some failed)."""
    return (f"{label}: {r.wall:7.2f} s wall, {size / r.wall:6.2f} tenants/s, {r.ok}/{size} ok, peak RSS "
            f"{r.rss_mb:.0f} MB" + ("" if r.ok == size else f"  [stderr: {r.err!r}]"))


def fleet(latency: float, job: float, parallels: list[int], count: int, serial: int) -> None:
    """(c) ``count`` tenants at each of ``parallels`` (``--max-in-flight 64``); at --parallel 1 the tenants run one
    after another, so its rate is measured on ``serial`` of them (the first tenant, which polls without history,
    weighs more there: the speed-up printed errs low). The speed-up is the ratio of the rates (tenants/s)."""
    rates = {}
    for n in parallels:
        size = min(count, serial) if n == 1 else count
        with fleet_landscape_started(count, size, latency, job) as fleet_yaml:
            r = run_fleet(fleet_yaml, n, 64)
        rates[n] = size / r.wall
        print(describe(f"(c) {size} tenants at --parallel {n:>2} --max-in-flight 64", r, size))
    if 1 in rates and max(rates) != 1:
        up = rates[max(rates)] / rates[1]
        print(f"    speed-up at --parallel {max(rates)} over 1: {up:.1f}x (target >= 20x: {verdict(20, up)})")


@contextlib.contextmanager
def job_times_store() -> Iterator[None]:
    """Runs inside learn job durations into a store of their own, empty at first (the provisioner's
    ``$PROVISIONER_JOB_TIMES``); the bench's store again on leaving."""
    before = os.environ.get("PROVISIONER_JOB_TIMES")
    with tempfile.TemporaryDirectory() as d:
        os.environ["PROVISIONER_JOB_TIMES"] = str(Path(d) / "job-times.json")
        try:
            yield
        finally:
            if before is None:
                os.environ.pop("PROVISIONER_JOB_TIMES", None)
            else:
                os.environ["PROVISIONER_JOB_TIMES"] = before


def fleet_scale(latency: float, job: float, sizes: tuple[int, int], parallel: int) -> None:
    """(c) at scale, with the default (adaptive) in-flight cap, every landscape on one port (one API host, as a
    partner's nightly runs against the same CF and BTP endpoints) and a job-times store of this series, empty at
    first: a fresh fleet of the smaller size with nothing learned (a first run against this host), then a fresh
    fleet of each size on a landscape of that size (polling on the durations the runs before saw) and its converged
    re-run. Prints fresh tenants/s of the smaller (learned, and with nothing learned), the converged re-run time of
    the larger over the smaller (linear: at most 5.5x for 5x the tenants) and the peak RSS of the larger's runs."""
    runs: dict[int, tuple[FleetRun, FleetRun]] = {}
    port = free_port()
    small, large = sizes
    with job_times_store():
        with fleet_landscape_started(small, small, latency, job, port) as fleet_yaml:
            cold = run_fleet(fleet_yaml, parallel)
        print(describe(f"(c) {small} tenants, fresh, --parallel {parallel}, default in-flight cap, nothing learned "
                       "yet", cold, small))
        for count in sizes:
            with fleet_landscape_started(count, count, latency, job, port) as fleet_yaml:
                fresh = run_fleet(fleet_yaml, parallel)
                converged = run_fleet(fleet_yaml, parallel)
            runs[count] = (fresh, converged)
            for label, r in (("fresh", fresh), ("converged re-run", converged)):
                print(describe(f"(c) {count} tenants, {label}, --parallel {parallel}, default in-flight cap", r,
                               count))
    rate, grow, rss = small / runs[small][0].wall, runs[large][1].wall / runs[small][1].wall, \
        max(r.rss_mb for r in runs[large])
    print(f"    (ii) {small} fresh tenants at --parallel {parallel}, default in-flight cap: {rate:.2f} tenants/s "
          f"with the job durations of earlier runs against this host (target >= 15: {verdict(15, rate)}); "
          f"{small / cold.wall:.2f} tenants/s in a first run against it")
    print(f"    (i) converged re-run, {large} tenants over {small}: {grow:.2f}x "
          f"(target <= {1.1 * large / small:g}x: {verdict(grow, 1.1 * large / small)})")
    print(f"    (iii) peak RSS at {large} tenants: {rss:.0f} MB (target <= 150 MB: {verdict(rss, 150)})")


def run_measured(cmd: list[str]) -> tuple[bytes, str, resource.struct_rusage]:
    """Run ``cmd``; return its stdout, stderr and its own resource usage (``os.wait4``: peak RSS of that child)."""
    import threading

    # bytecode caches written, as an installed package has them (PYTHONDONTWRITEBYTECODE would make every run
    # compile the provisioner's modules again: about 0.3 s of CPU before its first request)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    chunks: dict[str, bytes] = {}
    readers = [threading.Thread(target=lambda n=n, f=f: chunks.__setitem__(n, f.read()))
               for n, f in (("out", proc.stdout), ("err", proc.stderr))]
    for t in readers:
        t.start()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    for t in readers:
        t.join()
    return chunks.get("out", b""), chunks.get("err", b"").decode(errors="replace"), usage
