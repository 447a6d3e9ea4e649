"""Fleets: many tenants in one command, concurrently; one tenant's failure never stops the others; reports for CI."""

from __future__ import annotations

import json
import stat
import xml.etree.ElementTree as ET

import pytest
import yaml
from conftest import cli

from provisioner.sim.generate import fleet_landscape

COUNT, BROKEN = 20, 13


@pytest.fixture
def fleet(make_landscape, tmp_path):
    land = make_landscape(fleet_landscape(COUNT, without_roles=(BROKEN,)))
    return land.sim, tmp_path


def fleet_playbook(sim, tmp_path, count=COUNT):
    """One playbook listing every tenant; the shared settings are written once."""
    data = {
        "version": 1,
        "btp": {"cis_key": {"file": str(tmp_path / "cis-key.json")}},
        "cf": {"api": sim.url, "username": {"env": "CF_USERNAME"}, "password": {"env": "CF_PASSWORD"}},
        "steps": {"instance": {"name": "cloudalm-api"},
                  "download": {"path": str(tmp_path / "keys" / "{tenant}.json")}},
        "tenants": [{"tenant": {"subdomain": f"tenant-{i:03d}", "provisioned": "2023-01-10"},
                     "btp": {"subaccount": f"tenant-{i:03d}"}, "cf": {"org": f"tenant-{i:03d}"}}
                    for i in range(1, count + 1)],
    }
    path = tmp_path / "fleet.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def test_twenty_tenants_in_parallel_one_failing(fleet):
    sim, tmp = fleet
    pb = fleet_playbook(sim, tmp)
    out = cli("run", pb, "--parallel", "8", "--report", tmp / "report.json", "--junit", tmp / "junit.xml")
    assert out.exit_code == 1, out.output
    assert f"{COUNT} tenants: {COUNT - 1} ok, 1 failed (tenant-{BROKEN:03d})" in out.stdout

    report = json.loads((tmp / "report.json").read_text())
    assert report["ok"] is False
    by_tenant = {t["tenant"]: t for t in report["tenants"]}
    assert len(by_tenant) == COUNT
    broken = by_tenant.pop(f"tenant-{BROKEN:03d}")
    assert broken["ok"] is False
    failed = [s for s in broken["steps"] if s["action"] == "failed"]
    assert failed[0]["step"] == "space" and "not found or not visible" in failed[0]["error"]
    for t in by_tenant.values():
        assert t["ok"] and [s["action"] for s in t["steps"]][:5] == ["created"] * 5, t
        assert all(isinstance(s["seconds"], float) and s["requests"] >= 0 for s in t["steps"])
        key = tmp / "keys" / f"{t['tenant']}.json"
        assert stat.S_IMODE(key.stat().st_mode) == 0o600
        assert json.loads(key.read_text())["uaa"]["identityzone"] == t["tenant"]

    junit = ET.parse(tmp / "junit.xml").getroot()
    assert junit.get("failures") == "1"
    failures = junit.findall(".//testcase[failure]")
    assert [(f.get("classname"), f.get("name")) for f in failures] == [(f"tenant-{BROKEN:03d}", "space")]

    # the converged 19 stay converged: a second run writes nothing for them
    again = cli("run", pb, "--parallel", "8", "--output", "json")
    assert again.exit_code == 1
    rerun = json.loads(again.stdout)
    writes = {t["tenant"]: t["writes"] for t in rerun["tenants"] if t["ok"]}
    assert len(writes) == COUNT - 1 and set(writes.values()) == {0}


def test_several_playbook_files_and_plan(fleet):
    sim, tmp = fleet
    files = []
    for i in (1, 2, 3):
        data = yaml.safe_load(fleet_playbook(sim, tmp, count=3).read_text())
        one = {k: v for k, v in data.items() if k != "tenants"}
        for k, v in data["tenants"][i - 1].items():
            one[k] = {**one.get(k, {}), **v}
        one["steps"]["download"]["path"] = str(tmp / "keys" / f"tenant-{i:03d}.json")
        f = tmp / f"t{i}.yaml"
        f.write_text(yaml.safe_dump(one))
        files.append(f)
    plan = cli("plan", *files, "--parallel", "3")
    assert plan.exit_code == 2, plan.output
    assert cli("run", *files, "--parallel", "3").exit_code == 0
    assert cli("plan", *files).exit_code == 0


def test_a_bad_playbook_in_a_fleet_runs_nothing(fleet):
    sim, tmp = fleet
    good = fleet_playbook(sim, tmp, count=2)
    bad = tmp / "bad.yaml"
    bad.write_text(good.read_text().replace("cloudalm-api", "cloud alm api"))
    out = cli("run", good, bad)
    assert out.exit_code == 2
    assert "contains spaces" in out.stderr
    assert requests_made(sim) == 0


def requests_made(sim) -> int:
    import requests

    return len(requests.get(sim.url + "/_sim/requests", timeout=10).json())


def test_validate_lists_every_tenant_of_a_fleet_playbook(fleet):
    sim, tmp = fleet
    out = cli("validate", fleet_playbook(sim, tmp, count=3))
    assert out.exit_code == 0, out.output
    assert [line.split("(tenant ")[1].split(",")[0] for line in out.stdout.splitlines()] == \
        ["tenant-001", "tenant-002", "tenant-003"]
