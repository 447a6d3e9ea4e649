"""`make bench`: the speed figures, printed; fails (exit 1) when a measured run beats its bound.

Starts the landscape simulator in this process with an injected latency per request and a job duration (over plain
HTTP, ``tls=False``, as the figures in README.md were measured: they compare clients, not TLS), then:
 - prints the critical-path lower bound of any client (benchmarks/bound.py: the dependency graph, its longest
   path, for a fresh and a converged tenant) with the simulator's latency and job seconds;
 (a) fresh tenant and (b) converged re-run: this provisioner and a hand-written peer (benchmarks/peer.py:
     cloudfoundry-client + requests, polling every 0.1 s) alternately, ``--rounds`` each, each round on a fresh
     landscape on the same port (the API host stays the same, so the provisioner's later rounds poll on the job
     durations the earlier ones saw; its cold first round is printed too); medians, provisioner/peer, each
     against the bound; then each of the provisioner's fresh rounds' critical chain, read back from the simulator's
     journal (benchmarks/edges.py: round trips, poll lag, client, server and queueing time over the bound), and the
     median learned round edge by edge. Both clients are checked to have done the work
     (space, role, entitlement, instance parameters, key, a key file that signs in; the re-run re-reads roles,
     parameters and signs in with the key, writing nothing). A run under its bound exits 1 with a loud message;
 (c) 100 tenants at --parallel 8 and 32 and 20 at --parallel 1 (one after another: the rate is the same for 100;
     each a `provisioner run` subprocess): wall time, tenants per second, peak RSS of the provisioner process;
     then, with the default (adaptive) in-flight cap at --parallel 64, all on one API host (one port): a fresh
     100-tenant fleet with nothing learned (a first run against that host), then a fresh 100-tenant and a fresh
     500-tenant fleet polling on the job durations the runs before saw (as a partner's next batch against the same
     host does) and their converged re-runs: fresh tenants/s (learned, and with nothing learned), the converged
     re-run's 500/100 ratio (linear), the peak RSS at 500;
 (d) start-up: `provisioner --help` and `provisioner validate playbooks/demo.yaml` (median of 15 each), and
     validate's largest imports;
 (e) answers too large to read (benchmarks/bodies.py): the client's peak RSS facing a 50 MB JSON array (with and
     without Content-Length) and a gzip body inflating to 200 MB, beside a small answer's (about 3 s);
 (f) waits on realistic jobs (benchmarks/waits.py): the plain and the learned wait schedule, one fresh tenant whose
     jobs take 5, 30 and 120 s, on a skip clock: simulated seconds and reads.
Targets (printed beside the figures, each "met" or "NOT met"): fresh provision <= 1.05x its lower bound and
<= 0.95x the peer; converged re-run <= 1.0x the peer with 0 writes; 100 tenants at --parallel 32 >= 20x faster than
at 1; 100 fresh tenants at --parallel 64 with the default cap >= 15 tenants/s; converged 500 <= 5.5x converged 100;
peak RSS <= 150 MB at 500 tenants; `--help` <= 80 ms and `validate` <= 120 ms median; peak RSS < 300 MB facing
each too large answer.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import bound  # benchmarks/ (the directory of this script) is on sys.path
import edges
import peer
import requests
from bodies import bodies
from fleets import fleet, fleet_scale
from landscapes import free_port, one_tenant_playbook, verdict
from startup import startup
from waits import waits

from provisioner.engine import runner
from provisioner.playbook import load as playbook
from provisioner.sim import Simulator
from provisioner.sim.generate import fleet_landscape

#: every round's landscape on one port: its API host stays the same from round to round, as a real one does
ROUND_PORT = free_port()


class BenchError(RuntimeError):
    """A client did not do the work, or a measured run came in under its bound: `make bench` fails."""


def journal(sim: Simulator) -> list[dict]:
    return requests.get(sim.url + "/_sim/requests", timeout=30).json()


def clear(sim: Simulator) -> None:
    requests.delete(sim.url + "/_sim/requests", timeout=30)


@dataclass
class Measure:
    """One timed run: wall seconds, requests and writes (token requests are sign-ins, not writes), and its critical
    chain read back from the simulator's journal (benchmarks/edges.py)."""

    wall: float
    requests: int
    writes: int
    chain: list[edges.Edge]


