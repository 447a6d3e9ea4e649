"""The critical-path lower bound of onboarding one Cloud ALM tenant on the Cloud Foundry route, for ANY client.

The bound is not what this tool does: it is the least time that any correct client needs against the APIs, given
the same inputs as the benchmark's playbook (the CF API URL, org name, user and password; the Cloud Management
``cis`` key; the subaccount's subdomain; offering, plan, instance, key and parameters) and the simulator's
timing. Independent chains run in parallel; the bound is the longest path through the graph below.

Timing model (that of the simulator, ``provisioner/sim/server.py``): every request is handled ``latency`` seconds
after it is sent (the latency is slept before the request is handled) and its response is back at once; an
asynchronous job (CF ``/v3/jobs``, BTP ``jobs-management``) ends ``job_seconds`` after the write that started it
was handled. A node is a number of sequential round trips (requests sent in parallel count once). A node that
needs a job's end ("job of") can have its first request sent before the job is due, so that it is handled just
when the job ends: its first round trip overlaps the job (polling lag 0). So, with L = latency and J = job
seconds, a node's first request is handled at
``max(max(done of its "after" nodes and of the job's write) + L, done of the job's write + J)``, and every further
round trip of the node adds L. ``done`` is when the node's last response is back.

What every correct client must do, and why (assumptions a faster client would have to break):

- The UAA is found from the API root (``GET /``, ``links.login``): the inputs give only the API URL.
- A write is sent once, after the read that shows it can succeed: a client does not fire a POST blindly and
  repeat it until the server stops refusing it (a read may be repeated: polling).
- The entitlement is read before it is written: ``PUT subaccountServicePlans`` sets an absolute amount (a blind
  PUT could lower a larger assignment) and the plan's ``category`` decides between ``enable`` and ``amount``. The
  GA-wide read (``serviceName`` + ``planName``, every subaccount) needs no subaccount GUID, so it runs beside the
  subaccount lookup.
- The plan becomes visible to the org when the entitlement job ends; a client may poll the plan listing instead
  of the BTP job. Key credentials likewise: polling ``/details`` may stand for polling the key's job. An instance
  job's end is read (``GET /v3/jobs/:guid``) before its key is created.
- Reads filtered by a parent's name (``service_instance_names``, ``names`` with ``include=``) need not wait for
  the parent's lookup; reads filtered by a GUID (roles by ``space_guids``, plans by ``organization_guids``,
  ``/parameters``, ``/details``) wait for it.
- A converged re-run checks drift with reads only; a plan visible in the org is the entitlement's proof (no BTP
  call). The key file of the first run is there, so its sign-in needs no CF call before it: reading ``/details``
  (compared with the file) and signing in run side by side. Local work (writing the key file, the four format
  checks) takes no round trip.

``python benchmarks/bound.py [--latency S] [--job-seconds S]`` prints both graphs and bounds; ``make bench``
prints them with the simulator's settings and fails when a measured run comes in under its bound.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass

import requests


@dataclass(frozen=True)
class Node:
    """One step of the graph: ``requests`` (text), ``round_trips`` sequential round trips, the nodes whose
    responses it needs (``after``) and the node whose write started a job that must have ended (``job_of``)."""

    name: str
    requests: str
    round_trips: int = 1
    after: tuple[str, ...] = ()
    job_of: str | None = None


FRESH: tuple[Node, ...] = (
    Node("cf-root", "GET / (links.login: where the UAA is)"),
    Node("cf-sign-in", "POST <uaa>/oauth/token (password grant)", after=("cf-root",)),
    Node("btp-sign-in", "POST <cis uaa.url>/oauth/token (client credentials)"),
    Node("org-space", "GET /v3/organizations?names= || GET /v3/spaces?names= (none yet)", after=("cf-sign-in",)),
    Node("space-create", "POST /v3/spaces", after=("org-space",)),
    Node("role-grant", "POST /v3/roles (space_developer; a new space has no roles)", after=("space-create",)),
    Node("entitlement-read", "GET /accounts/v1/subaccounts || GET /entitlements/v1/assignments?serviceName&planName",
         after=("btp-sign-in",)),
    Node("entitlement-assign", "PUT /entitlements/v1/subaccountServicePlans (202: job)", after=("entitlement-read",)),
    Node("plan-visible", "GET /v3/service_plans?organization_guids= (the read that sees the plan after the job)",
         after=("org-space",), job_of="entitlement-assign"),
    Node("instance-create", "POST /v3/service_instances (202: job)", after=("space-create", "plan-visible")),
    Node("instance-ready", "GET /v3/jobs/:guid (the read that sees the job COMPLETE)", job_of="instance-create"),
    Node("key-create", "POST /v3/service_credential_bindings (type key; 202: job)", after=("instance-ready",)),
    Node("key-details", "GET /v3/service_credential_bindings/:guid/details (the read that sees the credentials)",
         job_of="key-create"),
    Node("key-sign-in", "POST <key uaa.url>/oauth/token (client credentials; the key file is written locally)",
         after=("key-details",)),
)

CONVERGED: tuple[Node, ...] = (
    Node("cf-root", "GET / (links.login: where the UAA is)"),
    Node("cf-sign-in", "POST <uaa>/oauth/token (password grant)", after=("cf-root",)),
    Node("org-space", "GET /v3/spaces?names=&include=organization", after=("cf-sign-in",)),
    Node("roles", "GET /v3/roles?space_guids=&types=space_developer&include=user", after=("org-space",)),
    Node("plan", "GET /v3/service_plans?organization_guids= (visible: the entitlement holds)", after=("org-space",)),
    Node("instance", "GET /v3/service_instances?names=&include=space", after=("cf-sign-in",)),
    Node("parameters", "GET /v3/service_instances/:guid/parameters", after=("instance",)),
    Node("key", "GET /v3/service_credential_bindings?names=&service_instance_names=", after=("cf-sign-in",)),
    Node("key-details", "GET /v3/service_credential_bindings/:guid/details", after=("key",)),
    Node("key-sign-in", "POST <key uaa.url>/oauth/token (with the key file of the first run)"),
)


@dataclass(frozen=True)
class Timing:
    """When a node is done (seconds from the start) and the path that decides it, as round trips and jobs."""

    done: float
    round_trips: int
    jobs: int
    path: tuple[str, ...]


def schedule(nodes: tuple[Node, ...], latency: float, job_seconds: float) -> dict[str, Timing]:
    """Earliest completion of every node (see the module docstring for the rule). ``nodes`` must list a node
    after those it needs; raises KeyError otherwise."""
    done: dict[str, Timing] = {}
    for node in nodes:
        start = Timing(0.0, 0, 0, ())
        for name in (*node.after, *((node.job_of,) if node.job_of else ())):
            if done[name].done > start.done:
                start = done[name]
        first = Timing(start.done + latency, start.round_trips + 1, start.jobs, (*start.path, node.name))
        if node.job_of is not None:
            write = done[node.job_of]
            if write.done + job_seconds > first.done:
                first = Timing(write.done + job_seconds, write.round_trips, write.jobs + 1,
                               (*write.path, f"[job {job_seconds:g} s]", node.name + "*"))
        more = node.round_trips - 1
        done[node.name] = Timing(first.done + more * latency, first.round_trips + more, first.jobs, first.path)
    return done


def bound(nodes: tuple[Node, ...], latency: float, job_seconds: float) -> Timing:
    """The longest path: the node done last (seconds, and how many round trips and jobs make it up)."""
    return max(schedule(nodes, latency, job_seconds).values(), key=lambda t: t.done)


def table(title: str, nodes: tuple[Node, ...], latency: float, job_seconds: float) -> str:
    """The graph as a printable table (one row per node: round trips, needs, job waited for, done at), then the
    critical path and the bound."""
    times = schedule(nodes, latency, job_seconds)
    rows = [f"{title} (round trip {latency * 1000:.0f} ms, jobs {job_seconds:g} s)",
            f"  {'node':<18} {'RT':>2}  {'after':<28} {'job of':<18} {'done':>7}  requests"]
    for n in nodes:
        rows.append(f"  {n.name:<18} {n.round_trips:>2}  {','.join(n.after) or '-':<28} {n.job_of or '-':<18} "
                    f"{times[n.name].done:>6.3f}s  {n.requests}")
    last = bound(nodes, latency, job_seconds)
    rows.append(f"  critical path: {' -> '.join(last.path)}"
                + ("  (* its round trip overlaps the job)" if last.jobs else ""))
    rows.append(f"  bound: {last.round_trips} round trips x {latency * 1000:.0f} ms + {last.jobs} jobs x "
                f"{job_seconds:g} s = {last.done:.3f} s")
    return "\n".join(rows)


def simulator_timing(sim_url: str) -> tuple[float, float]:
    """The latency and job seconds a running simulator applies (``GET /_sim/faults``, ``GET /_sim/config``).
    Raises ValueError when per-path latency or per-operation job times are set (the model has one of each)."""
    faults = requests.get(sim_url + "/_sim/faults", timeout=30).json()
    config = requests.get(sim_url + "/_sim/config", timeout=30).json()
    if faults.get("latency_by_path") or faults.get("job_seconds_by_operation"):
        raise ValueError("the bound assumes one latency and one job duration: clear latency_by_path and "
                         "job_seconds_by_operation")
    return float(faults.get("latency", 0.0)), float(config["job_seconds"])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--latency", type=float, default=0.05, help="seconds a round trip (the simulator's latency)")
    ap.add_argument("--job-seconds", type=float, default=2.0, help="seconds an async job takes")
    args = ap.parse_args()
    print(table("fresh tenant", FRESH, args.latency, args.job_seconds))
    print(table("converged re-run", CONVERGED, args.latency, args.job_seconds))


if __name__ == "__main__":
    main()
