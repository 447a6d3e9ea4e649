"""Where a measured fresh run spends its time over the critical-path bound: its critical chain read back from the
simulator's request journal (``GET /_sim/requests``: when each request reached the simulator, was handled and
was answered, on the simulator's clock, and the jobs it started or completed), split per edge.

Walking back from the last answer: a request waited for the answer that came last before it reached the
simulator (a hop: the client's time between that answer and this request, the injected latency, any queueing
behind the simulator's lock, the simulator's own processing), or, for the first read on a path that finds a job
due, for the write that started that job (a job edge: the job's duration and the poll lag, from the job being due
to that read being handled). Startup is the time to the first request being handled, finish the time after the
last request was handled (its processing, then the client's work after its answer); the edges add up to the run.
``python benchmarks/edges.py`` prints the breakdown of one fresh run (in-process simulator, 50 ms, 2 s jobs).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Edge:
    """One edge of the critical chain, seconds: ``kind`` "start", "hop", "job" or "finish"; ``what`` the request
    it ends at; ``span`` its whole length; for a hop ``client`` (an answer to the next request reaching the
    simulator), ``latency`` (injected), ``queue`` (waiting for the simulator's lock) and ``server`` (processing of
    the request the hop waited for); for a job edge ``job`` (its duration) and ``lag`` (due to the read seeing it
    handled); for the finish ``server`` (the last request's processing) and ``client`` (the work after its
    answer)."""

    kind: str
    what: str
    span: float
    client: float = 0.0
    latency: float = 0.0
    queue: float = 0.0
    server: float = 0.0
    job: float = 0.0
    lag: float = 0.0


def _label(e: dict[str, Any]) -> str:
    path = e["path"]
    for marker in ("/v3/jobs/", "/v3/service_credential_bindings/"):
        if marker in path:
            head, _, tail = path.partition(marker)
            path = head + marker + ":guid" + tail[36:] if len(tail) >= 36 else path
    return f"{e['method']} {path}"


def chain(entries: list[dict[str, Any]], start: float, end: float, latency: float) -> list[Edge]:
    """The critical chain of a run (``start``/``end``: its bounds on the simulator's clock; ``entries``: the
    journal of that run only), first edge first."""
    if not entries:
        return [Edge("start", "(no request)", end - start)]
    starts = [(i, j) for i, e in enumerate(entries) for j in e["jobs"] if j["event"] == "start"]
    last = _first_seeing(entries, starts, max(entries, key=lambda e: e["answered"]))
    edges = [Edge("finish", "after " + _label(last), end - last["handled"], client=end - last["answered"],
                  server=last["answered"] - last["handled"])]
    b = last
    while True:
        job = _job_waited(entries, starts, b)
        if job is not None:
            write, due, _ = job
            edges.append(Edge("job", _label(b), b["handled"] - write["handled"], job=due - write["handled"],
                              lag=b["handled"] - due))
            b = write
            continue
        before = [e for e in entries if e is not b and e["answered"] <= b["received"]]
        if not before:
            edges.append(Edge("start", _label(b), b["handled"] - start, client=b["received"] - start,
                              latency=min(latency, b["handled"] - b["received"]),
                              queue=max(0.0, b["handled"] - b["received"] - latency)))
            break
        a = _first_seeing(entries, starts, max(before, key=lambda e: e["answered"]))
        edges.append(Edge("hop", _label(b), b["handled"] - a["handled"], client=b["received"] - a["answered"],
                          latency=min(latency, b["handled"] - b["received"]),
                          queue=max(0.0, b["handled"] - b["received"] - latency), server=a["answered"] - a["handled"]))
        b = a
    return edges[::-1]


def _first_seeing(entries: list[dict[str, Any]], starts: list[tuple[int, dict[str, Any]]],
                  e: dict[str, Any]) -> dict[str, Any]:
    """``e``, or when it is one of several reads in flight that found a job done, the first of them (the one the
    client went on from)."""
    job = _job_waited(entries, starts, e)
    return job[2] if job is not None else e


def _job_waited(entries: list[dict[str, Any]], starts: list[tuple[int, dict[str, Any]]],
                b: dict[str, Any]) -> tuple[dict[str, Any], float, dict[str, Any]] | None:
    """(the write that started the job ``b`` waited for, when that job was due, the read that saw it done) when
    ``b`` is the read whose arrival completed a job (the simulator completes due jobs when a request arrives; in a
    wait, that is the first read after the job was due), or one more read on that read's path sent before its
    answer was back (reads in flight at once); None otherwise."""
    if b["method"] != "GET":
        return None
    index = entries.index(b)
    for i, job in reversed(starts):
        if i >= index or b["handled"] < job["due"]:
            continue
        for c in entries[i + 1:index + 1]:
            if any(j["event"] == "complete" and j["operation"] == job["operation"] and j["started"] == job["started"]
                   for j in c["jobs"]):
                if c["method"] == "GET" and c["path"] == b["path"]:
                    return entries[i], job["due"], c
                break
    return None


def summary(edges: list[Edge], latency: float, job_seconds: float, bound: float, bound_round_trips: int) -> list[str]:
    """Printable lines: each edge, then the time over the bound split by cause (round trips beyond the bound's,
    poll lag, client, server, queue, jobs started later than their write was handled)."""
    rows = []
    for e in edges:
        if e.kind == "job":
            detail = f"job {e.job:.3f} s + poll lag {e.lag * 1000:.1f} ms"
        elif e.kind == "finish":
            detail = f"server {e.server * 1000:.1f} + client after the last answer {e.client * 1000:.1f} ms"
        else:
            detail = (f"client {e.client * 1000:.1f} + latency {e.latency * 1000:.1f} + queue {e.queue * 1000:.1f}"
                      f" + server {e.server * 1000:.1f} ms")
        rows.append(f"      {e.kind:<6} {e.span * 1000:7.1f} ms  {detail:<58} -> {e.what}")
    wall = sum(e.span for e in edges)
    hops = sum(1 for e in edges if e.kind in ("hop", "start"))
    jobs = [e for e in edges if e.kind == "job"]
    parts = {"round trips beyond the bound's": (hops - bound_round_trips) * latency,
             "poll lag": sum(e.lag for e in jobs),
             "client": sum(e.client for e in edges),
             "server": sum(e.server for e in edges),
             "queue": sum(e.queue for e in edges),
             "jobs": sum(e.job - job_seconds for e in jobs) + sum(e.latency - latency for e in edges
                                                                   if e.kind in ("hop", "start"))}
    rows.append(f"    critical chain {wall:.3f} s: {hops} round trips (bound: {bound_round_trips}) + {len(jobs)} jobs "
                f"(poll lags {', '.join(f'{e.lag * 1000:.0f}' for e in jobs)} ms); over the bound "
                f"{(wall - bound) * 1000:.0f} ms = " + " + ".join(f"{k} {v * 1000:.0f}" for k, v in parts.items())
                + " ms")
    return rows


def main() -> None:
    import os
    import sys
    import tempfile
    import time
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import bound
    import run

    from provisioner.engine import runner
    from provisioner.playbook import load as playbook
    from provisioner.sim import Simulator
    from provisioner.sim.generate import fleet_landscape

    latency, job = 0.05, 2.0
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    store = tempfile.TemporaryDirectory()
    os.environ["PROVISIONER_JOB_TIMES"] = str(Path(store.name) / "job-times.json")
    b = bound.bound(bound.FRESH, latency, job)
    for i in range(rounds):
        with tempfile.TemporaryDirectory() as d:
            sim = Simulator(landscape=fleet_landscape(1), port=run.ROUND_PORT, job_seconds=job,
                            faults={"latency": latency}, tls=False).start()
            try:
                pb = playbook.load(run.one_tenant_playbook(sim, Path(d)))
                run.clear(sim)
                t0 = time.monotonic()
                runner.run(pb)
                t1 = time.monotonic()
                entries = run.journal(sim)
            finally:
                sim.stop()
        print(f"round {i}: {t1 - t0:.3f} s, {len(entries)} requests")
        print("\n".join(summary(chain(entries, t0, t1, latency), latency, job, b.done, b.round_trips)))


if __name__ == "__main__":
    main()