def timed(sim: Simulator, work: Callable[[], object], latency: float) -> Measure:
    """Run ``work`` with an empty journal; return its wall time, the requests the simulator saw and the run's
    critical chain (the in-process simulator's clock is ``time.monotonic``)."""
    clear(sim)
    t0, m0 = time.perf_counter(), time.monotonic()
    work()
    wall, m1 = time.perf_counter() - t0, time.monotonic()
    entries = journal(sim)
    return Measure(wall, len(entries), len(writes_of(entries)), edges.chain(entries, m0, m1, latency))


def writes_of(entries: list[dict]) -> list[dict]:
    return [e for e in entries if e["method"] in ("POST", "PUT", "PATCH", "DELETE")
            and not e["path"].endswith("/oauth/token")]


def check_onboarded(sim: Simulator, key_file: Path, who: str) -> None:
    """The work done, whoever did it: space with the user as Space Developer, the plan assigned, the instance with
    the Cloud ALM parameters, the key with credentials, and the key file present and signing in with the
    ``imp-cdm-feature-*`` scopes. Raises BenchError naming what is missing."""
    state = requests.get(sim.url + "/_sim/state", timeout=30).json()
    spaces = [s["guid"] for s in state["spaces"] if s["name"] == "cloudalm"]
    instances = [i for i in state["service_instances"] if i["name"] == "cloudalm-api"]
    problems = []
    if not spaces:
        problems.append("no space")
    elif not any(r["type"] == "space_developer" and r["space_guid"] == spaces[0] for r in state["roles"]):
        problems.append("no Space Developer")
    if not any(a["entity_state"] == "OK" for a in state["assignments"]):
        problems.append("no entitlement")
    if not instances:
        problems.append("no instance")
    elif instances[0]["parameters"] != peer.CLOUD_ALM_PARAMETERS:
        problems.append(f"instance parameters {instances[0]['parameters']}")
    if not any(k["name"] == "cloudalm-api-key" and k["has_credentials"] for k in state["service_keys"]):
        problems.append("no key")
    if not key_file.exists():
        problems.append(f"no key file {key_file}")
    else:
        peer.sign_in_with_key(key_file)
    if problems:
        raise BenchError(f"{who}: the fresh run did not onboard the tenant: {', '.join(problems)}")


def check_rechecked(sim: Simulator, who: str, tenant: str) -> None:
    """The converged re-run re-checked the roles, the instance parameters and the key's sign-in, and wrote nothing.
    Raises BenchError otherwise."""
    entries = journal(sim)
    seen = {(e["method"], e["path"].rsplit("/", 1)[-1] if "/parameters" in e["path"] else e["path"]) for e in entries}
    needed = {("GET", "/v3/roles"): "roles", ("GET", "parameters"): "instance parameters",
              ("POST", f"/xsuaa/{tenant}/oauth/token"): "the key's sign-in"}
    missing = [what for call, what in needed.items() if call not in seen]
    writes = writes_of(entries)
    if missing:
        raise BenchError(f"{who}: the converged re-run did not re-check {', '.join(missing)}")
    if writes:
        raise BenchError(f"{who}: the converged re-run wrote {[(e['method'], e['path']) for e in writes]}")


