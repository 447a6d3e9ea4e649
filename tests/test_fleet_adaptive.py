"""What a fleet adapts to, seen over HTTP against the simulator: the in-flight cap of an API host halves on HTTP
429 and grows back on fast answers (as the session pool reports it), a fixed ``--max-in-flight`` never moves, and
job polling learns: the second tenant of a fleet reads its jobs fewer times than the first. No timing asserts."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import requests
import yaml

from provisioner.clients.http import HttpClient, HttpSettings, SessionPool
from provisioner.clients.inflight import START
from provisioner.sim.generate import fleet_landscape


def faults(landscape, settings: dict) -> None:
    requests.patch(landscape.url + "/_sim/faults", json=settings, timeout=10).raise_for_status()


def test_the_cap_halves_on_429_and_grows_back_on_fast_answers(landscape):
    pool = SessionPool(HttpSettings())
    cf = HttpClient(landscape.url, what="Cloud Foundry API", pool=pool)
    for _ in range(20):  # a settled host: fast answers, the cap grows from where it starts
        cf.request("GET", "/")
    (origin, grown), = pool.caps().items()
    assert not grown.fixed and grown.cap > START and grown.backoffs == 0

    for _ in range(3):  # each answered only after a 429 the HTTP layer retried: it halves each time
        faults(landscape, {"retry_after": 0, "failures": [{"paths": ["/"], "kinds": ["429"], "times": 1}]})
        cf.request("GET", "/")
    shrunk = pool.caps()[origin]
    assert shrunk.backoffs == 3 and shrunk.cap == grown.cap // 8 and shrunk.lowest == shrunk.cap

    requests.delete(landscape.url + "/_sim/faults", timeout=10).raise_for_status()
    for _ in range(150):
        cf.request("GET", "/")
    recovered = pool.caps()[origin]
    assert recovered.cap > shrunk.cap and recovered.backoffs == 3


def test_an_answer_much_slower_than_the_hosts_median_halves_the_cap(landscape):
    pool = SessionPool(HttpSettings())
    cf = HttpClient(landscape.url, what="Cloud Foundry API", pool=pool)
    for _ in range(20):
        cf.request("GET", "/")
    faults(landscape, {"latency_by_path": {"/": 2.0}})  # on the test's clock: no real wait
    cf.request("GET", "/")
    (report,) = pool.caps().values()
    assert report.backoffs == 1 and report.cap == report.highest // 2


def test_a_fixed_cap_never_moves(landscape):
    pool = SessionPool(HttpSettings(max_in_flight_per_host=4))
    cf = HttpClient(landscape.url, what="Cloud Foundry API", pool=pool)
    faults(landscape, {"retry_after": 0, "failures": [{"paths": ["/"], "kinds": ["429"], "times": 2}]})
    for _ in range(10):
        cf.request("GET", "/")
    (report,) = pool.caps().values()
    assert report.fixed and report.cap == report.lowest == report.highest == 4 and report.backoffs == 0


def test_requests_waiting_at_a_binding_cap_all_get_through(landscape):
    # 24 threads at a cap of 2: each answer frees one slot and wakes one waiter; none is left waiting
    pool = SessionPool(HttpSettings(max_in_flight_per_host=2))
    cf = HttpClient(landscape.url, what="Cloud Foundry API", pool=pool)
    with ThreadPoolExecutor(max_workers=24) as workers:
        statuses = list(workers.map(lambda _: cf.request("GET", "/").status_code, range(96)))
    assert statuses == [200] * 96
    (report,) = pool.caps().values()
    assert report.cap == 2 and report.fixed

def test_the_second_tenant_of_a_fleet_reads_its_jobs_fewer_times(make_landscape, tmp_path, run_cli):
    """Two tenants one after the other, jobs of 2 s: the first polls on the no-history rhythm, the second on what
    the first one's jobs took."""
    land = make_landscape(fleet_landscape(2), job_seconds=2.0)
    data = {
        "version": 1,
        "btp": {"cis_key": {"file": str(tmp_path / "cis-key.json")}},
        "cf": {"api": land.url, "username": {"env": "CF_USERNAME"}, "password": {"env": "CF_PASSWORD"}},
        "steps": {"instance": {"name": "cloudalm-api"}, "download": {"path": str(tmp_path / "keys" / "{tenant}.json")}},
        "tenants": [{"tenant": {"subdomain": f"tenant-{i:03d}", "provisioned": "2023-01-10"},
                     "btp": {"subaccount": f"tenant-{i:03d}"}, "cf": {"org": f"tenant-{i:03d}"}} for i in (1, 2)],
    }
    (tmp_path / "fleet.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    out = run_cli("run", tmp_path / "fleet.yaml", "--parallel", "1", "--output", "json")
    assert out.exit_code == 0, out.output
    assert [t["ok"] for t in json.loads(out.stdout)["tenants"]] == [True, True]

    journal = land.journal()
    creates = [i for i, e in enumerate(journal) if e["method"] == "POST" and e["path"] == "/v3/service_instances"]
    assert len(creates) == 2

    def job_reads(entries: list[dict]) -> int:
        return sum(1 for e in entries if e["method"] == "GET" and e["path"].startswith("/v3/jobs/"))

    first, second = job_reads(journal[creates[0]:creates[1]]), job_reads(journal[creates[1]:])
    assert second < first / 2, (first, second)
