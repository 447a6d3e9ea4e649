"""A fleet over CI jobs: ``--shard K/N`` splits disjoint and covering, ``fleet matrix`` prints what GitHub Actions
and Argo Workflows fan out on, ``--resume`` skips exactly the tenants an earlier report shows converged; a fleet
signs in once per set of identical credentials, and a converged tenant's requests do not grow with the landscape."""

from __future__ import annotations

import json
import re

import pytest
import yaml
from conftest import cli
from hypothesis import given
from hypothesis import strategies as st
from test_fleet import fleet_playbook

from provisioner.errors import BadInput
from provisioner.fleet import fanout
from provisioner.sim.generate import fleet_landscape

GUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
subdomains = st.lists(st.from_regex(r"[a-z][a-z0-9-]{0,30}", fullmatch=True), unique=True, max_size=60)


@given(subs=subdomains, count=st.integers(min_value=1, max_value=40))
def test_shards_are_disjoint_and_cover_the_fleet(subs, count):
    class Pb:
        def __init__(self, sub: str):
            self.tenant = type("T", (), {"subdomain": sub})()

    pbs = [Pb(s) for s in subs]
    parts = [fanout.select(pbs, fanout.parse_shard(f"{k}/{count}")) for k in range(1, count + 1)]
    seen = [pb.tenant.subdomain for part in parts for pb in part]
    assert sorted(seen) == sorted(subs)  # covering, and no tenant twice (disjoint)
    # stable: a tenant's shard depends on its subdomain alone, not on who else is in the fleet
    for k, part in enumerate(parts, start=1):
        for pb in part:
            assert fanout.select([pb], fanout.Shard(k, count)) == [pb]


@pytest.mark.parametrize("text", ["0/3", "4/3", "1/0", "a/b", "1/257", "2"])
def test_a_bad_shard_is_refused(text):
    with pytest.raises(BadInput, match="--shard"):
        fanout.parse_shard(text)


@pytest.fixture
def small_fleet(make_landscape, tmp_path):
    land = make_landscape(fleet_landscape(6, without_roles=(4,)))
    return land, fleet_playbook(land.sim, tmp_path, count=6)


def test_fleet_matrix_for_github_actions_and_argo(small_fleet, tmp_path):
    _, pb = small_fleet
    gh = cli("fleet", "matrix", pb, "--shards", "3")
    assert gh.exit_code == 0, gh.output
    matrix = json.loads(gh.stdout)
    assert list(matrix) == ["include"] and matrix["include"]
    for entry in matrix["include"]:  # strategy.matrix: include entries are objects of scalars
        assert set(entry) == {"shard", "tenants"} and isinstance(entry["tenants"], int)
        assert entry["shard"].endswith("/3")
    assert sum(e["tenants"] for e in matrix["include"]) == 6

    argo = cli("fleet", "matrix", pb, "--shards", "3", "--format", "argo")
    assert argo.exit_code == 0, argo.output
    items = json.loads(argo.stdout)
    assert isinstance(items, list) and items == matrix["include"]  # withParam: a JSON list of objects

    default = json.loads(cli("fleet", "matrix", pb, "--per-shard", "4").stdout)
    assert {e["shard"].split("/")[1] for e in default["include"]} == {"2"}
    bad = cli("fleet", "matrix", pb, "--format", "gitlab")
    assert bad.exit_code == 2 and "github or argo" in bad.stderr


def test_the_shards_of_a_matrix_plan_every_tenant_once(small_fleet):
    _, pb = small_fleet
    shards = [e["shard"] for e in json.loads(cli("fleet", "matrix", pb, "--shards", "2").stdout)["include"]]
    planned: list[str] = []
    for shard in shards:
        out = cli("plan", pb, "--shard", shard, "--output", "json")
        planned += [t["tenant"] for t in json.loads(out.stdout)["tenants"]]
    assert sorted(planned) == [f"tenant-{i:03d}" for i in range(1, 7)]
    assert cli("plan", pb, "--shard", "3/2").exit_code == 1  # plan: bad input is an error, exit 1
    assert cli("run", pb, "--shard", "3/2").exit_code == 2