def one_round(who: str, latency: float, job: float) -> tuple[Measure, Measure]:
    """A fresh landscape: ``who`` ("provisioner" or "peer") onboards tenant-001, then re-runs on the converged
    tenant. Returns both measures after checking that the work was done (BenchError otherwise)."""
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        sim = Simulator(landscape=fleet_landscape(1), port=ROUND_PORT, job_seconds=job,
                        faults={"latency": latency}, tls=False).start()
        try:
            if bound.simulator_timing(sim.url) != (latency, job):
                raise BenchError(f"the simulator runs with {bound.simulator_timing(sim.url)}, not {(latency, job)}")
            if who == "provisioner":
                pb = playbook.load(one_tenant_playbook(sim, tmp))
                key_file = tmp / "keys" / "tenant-001.json"
                results: list[runner.RunResult] = []
                work: Callable[[], object] = lambda: results.append(runner.run(pb))  # noqa: E731
            else:
                info = sim.info()
                key_file = tmp / "peer-keys" / "tenant-001.json"
                cfg = peer.PeerConfig(cf_api=info["cf_api"], username=info["cf_username"],
                                      password=info["cf_password"], cis_key=info["cis_key"], org="tenant-001",
                                      subaccount="tenant-001", key_file=key_file)
                work = lambda: peer.run(cfg)  # noqa: E731
            fresh = timed(sim, work, latency)
            if who == "provisioner" and not results[-1].ok:
                raise BenchError("provisioner: the fresh run failed")
            check_onboarded(sim, key_file, who)
            converged = timed(sim, work, latency)
            if who == "provisioner" and not results[-1].ok:
                raise BenchError("provisioner: the converged re-run failed")
            check_rechecked(sim, who, "tenant-001")
            peer.sign_in_with_key(key_file)  # still there and still valid after the re-run
            return fresh, converged
        finally:
            sim.stop()


