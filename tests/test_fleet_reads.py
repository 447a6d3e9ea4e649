"""Fleet-wide reads and the plan of the subaccount route from nothing, over HTTP against the simulator:
``inventory`` and ``plan`` over several playbooks (a glob and a ``tenants:`` list) with ``--parallel`` give one
table and one JSON document; ``plan`` on a subaccount where the tool never ran shows the Service Manager binding
it would create (exit 2) and ``run`` names that write; a 2023-06-12..10-15 playbook naming an instance or key that
is not there lists what is."""

from __future__ import annotations

import copy
import json
import xml.etree.ElementTree as ET

import yaml
from conftest import cli, steps_of

from provisioner.sim.generate import default_landscape, fleet_landscape

ERA_TENANTS = ("acme-cloudalm", "globex-cloudalm", "initech-cloudalm")
FLEET = ("tenant-001", "tenant-002", "tenant-003")


def mixed_landscape() -> dict:
    """The default landscape (a tenant of each era) plus three tenants provisioned before 2023-06-12."""
    land = default_landscape()
    land["subaccounts"] += copy.deepcopy(fleet_landscape(len(FLEET))["subaccounts"])
    land["global_account"]["entitlements"][0]["amount"] = 10
    return land


def era_playbooks(land, folder):
    """One playbook per era tenant (acme and globex on Cloud Foundry, initech on the subaccount route) and one
    playbook listing three tenants, in ``folder``: what ``folder/*.yaml`` globs, in that order."""
    folder.mkdir()
    cis, keys = {"file": str(land.dir / "cis-key.json")}, land.dir / "keys"
    cf = {"api": land.url, "username": {"env": "CF_USERNAME"}, "password": {"env": "CF_PASSWORD"}}
    docs = {
        "a-acme.yaml": {"tenant": {"subdomain": "acme-cloudalm", "provisioned": "2023-03-01"},
                        "btp": {"subaccount": "acme-cloudalm", "cis_key": cis}, "cf": {**cf, "org": "acme-cloudalm"},
                        "steps": {"space": {"name": "cloudalm", "developers": ["admin@example.com"]},
                                  "download": {"path": str(keys / "acme.json")}}},
        "b-globex.yaml": {"tenant": {"subdomain": "globex-cloudalm", "provisioned": "2023-08-01"},
                          "btp": {"subaccount": "globex-cloudalm", "cis_key": cis},
                          "cf": {**cf, "org": "globex-cloudalm"},
                          "steps": {"space": {"name": "cloudalm"}, "instance": {"name": "cloudalm-monitoring"},
                                    "key": {"name": "cloudalm-monitoring-key"},
                                    "download": {"path": str(keys / "globex.json")}}},
        "c-initech.yaml": {"tenant": {"subdomain": "initech-cloudalm", "provisioned": "2023-11-20"},
                           "btp": {"subaccount": "initech-cloudalm", "cis_key": cis},
                           "steps": {"download": {"path": str(keys / "initech.json")}}},
        "d-fleet.yaml": {"btp": {"cis_key": cis}, "cf": cf,
                         "steps": {"download": {"path": str(keys / "{tenant}.json")}},
                         "tenants": [{"tenant": {"subdomain": t, "provisioned": "2023-01-10"},
                                      "btp": {"subaccount": t}, "cf": {"org": t}} for t in FLEET]},
    }
    for name, doc in docs.items():
        (folder / name).write_text(yaml.safe_dump({"version": 1, **doc}, sort_keys=False))
    return sorted(folder.glob("*.yaml"))