def test_resume_skips_exactly_the_converged_tenants(small_fleet, tmp_path):
    land, pb = small_fleet
    first = cli("run", pb, "--report", tmp_path / "first.json")
    assert first.exit_code == 1  # tenant-004's org is not visible
    land.clear_journal()
    again = cli("run", pb, "--resume", tmp_path / "first.json", "--output", "json",
                "--report", tmp_path / "second.json")
    assert again.exit_code == 1
    assert [t["tenant"] for t in json.loads(again.stdout)["tenants"]] == ["tenant-004"]
    assert land.writes() == []

    # a plan report: tenants with changes pending are not converged, tenants with nothing to do are
    plan = cli("plan", pb, "--report", tmp_path / "plan.json")
    assert plan.exit_code == 1
    report = json.loads((tmp_path / "plan.json").read_text())
    report["tenants"][0]["steps"][0]["action"] = "create"  # as if tenant-001 still needed a change
    (tmp_path / "plan.json").write_text(json.dumps(report))
    resumed = cli("plan", pb, "--resume", tmp_path / "plan.json", "--output", "json")
    assert [t["tenant"] for t in json.loads(resumed.stdout)["tenants"]] == ["tenant-001", "tenant-004"]

    (tmp_path / "junk.json").write_text("[1, 2]")
    bad = cli("run", pb, "--resume", tmp_path / "junk.json")
    assert bad.exit_code == 2 and "not a provisioner JSON report" in bad.stderr


def test_a_fleet_signs_in_once_per_set_of_identical_credentials(small_fleet):
    land, pb = small_fleet
    assert cli("run", pb, "--parallel", "3").exit_code == 1
    land.clear_journal()
    assert cli("run", pb, "--parallel", "3").exit_code == 1
    journal = land.journal()
    tokens = [e["path"] for e in journal if e["path"].endswith("/oauth/token")]
    roots = [e for e in journal if e["path"] == "/" and e["method"] == "GET"]
    # the CF user signs in once for the five tenants; each tenant's own key once (the sign-in test: different
    # credentials are never shared); one CF root document. The cis key once: tenant-004's entitlement (independent
    # of its org, which is not visible) is read from BTP
    keys = [f"/xsuaa/tenant-00{i}/oauth/token" for i in (1, 2, 3, 5, 6)]
    assert sorted(tokens) == sorted(["/uaa/oauth/token", "/xsuaa/acme-ga/oauth/token", *keys])
    assert len(roots) == 1


def converged_requests(make_landscape, tmp_path, count: int) -> list[tuple[str, str, str]]:
    """The requests of a converged re-run of tenant-001 in a generated landscape of ``count`` tenants."""
    land = make_landscape(fleet_landscape(count))
    data = yaml.safe_load(fleet_playbook(land.sim, tmp_path, count=1).read_text())
    data["steps"]["download"]["path"] = str(tmp_path / f"keys-{count}" / "{tenant}.json")
    one = tmp_path / f"one-of-{count}.yaml"
    one.write_text(yaml.safe_dump(data))
    assert cli("run", one).exit_code == 0
    land.clear_journal()
    assert cli("run", one).exit_code == 0
    requests = sorted((e["method"], GUID.sub("<guid>", e["path"]), GUID.sub("<guid>", e["query"]))
                      for e in land.journal())
    land.sim.stop()
    return requests


def test_a_converged_tenant_asks_the_same_in_a_small_and_a_large_landscape(make_landscape, tmp_path):
    small = converged_requests(make_landscape, tmp_path, 5)
    large = converged_requests(make_landscape, tmp_path, 200)
    assert small == large and small


def test_the_simulator_keeps_connections_open(landscape):
    import http.client
    import ssl
    from urllib.parse import urlsplit

    conn = http.client.HTTPSConnection(urlsplit(landscape.url).netloc, timeout=10,
                                       context=ssl.create_default_context())  # trusts the simulator's CA
    try:
        conn.request("POST", "/v3/spaces", body=b'{"name": "x"}', headers={"Content-Type": "application/json"})
        first = conn.getresponse()
        first.read()
        assert first.status == 401 and not first.will_close  # a request body read whole, the connection kept
        sock = conn.sock
        conn.request("GET", "/")
        second = conn.getresponse()
        assert second.status == 200 and json.loads(second.read())["links"]
        assert conn.sock is sock and sock is not None  # the same connection answered both
    finally:
        conn.close()


def test_the_service_manager_create_budget_spaces_creates_beyond_its_burst():
    from provisioner.clients.budget import TokenBucket

    bucket = TokenBucket(per_minute=2)  # a burst of 2, then one every 30 seconds (on the test's skipping clock)
    waits = [bucket.take() for _ in range(4)]
    assert waits[:2] == [0.0, 0.0] and waits[2:] == pytest.approx([30, 30], abs=0.5)
    with pytest.raises(ValueError):
        TokenBucket(per_minute=0)