def compare(latency: float, job: float, rounds: int) -> None:
    """Provisioner and peer alternately (``rounds`` each, the first of each round alternating), fresh and
    converged; print medians, provisioner/peer and each against the bound. Raises BenchError when a run came in
    under its bound (the bound would then be wrong) or a client did not do the work."""
    fresh_bound = bound.bound(bound.FRESH, latency, job).done
    conv_bound = bound.bound(bound.CONVERGED, latency, job).done
    runs: dict[str, list[tuple[Measure, Measure]]] = {"provisioner": [], "peer": []}
    for i in range(rounds):
        for who in (("provisioner", "peer") if i % 2 == 0 else ("peer", "provisioner")):
            runs[who].append(one_round(who, latency, job))
    under = [f"{who} {case} run {m.wall:.3f} s < bound {b:.3f} s"
             for who, pairs in runs.items() for pair in pairs
             for case, m, b in (("fresh", pair[0], fresh_bound), ("converged", pair[1], conv_bound)) if m.wall < b]
    # the targets of the performance issue: (label, index, bound, the most provisioner/bound, the most
    # provisioner/peer, what else)
    targets = (("(a) fresh tenant", 0, fresh_bound, 1.05, 0.95, ""),
               ("(b) converged re-run", 1, conv_bound, None, 1.0, "; 0 writes, roles, parameters and the key's "
                                                                  "sign-in re-checked"))
    cold = runs["provisioner"][0][0]
    print(f"(a) the provisioner's first fresh run (no job durations learned yet): {cold.wall:.3f} s "
          f"({cold.requests} requests); later rounds poll on the durations the earlier ones saw, as a re-run "
          "against the same API host does")
    for label, index, b, most_bound, most_peer, also in targets:
        med = {who: statistics.median(p[index].wall for p in pairs) for who, pairs in runs.items()}
        req = {who: statistics.median(p[index].requests for p in pairs) for who, pairs in runs.items()}
        wr = {who: max(p[index].writes for p in pairs) for who, pairs in runs.items()}
        ratio, over = med["provisioner"] / med["peer"], med["provisioner"] / b
        print(f"{label}, median of {rounds}: provisioner {med['provisioner']:.3f} s ({req['provisioner']:.0f} "
              f"requests, {wr['provisioner']} writes), peer {med['peer']:.3f} s ({req['peer']:.0f} requests, "
              f"{wr['peer']} writes); provisioner/peer {ratio:.3f} "
              f"(target <= {most_peer:g}: {verdict(ratio, most_peer)})")
        aim = f"target <= {most_bound:g}x: {verdict(over, most_bound)}" if most_bound else "no target"
        print(f"    vs the bound {b:.3f} s: provisioner {over:.3f}x ({aim}), peer {med['peer'] / b:.3f}x{also}")
    fresh_runs = [pair[0] for pair in runs["provisioner"]]
    fresh_path = bound.bound(bound.FRESH, latency, job)
    print(f"    (a) the provisioner's fresh rounds: {', '.join(f'{m.wall:.3f}' for m in fresh_runs)} s (the first "
          "cold); each round's critical chain, from the simulator's journal (benchmarks/edges.py):")
    for m in fresh_runs:
        print(edges.summary(m.chain, latency, job, fresh_path.done, fresh_path.round_trips)[-1])
    learned = sorted(fresh_runs[1:] or fresh_runs, key=lambda m: m.wall)
    print(f"    (a) the median learned round ({learned[len(learned) // 2].wall:.3f} s), edge by edge:")
    print("\n".join(edges.summary(learned[len(learned) // 2].chain, latency, job, fresh_path.done,
                                  fresh_path.round_trips)[:-1]))
    if under:
        raise BenchError("A MEASURED RUN CAME IN UNDER THE CRITICAL-PATH BOUND, so benchmarks/bound.py is wrong: "
                         + "; ".join(under))


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--latency", type=float, default=0.05, help="injected latency per request (seconds)")
    ap.add_argument("--job-seconds", type=float, default=2.0, help="async job duration for (a) and (b)")
    ap.add_argument("--rounds", type=int, default=5, help="fresh + converged runs of each client for (a) and (b)")
    ap.add_argument("--fleet-job-seconds", type=float, default=0.5, help="async job duration for (c)")
    ap.add_argument("--tenants", type=int, default=100)
    ap.add_argument("--parallel", type=int, nargs="*", default=[1, 8, 32],
                    help="(c) --tenants at these, --max-in-flight 64; none: skip this series")
    ap.add_argument("--serial-tenants", type=int, default=20, help="(c) tenants of the --parallel 1 run")
    ap.add_argument("--scale", type=int, nargs="*", default=[100, 500],
                    help="(c) fresh and converged fleets of these two sizes at --scale-parallel; none: skip")
    ap.add_argument("--scale-parallel", type=int, default=64)
    ap.add_argument("--no-startup", action="store_true", help="skip (d)")
    ap.add_argument("--no-bodies", action="store_true", help="skip (e)")
    ap.add_argument("--no-waits", action="store_true", help="skip (f)")
    args = ap.parse_args()
    # job durations are learned into a file of this bench run (not the user's cache): the first round starts cold
    store = tempfile.TemporaryDirectory()
    os.environ["PROVISIONER_JOB_TIMES"] = str(Path(store.name) / "job-times.json")
    print(f"latency {args.latency * 1000:.0f} ms a request; jobs {args.job_seconds:g} s "
          f"(fleet: {args.fleet_job_seconds:g} s); machine: {os.cpu_count()} cores")
    print(bound.table("Lower bound, fresh tenant", bound.FRESH, args.latency, args.job_seconds))
    print(bound.table("Lower bound, converged re-run", bound.CONVERGED, args.latency, args.job_seconds))
    try:
        compare(args.latency, args.job_seconds, args.rounds)
    except BenchError as exc:
        print(f"\nBENCH FAILED: {exc}", file=sys.stderr)
        sys.exit(1)
    if args.parallel:
        fleet(args.latency, args.fleet_job_seconds, args.parallel, args.tenants, args.serial_tenants)
    if args.scale:
        if len(args.scale) != 2:
            ap.error("--scale takes two fleet sizes (e.g. 100 500)")
        fleet_scale(args.latency, args.fleet_job_seconds, (args.scale[0], args.scale[1]), args.scale_parallel)
    if not args.no_startup:
        startup()
    if not args.no_bodies:
        bodies()
    if not args.no_waits:
        saved = os.environ["PROVISIONER_JOB_TIMES"]
        waits()  # sets the cache per round; the rest of the bench keeps its own
        os.environ["PROVISIONER_JOB_TIMES"] = saved


if __name__ == "__main__":
    main()