def test_plan_and_inventory_over_a_fleet_give_one_table_and_one_report(make_landscape, tmp_path):
    land = make_landscape(mixed_landscape())
    files = era_playbooks(land, tmp_path / "pb")
    tenants = [*ERA_TENANTS, *FLEET]

    plan = cli("plan", *files, "--parallel", "4", "--report", tmp_path / "plan.json", "--junit", tmp_path / "p.xml")
    assert plan.exit_code == 2, plan.output  # changes pending, no tenant in error (initech: before its binding)
    assert "6 tenants: 6 ok, 0 failed" in plan.stdout
    summaries = [line.split()[1].rstrip(":") for line in plan.stdout.splitlines() if " steps: " in line]
    assert summaries == tenants
    report = json.loads((tmp_path / "plan.json").read_text())
    assert [t["tenant"] for t in report["tenants"]] == tenants and report["ok"] is True
    initech = report["tenants"][2]
    assert [(s["step"], s["action"]) for s in initech["steps"][:1]] == [("sm-binding", "create")]
    assert land.writes() == []
    assert ET.parse(tmp_path / "p.xml").getroot().get("errors") == "0"

    assert cli("run", *files, "--parallel", "4").exit_code == 0
    text = cli("inventory", *files, "--parallel", "4")
    assert text.exit_code == 0, text.output
    lines = text.stdout.splitlines()
    assert lines[0].split()[:3] == ["TENANT", "WHERE", "INSTANCE"]
    rows = [line.split()[0] for line in lines[1:] if line.split()[0] in tenants]
    assert sorted(set(rows)) == sorted(tenants) and rows == sorted(rows, key=tenants.index)  # playbook order
    assert any(line.startswith("initech-cloudalm") and "S4H_100_00" in line for line in lines)
    assert lines[-1].startswith("6 tenants: ") and lines[-1].endswith("6 read, 0 failed")

    doc = json.loads(cli("inventory", *files, "-p", "3", "--output", "json").stdout)
    assert doc["ok"] is True and [t["tenant"] for t in doc["tenants"]] == tenants
    assert {t["playbook"] for t in doc["tenants"]} == {str(f) for f in files}
    assert all(t["error"] is None and t["instances"] for t in doc["tenants"])
    for t in doc["tenants"]:
        key = json.loads((land.dir / "keys" / (t["tenant"].split("-")[0] + ".json")).read_text()) \
            if t["tenant"] in ERA_TENANTS else json.loads((land.dir / "keys" / f"{t['tenant']}.json").read_text())
        assert key["uaa"]["clientsecret"] not in json.dumps(doc)


def test_one_tenant_failing_in_a_fleet_inventory_does_not_stop_the_others(make_landscape, tmp_path):
    land = make_landscape(mixed_landscape())
    files = era_playbooks(land, tmp_path / "pb")
    out = cli("inventory", *files)  # initech: no Service Manager binding yet, and no Cloud Foundry to fall back on
    assert out.exit_code == 1, out.output
    assert "error: initech-cloudalm (" in out.stdout and "no Service Manager binding provisioner yet" in out.stdout
    assert out.stdout.splitlines()[-1].endswith("5 read, 1 failed (initech-cloudalm)")
    doc = json.loads(cli("inventory", *files, "-o", "json").stdout)
    assert doc["ok"] is False
    assert [t["tenant"] for t in doc["tenants"] if t["error"]] == ["initech-cloudalm"]
    assert land.writes() == []  # inventory never writes, not even the binding
    one = cli("inventory", files[2])  # one tenant: its error in one line, as before fleets
    assert one.exit_code == 1 and one.stderr.startswith("error: subaccount initech-cloudalm has no Service Manager")
    assert "unexpected extra" not in cli("inventory", *files[:2]).output


def subaccount_playbook(landscape, name: str = "sub.yaml", **overrides):
    return landscape.playbook(name, cf=None, **overrides)


def test_plan_from_nothing_on_the_subaccount_route_plans_the_binding_and_run_names_the_write(landscape, tmp_path):
    pb = subaccount_playbook(landscape)
    plan = cli("plan", pb, "--report", tmp_path / "plan.json", "--junit", tmp_path / "plan.xml")
    assert plan.exit_code == 2, plan.output
    assert "sm-binding   create" in plan.stdout
    assert "create Service Manager binding provisioner (serviceManagerBindings of the subaccount)" in plan.stdout
    got = steps_of(plan.stdout)
    assert (got["entitlement"], got["instance"], got["key"], got["download"]) == ("create", "skip", "skip", "skip")
    assert "not read yet: SAP Service Manager is read with binding provisioner" in plan.stdout
    assert landscape.writes() == []
    steps = json.loads((tmp_path / "plan.json").read_text())["tenants"][0]["steps"]
    assert (steps[0]["step"], steps[0]["action"]) == ("sm-binding", "create")
    cases = [c.get("name") for c in ET.parse(tmp_path / "plan.xml").getroot().iter("testcase")]
    assert cases[0] == "sm-binding"

    run = cli("run", pb, "--report", tmp_path / "run.json")
    assert run.exit_code == 0, run.output
    line = next(x for x in run.stdout.splitlines() if " sm-binding " in x)
    assert "created" in line
    assert "created Service Manager binding provisioner (serviceManagerBindings of the subaccount)" in line
    posted = [e for e in landscape.writes() if e["path"].endswith("/serviceManagerBindings")]
    assert [e["method"] for e in posted] == ["POST"]
    first = json.loads((tmp_path / "run.json").read_text())["tenants"][0]["steps"][0]
    assert (first["step"], first["action"]) == ("sm-binding", "created") and first["requests"] >= 1

    landscape.clear_journal()
    again = cli("run", pb)
    assert again.exit_code == 0 and "sm-binding" not in again.stdout and landscape.writes() == []
    assert cli("plan", pb).exit_code == 0


