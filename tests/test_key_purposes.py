"""One key per purpose (tenant.purposes), one run of one playbook, and the one Landscape Management key."""

from __future__ import annotations

import json

from conftest import cli, steps_of
from test_eras import tenant_playbook

PURPOSES = ["monitoring", "transport-management", "api"]


def globex(landscape, **extra):
    return tenant_playbook(landscape, "globex-cloudalm", "2023-08-01", PURPOSES, "cloudalm-own",
                           "cloudalm-{purpose}-key", **{
                               "steps.download.path": str(landscape.dir / "keys" / "{tenant}-{purpose}.json"),
                               "steps.purposes": {"monitoring": {"instance": "cloudalm-monitoring",
                                                                 "key": "cloudalm-monitoring-key"}}, **extra})


def test_one_playbook_three_purposes_three_key_files_and_the_monitoring_key_marked(landscape):
    pb = globex(landscape)
    report = landscape.dir / "report.json"
    out = cli("run", pb, "--report", report)
    assert out.exit_code == 0, out.output
    got = steps_of(out.stdout)
    # monitoring: SAP's generated key located; transport management and api: their own keys, made in the space
    assert got["key[monitoring]"] == "unchanged"
    assert got["key[transport-management]"] == "created" and got["key[api]"] == "created"
    files = {p: landscape.dir / "keys" / f"globex-cloudalm-{p}.json" for p in PURPOSES}
    clients = {p: json.loads(f.read_text())["uaa"]["clientid"] for p, f in files.items()}
    assert len(set(clients.values())) == 2  # instance-secret: transport and api share their instance's client
    for f in files.values():
        assert cli("key", "test", f).exit_code == 0

    keys = json.loads(report.read_text())["tenants"][0]["keys"]
    marked = [k for k in keys if k["landscape_management"]]
    assert [(k["purpose"], k["key"]) for k in marked] == [("monitoring", "cloudalm-monitoring-key")]
    assert [k["purpose"] for k in keys] == PURPOSES
    assert f"Landscape Management key: {files['monitoring']} (monitoring, key cloudalm-monitoring-key)" in out.stdout
    assert "upload " + str(files["monitoring"]) + " in SAP Cloud ALM > Landscape Management" in out.stdout
    assert "Landscape Management Security Administrator" in out.stdout
    assert "warning" not in out.stdout

    inventory = cli("inventory", pb)
    assert inventory.exit_code == 0, inventory.output
    marked_lines = [line for line in inventory.stdout.splitlines() if "the Landscape Management key" in line]
    assert len(marked_lines) == 1 and marked_lines[0].strip().startswith("cloudalm-monitoring-key ")

    # converged: a second run changes nothing and names no manual step
    landscape.clear_journal()
    again = cli("run", pb)
    assert again.exit_code == 0, again.output
    assert landscape.writes() == [] and "next step" not in again.stdout


def test_an_api_key_for_landscape_management_is_warned_about(landscape):
    pb = globex(landscape, **{"tenant.landscape_management": "api"})
    out = cli("plan", pb)
    assert out.exit_code == 2, out.output
    assert "warning: the Landscape Management key of globex-cloudalm is the api key" in out.stdout


def test_several_purposes_need_distinct_keys_and_files(landscape):
    pb = tenant_playbook(landscape, "globex-cloudalm", "2023-08-01", PURPOSES, "cloudalm-own", "cloudalm-key")
    out = cli("validate", pb)
    assert out.exit_code == 2
    assert "each needs its own key and file: put '{purpose}' in steps.key.name" in out.stderr


def test_from_october_2023_monitoring_takes_the_generated_binding_and_api_gets_its_own(landscape):
    from test_subaccount_eras import initech

    pb = initech(landscape, **{"tenant.purposes": ["monitoring", "api"],
                               "steps.download.path": str(landscape.dir / "keys" / "{tenant}-{purpose}.json"),
                               "steps.purposes": {"api": {"key": "cloudalm-api-key-for-programs"}}})
    out = cli("run", pb)
    assert out.exit_code == 0, out.output
    got = steps_of(out.stdout)
    assert got["key[monitoring]"] == "unchanged" and got["key[api]"] == "created"
    monitoring, api = (json.loads((landscape.dir / "keys" / f"initech-cloudalm-{p}.json").read_text())
                       for p in ("monitoring", "api"))
    assert monitoring["uaa"]["clientid"] != api["uaa"]["clientid"]
    assert "Landscape Management key: " + str(landscape.dir / "keys" / "initech-cloudalm-monitoring.json") \
        in out.stdout
