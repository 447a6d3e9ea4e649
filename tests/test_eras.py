"""The three provisioning eras (docs/sap-facts.md §3): the simulator's default landscape has one tenant of each, with
the resources that era implies; the plan says which era applied and why each step is skipped."""

from __future__ import annotations

import json

from conftest import cli, steps_of

# initech-cloudalm (2023-11-20), whose credentials were generated at subaccount level: tests/test_subaccount_eras.py


def tenant_playbook(landscape, subdomain, provisioned, purposes, instance, key, **extra):
    return landscape.playbook(name=f"{subdomain}.yaml", **{
        "tenant": {"subdomain": subdomain, "provisioned": provisioned, "purposes": purposes},
        "btp.subaccount": subdomain, "cf.org": subdomain, "steps.space.developers": [],
        "steps.instance.name": instance, "steps.key.name": key,
        "steps.download.path": str(landscape.dir / "keys" / f"{subdomain}.json"), **extra})


def test_before_june_2023_every_step(landscape):
    pb = tenant_playbook(landscape, "acme-cloudalm", "2023-03-01", ["monitoring"], "cloudalm-api", "cloudalm-api-key")
    out = cli("plan", pb)
    assert out.exit_code == 2
    assert "provisioned before 2023-06-12: no credentials were generated, every step is needed" in out.stdout
    plan = steps_of(out.stdout)
    assert [plan[s] for s in ("space", "entitlement", "instance", "key", "download")] == ["create"] * 5


def test_june_to_october_2023_transport_management_gets_its_own_instance_and_key(landscape):
    pb = tenant_playbook(landscape, "globex-cloudalm", "2023-08-01", ["monitoring", "transport-management"],
                         "cloudalm-transport", "cloudalm-transport-key", **{
                             "steps.download.path": str(landscape.dir / "keys" / "{tenant}-{purpose}.json"),
                             "steps.purposes": {"monitoring": {"instance": "cloudalm-monitoring",
                                                               "key": "cloudalm-monitoring-key"}}})
    plan = cli("plan", pb)
    assert plan.exit_code == 2
    assert "provisioned 2023-06-12 to 2023-10-15: a monitoring key was generated; transport management needs its " \
           "own instance and key in the existing space" in plan.stdout
    assert "monitoring: provisioned 2023-06-12 to 2023-10-15: a monitoring key was generated; monitoring only: " \
           "locate the generated key" in plan.stdout
    got = steps_of(plan.stdout)
    assert got["entitlement[transport-management]"] == "skip"
    assert "came with the tenant's generated monitoring key" in plan.stdout
    assert got["space[transport-management]"] == "no change" and got["instance[transport-management]"] == "create"
    assert got["key[transport-management]"] == "create" and got["key[monitoring]"] == "no change"

    landscape.clear_journal()
    out = cli("run", pb)
    assert out.exit_code == 0, out.output
    writes = [(w["method"], w["path"]) for w in landscape.writes()]
    assert ("POST", "/v3/service_instances") in writes and ("POST", "/v3/service_credential_bindings") in writes
    assert not any("/v3/spaces" in p or "entitlements" in p for _, p in writes)
    for purpose in ("monitoring", "transport-management"):
        key = json.loads((landscape.dir / "keys" / f"globex-cloudalm-{purpose}.json").read_text())
        assert key["uaa"]["identityzone"] == "globex-cloudalm"


def test_june_to_october_2023_monitoring_only_locates_the_generated_key(landscape):
    pb = tenant_playbook(landscape, "globex-cloudalm", "2023-08-01", ["monitoring"], "cloudalm-monitoring",
                         "cloudalm-monitoring-key")
    landscape.clear_journal()
    out = cli("run", pb)
    assert out.exit_code == 0, out.output
    assert "monitoring only: locate the generated key" in out.stdout
    got = steps_of(out.stdout)
    assert got["instance"] == "unchanged" and got["key"] == "unchanged" and got["download"] == "created"
    assert got["test"] == "passed"
    assert landscape.writes() == []