def test_a_post_2023_tenant_plans_without_error_before_its_binding(landscape):
    """The generated credentials cannot be located before Service Manager can be read: the plan says so and
    exits 2 (a fleet plan of such tenants used to end in errors, exit 1)."""
    pb = landscape.playbook("initech.yaml", cf=None, **{
        "tenant": {"subdomain": "initech-cloudalm", "provisioned": "2023-11-20", "purposes": ["monitoring"]},
        "btp.subaccount": "initech-cloudalm", "steps": {"download": {"path": str(landscape.dir / "i.json")}}})
    out = cli("plan", pb)
    assert out.exit_code == 2, out.output
    assert steps_of(out.stdout)["instance"] == "skip" and " error " not in out.stdout
    assert landscape.writes() == []


def test_a_named_instance_or_key_that_is_not_there_lists_the_candidates(landscape):
    overrides = {"tenant": {"subdomain": "globex-cloudalm", "provisioned": "2023-08-01", "purposes": ["monitoring"]},
                 "btp.subaccount": "globex-cloudalm", "cf.org": "globex-cloudalm", "steps.space.developers": None,
                 "steps.download.path": str(landscape.dir / "globex.json")}
    out = cli("plan", landscape.playbook("g.yaml", **overrides, **{"steps.instance.name": "cloudalm-mon"}))
    assert out.exit_code == 1
    assert "instance cloudalm-mon not found in space cloudalm; found there: 'cloudalm-monitoring' (keys " \
           "'cloudalm-monitoring-key')" in out.stdout
    out = cli("plan", landscape.playbook("k.yaml", **overrides, **{"steps.instance.name": "cloudalm-monitoring",
                                                                   "steps.key.name": "cloudalm-mon-key"}))
    assert out.exit_code == 1
    assert "service key cloudalm-mon-key not found on instance cloudalm-monitoring; found there: " \
           "'cloudalm-monitoring-key'" in out.stdout
    assert landscape.writes() == []


def test_the_binding_is_planned_once_for_a_tenant_with_several_purposes(landscape):
    pb = subaccount_playbook(landscape, "two.yaml", **{
        "tenant.purposes": ["monitoring", "api"], "steps.download.path": str(landscape.dir / "{purpose}.json"),
        "steps.purposes": {"api": {"instance": "calm-api", "key": "calm-api-key",
                                   "scopes": ["calm-api.projects.read"]}}})
    plan = cli("plan", pb)
    assert plan.exit_code == 2, plan.output
    assert [x.split()[2] for x in plan.stdout.splitlines() if " sm-binding" in x] == ["sm-binding[monitoring]"]
    run = cli("run", pb)
    assert run.exit_code == 0, run.output
    assert [x.split()[3] for x in run.stdout.splitlines() if " sm-binding" in x] == ["created"]


def test_many_candidates_keep_the_error_one_short_line(make_landscape):
    data = default_landscape()
    globex = next(sub for sub in data["subaccounts"] if sub["subdomain"] == "globex-cloudalm")
    space = globex["cf_org"]["spaces"][0]
    template = space["service_instances"][0]
    for i in range(14):
        extra = copy.deepcopy(template)
        extra.pop("guid", None)
        extra["name"] = f"monitoring-instance-{i:02d}-with-a-long-name"
        extra["keys"] = [{"name": f"key-{k}-{i:02d}-of-this-instance-with-a-long-name"} for k in range(4)]
        space["service_instances"].append(extra)
    land = make_landscape(data)
    out = cli("plan", land.playbook("g.yaml", **{
        "tenant": {"subdomain": "globex-cloudalm", "provisioned": "2023-08-01", "purposes": ["monitoring"]},
        "btp.subaccount": "globex-cloudalm", "cf.org": "globex-cloudalm", "steps.space.developers": None,
        "steps.instance.name": "not-there", "steps.download.path": str(land.dir / "g.json")}))
    assert out.exit_code == 1
    [line] = [x for x in out.stdout.splitlines() if "not found in space" in x]
    assert len(line) <= 300 and "found there: 'cloudalm-monitoring' (keys 'cloudalm-monitoring-key')" in line
    assert " more" in line


def test_the_planned_binding_stays_one_short_line_with_the_longest_names(landscape):
    pb = subaccount_playbook(landscape, "long.yaml", **{"btp.sm_binding": "b" * 100, "tenant.subdomain": "a" * 63})
    out = cli("plan", pb)
    assert "sm-binding   create" in out.stdout
    assert all(len(line) <= 300 for line in out.output.splitlines()), out.output
