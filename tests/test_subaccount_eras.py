"""Tenants provisioned on or after 2023-10-16 (initech-cloudalm in the simulator's default landscape): SAP generated
the credentials at subaccount level (an instance "SAP Cloud ALM API" with a binding-key-… binding, no Cloud
Foundry); the tool finds them by plan and creator, with no names in the playbook, and never touches the
per-system binding S4H_100_00 nor the generated binding."""

from __future__ import annotations

import json

import pytest
from conftest import cli, steps_of

from provisioner.clients.btp import Btp

GENERATED_INSTANCE = "SAP Cloud ALM API"


def initech(landscape, name: str = "initech.yaml", **overrides):
    """initech's playbook as the repository ships it: no cf section, no instance or key names."""
    return landscape.playbook(name, **{
        "tenant": {"subdomain": "initech-cloudalm", "provisioned": "2023-11-20", "purposes": ["monitoring"]},
        "btp.subaccount": "initech-cloudalm", "cf": None, "steps": {
            "download": {"path": str(landscape.dir / "keys" / "initech-cloudalm.json")}}, **overrides})


def sm_state(landscape) -> dict[str, list[str]]:
    """Instance name → binding names of initech's subaccount, read through Service Manager by another admin."""
    from test_subaccount_route import admin_sm

    sm = admin_sm(landscape, "initech-cloudalm")
    return {i["name"]: sorted(b["name"] for b in sm.bindings(i["id"])) for i in sm.instances()}


def generated_binding(landscape) -> str:
    return next(n for n in sm_state(landscape)[GENERATED_INSTANCE] if n.startswith("binding-key-"))


def test_generated_credentials_found_downloaded_checked_and_tested_without_names_or_writes(landscape):
    pb = initech(landscape)
    binding = generated_binding(landscape)
    landscape.clear_journal()
    out = cli("run", pb)
    assert out.exit_code == 0, out.output
    assert "locate them at subaccount level by plan and creator" in out.stdout
    got = steps_of(out.stdout)
    assert got == {"space": "skipped", "entitlement": "skipped", "instance": "unchanged", "key": "unchanged",
                   "download": "created", "check": "passed", "test": "passed"}
    assert f"found instance {GENERATED_INSTANCE!r} of SAPCloudALMAPIs/standard at subaccount level: generated " \
           "with the tenant (found by plan and creator)" in out.stdout
    assert f"found binding {binding!r}" in out.stdout
    # the only write: the tool's own Service Manager access (serviceManagerBindings), made once
    writes = [(w["method"], w["path"].rsplit("/", 1)[-1]) for w in landscape.writes()]
    assert writes == [("POST", "serviceManagerBindings")]
    key = json.loads((landscape.dir / "keys" / "initech-cloudalm.json").read_text())
    assert key["uaa"]["credential-type"] == "binding-secret"
    assert key["uaa"]["identityzone"] == "initech-cloudalm"

    landscape.clear_journal()
    plan = cli("plan", pb)
    assert plan.exit_code == 0, plan.output
    assert "generated with the tenant (found by plan and creator)" in plan.stdout
    again = cli("run", pb)
    assert again.exit_code == 0
    assert landscape.writes() == []


def test_with_an_sm_key_nothing_at_all_is_written(landscape, tmp_path):
    btp = Btp(json.loads((landscape.dir / "cis-key.json").read_text()), source="test")
    sm_key = tmp_path / "sm-key.json"
    sm_key.write_text(json.dumps(btp.sm_binding(btp.find_subaccount("initech-cloudalm")["guid"], "handed-out")))
    pb = initech(landscape, **{"btp.cis_key": None, "btp.sm_key": {"file": str(sm_key)}})
    landscape.clear_journal()
    out = cli("run", pb)
    assert out.exit_code == 0, out.output
    assert steps_of(out.stdout)["test"] == "passed"
    assert landscape.writes() == []


def test_a_name_pins_one_and_a_wrong_name_says_what_was_found(landscape):
    out = cli("run", initech(landscape, **{"steps.instance.name": "not-there"}))
    assert out.exit_code == 1
    assert f"no instance not-there of SAPCloudALMAPIs/standard at subaccount level (steps.instance.name); found: " \
           f"{GENERATED_INSTANCE!r}" in out.stdout
    out = cli("run", initech(landscape, "pinned.yaml", **{"steps.key.name": "S4H_100_00"}))
    assert out.exit_code == 1
    assert "S4H_100_00 is a per-system binding" in out.stdout


def test_inventory_lists_the_generated_credentials_and_the_per_system_binding(landscape):
    pb = initech(landscape)
    assert cli("run", pb).exit_code == 0
    out = cli("inventory", pb, "--output", "json")
    assert out.exit_code == 0, out.output
    inv = json.loads(out.stdout)
    [inst] = inv["instances"]
    assert (inst["name"], inst["environment"], inst["creator"], inst["credential_type"]) == \
        (GENERATED_INSTANCE, "subaccount", "generated with the tenant", "binding-secret")
    by_name = {b["name"]: b for b in inst["bindings"]}
    assert by_name["S4H_100_00"]["creator"] == "per-system binding"
    assert by_name["S4H_100_00"]["local"] is False
    generated = by_name[generated_binding(landscape)]
    assert generated["creator"] == "generated with the tenant" and generated["local"] is True
    assert inv["warnings"] == []
    key = json.loads((landscape.dir / "keys" / "initech-cloudalm.json").read_text())
    assert key["uaa"]["clientsecret"] not in out.stdout
    text = cli("inventory", pb)
    assert "made by: per-system binding" in text.stdout and "the monitoring key in its local key file" in text.stdout


def test_inventory_warns_when_more_than_one_key_is_in_use(landscape):
    pb = initech(landscape)
    assert cli("run", pb).exit_code == 0
    extra = initech(landscape, "extra.yaml", **{"steps.mode": "create", "steps.instance.name": "cloudalm-extra"})
    refused = cli("run", extra)  # the file holds the generated key, of another instance: kept unless --force
    assert refused.exit_code == 1 and "it holds another client's key (uaa.clientid differs)" in refused.stdout
    assert cli("run", extra, "--force").exit_code == 0
    inv = json.loads(cli("inventory", pb, "--output", "json").stdout)
    assert {i["creator"] for i in inv["instances"]} == {"generated with the tenant", "this tool"}
    assert inv["warnings"] and "Landscape Management holds one key per tenant" in inv["warnings"][0]


@pytest.mark.parametrize("mode", ["auto", "create"])
def test_no_command_deletes_the_generated_binding_or_the_per_system_one(landscape, mode):
    extra = {} if mode == "auto" else {"steps.mode": "create", "steps.instance.name": "cloudalm-extra"}
    pb = initech(landscape, **extra)
    before = sm_state(landscape)
    commands = [("run", pb), ("plan", pb), ("inventory", pb), ("key", "rotate", pb), ("revoke", pb, "--yes"),
                ("run", pb), ("doctor", pb)]
    for args in commands:
        cli(*args)
    after = sm_state(landscape)
    assert after[GENERATED_INSTANCE] == before[GENERATED_INSTANCE]
    assert "S4H_100_00" in after[GENERATED_INSTANCE]
    deleted = [e["path"] for e in landscape.journal() if e["method"] == "DELETE"]
    assert not [p for p in deleted if "/sm/" in p and mode == "auto"]
