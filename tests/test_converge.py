"""Converging like an infrastructure tool: drift made outside the tool is repaired by one run, then plan exits 0."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from conftest import cli, steps_of

from provisioner.clients.btp import Btp
from provisioner.clients.cf import CloudFoundry
from provisioner.secret import Secret


def admin_cf(landscape) -> CloudFoundry:
    """The CF API as another admin would use it (to make drift outside the tool)."""
    cf = CloudFoundry(landscape.url)
    cf.login_password(landscape.env["CF_USERNAME"], Secret(landscape.env["CF_PASSWORD"]))
    return cf


def the_instance(cf: CloudFoundry) -> dict:
    org = cf.find_org("acme-cloudalm")
    space = cf.find_space(org["guid"], "cloudalm")
    return cf.find_instance(space["guid"], "cloudalm-api")


def converged(landscape, pb) -> None:
    landscape.clear_journal()
    out = cli("plan", pb)
    assert out.exit_code == 0, out.output
    assert landscape.writes() == []


def test_removed_authority_is_patched_back_keeping_xsappname(landscape):
    pb = landscape.playbook()
    assert cli("run", pb).exit_code == 0
    cf = admin_cf(landscape)
    inst = the_instance(cf)
    drifted = {"xs-security": {"xsappname": "kept-xsappname",
                               "authorities": ["$XSMASTERAPPNAME.imp-cdm-feature-display-ui"]}}
    job = cf.update_instance(inst["guid"], {"parameters": drifted})
    if job:
        cf.job(job)

    plan = cli("plan", pb)
    assert plan.exit_code == 2
    assert "update instance cloudalm-api: authorities differ: missing " \
           "$XSMASTERAPPNAME.imp-cdm-feature-manage-ui" in plan.stdout

    out = cli("run", pb)
    assert out.exit_code == 0, out.output
    assert steps_of(out.stdout)["instance"] == "updated"
    params = cf.instance_parameters(inst["guid"])
    assert params["xs-security"]["xsappname"] == "kept-xsappname"
    assert sorted(params["xs-security"]["authorities"]) == ["$XSMASTERAPPNAME.imp-cdm-feature-display-ui",
                                                            "$XSMASTERAPPNAME.imp-cdm-feature-manage-ui"]
    converged(landscape, pb)


def test_drift_detected_through_the_record_when_broker_cannot_return_parameters(landscape):
    landscape.config(instances_retrievable=False)
    pb = landscape.playbook()
    assert cli("run", pb).exit_code == 0
    plan = cli("plan", pb)
    assert plan.exit_code == 0, plan.output
    assert "the broker cannot return parameters; compared with the record on the instance" in plan.stdout

    # the record says the parameters were applied for a different set of authorities
    landscape.clear_journal()
    pb2 = landscape.playbook(**{"service.authorities": ["$XSMASTERAPPNAME.imp-cdm-feature-display-ui"]})
    plan = cli("plan", pb2)
    assert plan.exit_code == 2
    assert "parameters differ from the record on the instance" in plan.stdout
    assert landscape.writes() == []


def test_removed_entitlement_is_assigned_again(landscape):
    pb = landscape.playbook()
    assert cli("run", pb).exit_code == 0
    btp = Btp(json.loads((landscape.dir / "cis-key.json").read_text()), source="test")
    sub = btp.find_subaccount("acme-cloudalm")
    btp.assign(sub["guid"], "SAPCloudALMAPIs", "standard", amount=0)

    out = cli("run", pb)
    assert out.exit_code == 0, out.output
    assert steps_of(out.stdout)["entitlement"] == "created"
    converged(landscape, pb)


def test_deleted_key_is_created_again_and_downloaded(landscape):
    pb = landscape.playbook()
    assert cli("run", pb).exit_code == 0
    cf = admin_cf(landscape)
    inst = the_instance(cf)
    key = cf.find_key(inst["guid"], "cloudalm-api-key")
    cf.delete_key(key["guid"])
    assert cf.find_key(inst["guid"], "cloudalm-api-key") is None

    out = cli("run", pb)
    assert out.exit_code == 0, out.output
    got = steps_of(out.stdout)
    assert got["key"] == "created"
    assert got["download"] in ("unchanged", "updated")
    assert cli("key", "check", landscape.key_path, "--tenant", "acme-cloudalm").exit_code == 0
    converged(landscape, pb)


def test_deleted_local_file_is_downloaded_again_without_a_new_key(landscape):
    pb = landscape.playbook()
    assert cli("run", pb).exit_code == 0
    before = landscape.key_path.read_text()
    landscape.key_path.unlink()
    landscape.clear_journal()
    out = cli("run", pb)
    assert out.exit_code == 0, out.output
    got = steps_of(out.stdout)
    assert got["key"] == "unchanged" and got["download"] == "created"
    assert landscape.writes() == []
    assert landscape.key_path.read_text() == before


def test_two_simultaneous_runs_end_with_one_of_each(landscape):
    """Two CI jobs run the same playbook at once: both succeed, and there is one space, instance and key."""
    pb = landscape.playbook()
    landscape.config(job_seconds=0.3)
    env = {**os.environ, **landscape.env}
    procs = [subprocess.Popen([sys.executable, "-m", "provisioner", "run", str(pb)], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) for _ in range(2)]
    outputs = [p.communicate(timeout=120)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outputs
    cf = admin_cf(landscape)
    org = cf.find_org("acme-cloudalm")
    assert len(list(cf.list("/v3/spaces", {"organization_guids": org["guid"], "names": "cloudalm"}))) == 1
    space = cf.find_space(org["guid"], "cloudalm")
    instances = list(cf.list("/v3/service_instances", {"space_guids": space["guid"]}))
    assert len(instances) == 1
    assert len(cf.list_keys(instances[0]["guid"])) == 1


def test_drift_repaired_through_the_record_when_broker_cannot_return_parameters(landscape):
    landscape.config(instances_retrievable=False)
    assert cli("run", landscape.playbook()).exit_code == 0
    pb = landscape.playbook(**{"service.authorities": ["$XSMASTERAPPNAME.imp-cdm-feature-display-ui",
                                                       "$XSMASTERAPPNAME.imp-cdm-feature-manage-ui",
                                                       "$XSMASTERAPPNAME.calm-api.projects.read"]})
    out = cli("run", pb)
    assert out.exit_code == 0, out.output
    assert steps_of(out.stdout)["instance"] == "updated"
    converged(landscape, pb)


def test_several_developers_get_the_role(make_landscape):
    from provisioner.sim.generate import default_landscape

    data = default_landscape()
    data["users"].append({"username": "dev@example.com", "password": "dev-password"})
    data["subaccounts"][0]["cf_org"]["roles"]["organization_user"].append("dev@example.com")
    landscape = make_landscape(data)
    pb = landscape.playbook(**{"steps.space.developers": ["admin@example.com", "dev@example.com",
                                                         "ADMIN@example.com"]})
    out = cli("run", pb)
    assert out.exit_code == 0, out.output
    assert "give Space Developer to admin@example.com, dev@example.com" in out.stdout
    converged(landscape, pb)
