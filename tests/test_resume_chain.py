"""Cumulative ``--resume`` (a resumed run's report carries the tenants it skipped, so chained resumes re-run only
what has not converged), the ``--per-shard`` bound of ``fleet matrix`` (a property test), and the words of
``run --force``, ``revoke --recreate-instance`` and docs/ci-fanout.md."""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from pathlib import Path
from types import SimpleNamespace

import pytest
import requests
from conftest import cli
from hypothesis import given
from hypothesis import strategies as st
from test_fleet import fleet_playbook

from provisioner.errors import BadInput
from provisioner.fleet import fanout
from provisioner.sim.generate import fleet_landscape

DOCS = Path(__file__).resolve().parent.parent / "docs"


def failing_sign_in(land, *tenants: str) -> None:
    """Every sign-in with these tenants' keys answers 503 (after the HTTP layer's and the step's retries, their
    ``test`` step fails); an empty list switches the failures off."""
    rules = [{"paths": [f"/xsuaa/{t}/*"], "kinds": ["503"], "when": "before"} for t in tenants]
    requests.patch(land.url + "/_sim/faults", json={"failures": rules}, timeout=10).raise_for_status()


def zones(land) -> set[str]:
    """The tenants whose XSUAA zone (their key's sign-in) the journal shows."""
    return {e["path"].split("/")[2] for e in land.journal() if e["path"].startswith("/xsuaa/tenant-")}


def test_chained_resumes_re_run_only_the_failed_tenants(make_landscape, tmp_path):
    land = make_landscape(fleet_landscape(6))
    pb = fleet_playbook(land.sim, tmp_path, count=6)
    failing_sign_in(land, "tenant-002", "tenant-005")
    first = cli("run", pb, "--parallel", "3", "--report", tmp_path / "r1.json")
    assert first.exit_code == 1
    assert "6 tenants: 4 ok, 2 failed (tenant-002, tenant-005)" in first.stdout

    failing_sign_in(land, "tenant-005")  # tenant-002's cause is fixed, tenant-005's not yet
    land.clear_journal()
    second = cli("run", pb, "--resume", tmp_path / "r1.json", "--report", tmp_path / "r2.json")
    assert second.exit_code == 1
    assert zones(land) == {"tenant-002", "tenant-005"}
    assert "--resume " + str(tmp_path / "r1.json") + ": 4 tenant(s) skipped as converged: tenant-001, tenant-003, " \
           "tenant-004, tenant-006; 2 tenant(s) run" in second.stdout
    r2 = json.loads((tmp_path / "r2.json").read_text())
    assert [(t["tenant"], t["ok"]) for t in r2["tenants"]] == [("tenant-002", True), ("tenant-005", False)]
    assert r2["schema_version"] == "1.2" and r2["resumed"]["report"] == str(tmp_path / "r1.json")
    assert [s["tenant"] for s in r2["resumed"]["skipped"]] == ["tenant-001", "tenant-003", "tenant-004", "tenant-006"]
    assert {s["playbook"] for s in r2["resumed"]["skipped"]} == {str(pb)}

    failing_sign_in(land)
    land.clear_journal()
    third = cli("run", pb, "--resume", tmp_path / "r2.json", "--report", tmp_path / "r3.json", "-o", "json")
    assert third.exit_code == 0, third.output
    assert zones(land) == {"tenant-005"}  # tenant-002 converged in r2, the other four were carried by it
    r3 = json.loads(third.stdout)
    assert [t["tenant"] for t in r3["tenants"]] == ["tenant-005"]
    assert [s["tenant"] for s in r3["resumed"]["skipped"]] == [f"tenant-00{i}" for i in (1, 2, 3, 4, 6)]
    assert json.loads((tmp_path / "r3.json").read_text()) == r3

    land.clear_journal()
    done = cli("run", pb, "--resume", tmp_path / "r3.json")
    assert done.exit_code == 0 and land.journal() == []
    assert "6 tenant(s) skipped as converged: tenant-001, " in done.stdout and "; 0 tenant(s) run" in done.stdout


def test_a_report_without_resume_carries_no_resumed_field(landscape, tmp_path):
    out = cli("plan", landscape.playbook(), "-o", "json")
    assert "resumed" not in json.loads(out.stdout)
    broken = {"schema_version": "1.1", "ok": True, "tenants": [], "resumed": {"report": "x"}}
    (tmp_path / "broken.report").write_text(json.dumps(broken))
    bad = cli("run", landscape.playbook(), "--resume", tmp_path / "broken.report")
    assert bad.exit_code == 2 and "not a provisioner JSON report" in bad.stderr


subdomains = st.lists(st.from_regex(r"[a-z][a-z0-9-]{0,20}", fullmatch=True), unique=True, max_size=120)


