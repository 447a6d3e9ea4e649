"""`make bench`: the figures of issue 5, printed (nothing is asserted; speed is not tested in tests/).

Starts the landscape simulator in this process with an injected latency per request and a job duration, then:
 (a) fresh provision of one tenant: wall time, requests, and the ratio to the critical-path lower bound
     = dependent round trips x latency + job durations, where dependent round trips are the requests made minus
     the extra polls (all but one read of each job while it runs: those overlap the job's duration);
 (b) converged re-run: wall time, requests, writes;
 (c) 100 tenants at --parallel 1, 8 and 32 (each a `provisioner run` subprocess): wall time, tenants per second,
     peak RSS of the provisioner process;
 (d) `provisioner --help` start-up time (median of 15).
Targets (printed beside the figures): converged re-run 0 writes and <= 10 requests; fresh provision <= 1.15x its
lower bound; 100 tenants at --parallel 32 >= 20x faster than at 1; --help < 150 ms median; peak RSS < 150 MB.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests
import yaml

from provisioner import playbook, runner
from provisioner.sim import Simulator
from provisioner.sim.generate import fleet_landscape

ROOT = Path(__file__).resolve().parents[1]
PROVISIONER = [sys.executable, "-m", "provisioner"]
JOB_PATHS = ("/v3/jobs/", "/jobs-management/")


def one_tenant_playbook(sim: Simulator, tmp: Path) -> Path:
    info = sim.info()
    (tmp / "cis-key.json").write_text(json.dumps(info["cis_key"]))
    os.environ.update(CF_USERNAME=info["cf_username"], CF_PASSWORD=info["cf_password"])
    data = {"version": 1,
            "tenant": {"subdomain": "tenant-001", "provisioned": "2023-01-10"},
            "btp": {"subaccount": "tenant-001", "cis_key": {"file": str(tmp / "cis-key.json")}},
            "cf": {"api": sim.url, "org": "tenant-001", "username": {"env": "CF_USERNAME"},
                   "password": {"env": "CF_PASSWORD"}},
            "steps": {"instance": {"name": "cloudalm-api"}, "download": {"path": str(tmp / "keys" / "{tenant}.json")}}}
    fleet = dict(data)
    fleet["tenants"] = [{"tenant": {"subdomain": f"tenant-{i:03d}"}, "btp": {"subaccount": f"tenant-{i:03d}"},
                         "cf": {"org": f"tenant-{i:03d}"}} for i in range(1, 101)]
    (tmp / "fleet.yaml").write_text(yaml.safe_dump(fleet, sort_keys=False))
    data["steps"]["download"]["path"] = str(tmp / "keys" / "tenant-001.json")
    path = tmp / "one.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def journal(sim: Simulator) -> list[dict]:
    return requests.get(sim.url + "/_sim/requests", timeout=30).json()


def clear(sim: Simulator) -> None:
    requests.delete(sim.url + "/_sim/requests", timeout=30)


def fresh_and_converged(latency: float, job: float) -> None:
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        sim = Simulator(landscape=fleet_landscape(1), port=0, job_seconds=job, faults={"latency": latency}).start()
        try:
            pb = playbook.load(one_tenant_playbook(sim, tmp))
            clear(sim)
            t0 = time.perf_counter()
            result = runner.run(pb)
            wall = time.perf_counter() - t0
            entries = journal(sim)
            polls: dict[str, int] = {}
            for e in entries:
                if e["method"] == "GET" and any(p in e["path"] for p in JOB_PATHS):
                    polls[e["path"]] = polls.get(e["path"], 0) + 1
            extra = sum(n - 1 for n in polls.values())
            jobs = len(polls)
            dependent = len(entries) - extra
            bound = dependent * latency + jobs * job
            print(f"(a) fresh provision: {wall:.2f} s wall, {len(entries)} requests ({result.writes} writes), "
                  f"{jobs} jobs of {job:g} s, {extra} extra polls; lower bound {dependent} x {latency * 1000:.0f} ms "
                  f"+ {jobs} x {job:g} s = {bound:.2f} s; ratio {wall / bound:.3f} (target <= 1.15)"
                  + ("" if result.ok else "  [RUN FAILED]"))
            clear(sim)
            t0 = time.perf_counter()
            again = runner.run(pb)
            wall = time.perf_counter() - t0
            entries = journal(sim)
            writes = [e for e in entries if e["method"] in ("POST", "PUT", "PATCH", "DELETE")
                      and not e["path"].endswith("/oauth/token")]
            print(f"(b) converged re-run: {wall:.2f} s wall, {len(entries)} requests, {len(writes)} writes "
                  f"(target: 0 writes, <= 10 requests)" + ("" if again.ok else "  [RUN FAILED]"))
        finally:
            sim.stop()


def fleet(latency: float, job: float, parallels: list[int], count: int) -> None:
    walls = {}
    for n in parallels:
        with tempfile.TemporaryDirectory() as d:
            tmp = Path(d)
            sim = Simulator(landscape=fleet_landscape(count), port=0, job_seconds=job,
                            faults={"latency": latency}).start()
            try:
                one_tenant_playbook(sim, tmp)
                t0 = time.perf_counter()
                out, err, usage = run_measured([*PROVISIONER, "run", str(tmp / "fleet.yaml"), "--parallel", str(n),
                                                "--max-in-flight", "64", "--output", "json"])
                wall = time.perf_counter() - t0
                rss = f"{usage.ru_maxrss / 1024:.0f} MB (target < 150 MB)"
                report = json.loads(out or b"{}") if out else {}
                ok = sum(1 for t in report.get("tenants", []) if t["ok"])
                walls[n] = wall
                print(f"(c) {count} tenants at --parallel {n:>2}: {wall:7.2f} s wall, {count / wall:6.2f} tenants/s, "
                      f"{ok}/{count} ok, peak RSS {rss}" + ("" if ok == count else f"  [stderr: {err[-300:]!r}]"))
            finally:
                sim.stop()
    if 1 in walls and max(walls) in walls and max(walls) != 1:
        print(f"    speed-up at --parallel {max(walls)} over 1: {walls[1] / walls[max(walls)]:.1f}x (target >= 20x)")


def run_measured(cmd: list[str]):
    """Run ``cmd``; return its stdout, stderr and its own resource usage (``os.wait4``: peak RSS of that child)."""
    import threading

    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
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


def startup() -> None:
    times = []
    for _ in range(15):
        t0 = time.perf_counter()
        subprocess.run([str(Path(sys.executable).parent / "provisioner"), "--help"], stdout=subprocess.DEVNULL,
                       check=True)
        times.append(time.perf_counter() - t0)
    print(f"(d) provisioner --help: median {statistics.median(times) * 1000:.0f} ms, min {min(times) * 1000:.0f} ms "
          f"over {len(times)} runs (target < 150 ms median)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--latency", type=float, default=0.05, help="injected latency per request (seconds)")
    ap.add_argument("--job-seconds", type=float, default=2.0, help="async job duration for (a) and (b)")
    ap.add_argument("--fleet-job-seconds", type=float, default=0.5, help="async job duration for (c)")
    ap.add_argument("--tenants", type=int, default=100)
    ap.add_argument("--parallel", type=int, nargs="+", default=[1, 8, 32])
    args = ap.parse_args()
    print(f"latency {args.latency * 1000:.0f} ms a request; jobs {args.job_seconds:g} s "
          f"(fleet: {args.fleet_job_seconds:g} s); machine: {os.cpu_count()} cores")
    fresh_and_converged(args.latency, args.job_seconds)
    fleet(args.latency, args.fleet_job_seconds, args.parallel, args.tenants)
    startup()


if __name__ == "__main__":
    main()