@given(subs=subdomains, per_shard=st.integers(min_value=1, max_value=60))
def test_no_shard_of_a_matrix_holds_more_than_per_shard(subs, per_shard):
    try:
        count = fanout.shard_count(subs, per_shard)
    except BadInput as exc:  # only when no split into at most 256 shards keeps the bound
        assert "raise --per-shard or give --shards" in str(exc)
        low = max(1, math.ceil(len(subs) / per_shard))
        assert all(max(Counter(fanout.shard_number(s, n) for s in subs).values()) > per_shard
                   for n in range(low, fanout.MAX_SHARDS + 1))
        return
    entries = json.loads(fanout.matrix(subs, count, "argo"))
    assert all(e["tenants"] <= per_shard for e in entries)
    assert sum(e["tenants"] for e in entries) == len(subs)
    assert count == 1 or count >= math.ceil(len(subs) / per_shard)
    # the fewest such shards: one less would overfill one (or be fewer than the tenants need)
    if count > max(1, math.ceil(len(subs) / per_shard)):
        assert max(Counter(fanout.shard_number(s, count - 1) for s in subs).values()) > per_shard
    # what each job runs with --shard K/N is exactly what the matrix counted (stable: the subdomain alone decides)
    pbs = [SimpleNamespace(tenant=SimpleNamespace(subdomain=s)) for s in subs]
    for e in entries:
        assert len(fanout.select(pbs, fanout.parse_shard(e["shard"]))) == e["tenants"]


def test_per_shard_six_never_gives_a_seven_tenant_shard(tmp_path):
    pb = fleet_playbook(SimpleNamespace(url="https://api.cf.example.com"), tmp_path, count=13)
    out = cli("fleet", "matrix", pb, "--per-shard", "6")
    assert out.exit_code == 0, out.output
    entries = json.loads(out.stdout)["include"]
    assert max(e["tenants"] for e in entries) <= 6 and sum(e["tenants"] for e in entries) == 13
    # 13 tenants in 3 shards by their hash put 7 in one: more shards are used instead
    assert max(Counter(fanout.shard_number(f"tenant-{i:03d}", 3) for i in range(1, 14)).values()) == 7
    assert {e["shard"].split("/")[1] for e in entries} == {"4"}
    bad = cli("fleet", "matrix", fleet_playbook(SimpleNamespace(url="https://api.cf.example.com"), tmp_path,
                                                count=120), "--per-shard", "1")
    assert bad.exit_code == 2 and "--per-shard 1: no split of these 120 tenants" in bad.stderr


def test_run_force_says_it_replaced_the_file(landscape):
    pb = landscape.playbook()
    assert cli("run", pb).exit_code == 0
    key = json.loads(landscape.key_path.read_text())
    key["note"] = "edited by hand"
    landscape.key_path.write_text(json.dumps(key))
    kept = cli("run", pb)
    assert kept.exit_code == 1 and "kept it. Re-run with --force" in kept.stdout
    plan = cli("plan", pb)
    assert "differs from service key cloudalm-api-key; it is kept unless --force" in plan.stdout
    forced = cli("run", pb, "--force")
    assert forced.exit_code == 0, forced.output
    line = next(x for x in forced.stdout.splitlines() if " download " in x)
    assert "updated" in line and "--force replaces it (the old file is kept as a .bak beside it)" in line
    assert "kept unless --force" not in forced.stdout
    assert "note" not in json.loads(landscape.key_path.read_text())
    assert list(landscape.key_path.parent.glob("acme-cloudalm.json.*.bak"))


def test_revoke_recreate_instance_without_keys_names_what_it_deletes(landscape):
    pb = landscape.playbook()
    assert cli("run", pb).exit_code == 0
    assert cli("revoke", pb, "--yes").exit_code == 0  # the instance is left without a service key
    out = cli("revoke", pb, "--recreate-instance", "--yes")
    assert out.exit_code == 0, out.output
    assert out.stdout.startswith("plan: delete instance cloudalm-api (it holds no service key; its secret goes with "
                                 "it), then create instance cloudalm-api and key cloudalm-api-key again")
    assert "none" not in out.stdout.splitlines()[0]


def test_ci_fanout_installs_the_distribution_and_never_uploads_keys():
    text = (DOCS / "ci-fanout.md").read_text()
    installs = re.findall(r"pip install (\S+)", text)
    assert installs and set(installs) == {"cloudalm-provisioner"}
    uploads = re.findall(r"upload-artifact@v\d+.*?(?=\n      - |\n```)", text, flags=re.S)
    assert uploads and not any("keys" in u for u in uploads)
    artifacts = re.findall(r"artifacts:\n(.*?)(?=\n\S|\n```)", text, flags=re.S)
    assert artifacts and not any("key" in a.replace("report", "") for a in artifacts)


@pytest.mark.parametrize("per_shard", [0, -1])
def test_a_per_shard_below_one_is_refused(per_shard):
    with pytest.raises(BadInput, match="--per-shard"):
        fanout.shard_count(["a"], per_shard)
