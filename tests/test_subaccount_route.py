"""The subaccount route end to end over HTTP: a subaccount-level instance through SAP Service Manager, a binding
with binding-secret credentials, converging with zero writes, drift repaired, parallel runs, key rotation."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import requests
from conftest import cli, steps_of

from provisioner.clients.btp import Btp
from provisioner.clients.sm import ServiceManager, sm_credentials


def admin_sm(landscape, subaccount: str = "acme-cloudalm") -> ServiceManager:
    """Service Manager as another administrator uses it (its own serviceManagerBindings binding)."""
    btp = Btp(json.loads((landscape.dir / "cis-key.json").read_text()), source="test")
    sub = btp.find_subaccount(subaccount)
    binding = btp.sm_binding(sub["guid"], "another-admin")
    assert binding is not None
    return ServiceManager(sm_credentials(binding, "test"))


def faults(landscape, settings: dict) -> None:
    requests.patch(landscape.url + "/_sim/faults", json=settings, timeout=10).raise_for_status()


def subaccount_playbook(landscape, name: str = "playbook.yaml", **overrides):
    """The acme tenant on the subaccount route: no cf section."""
    return landscape.playbook(name, cf=None, **overrides)


def our_instances(sm: ServiceManager) -> list[dict]:
    return [i for i in sm.instances(name="cloudalm-api") if (i.get("context") or {}).get("platform") != "cloudfoundry"]


def test_fresh_provision_then_converged_with_zero_writes(landscape):
    pb = subaccount_playbook(landscape)
    out = cli("run", pb)
    assert out.exit_code == 0, out.output
    steps = steps_of(out.stdout)
    assert steps == {"space": "skipped", "entitlement": "created", "instance": "created", "key": "created",
                     "download": "created", "check": "passed", "test": "passed"}
    key = json.loads(landscape.key_path.read_text())
    assert key["uaa"]["credential-type"] == "binding-secret"
    assert key["uaa"]["clientsecret"] not in out.output

    sm = admin_sm(landscape)
    [inst] = our_instances(sm)
    assert inst["labels"]["provisioner/managed-by"] == ["provisioner"]
    params = sm.instance_parameters(inst["id"])
    assert params is not None
    assert params["xs-security"]["oauth2-configuration"] == {"credential-types": ["binding-secret"]}
    [binding] = sm.bindings(inst["id"])
    assert binding["name"] == "cloudalm-api-key"

    landscape.clear_journal()
    again = cli("run", pb)
    assert again.exit_code == 0, again.output
    assert set(steps_of(again.stdout).values()) <= {"unchanged", "skipped", "passed"}
    assert landscape.writes() == []
    landscape.clear_journal()
    assert cli("plan", pb).exit_code == 0
    assert landscape.writes() == []


def test_parameter_drift_is_repaired_and_the_update_uses_the_instance_guid(landscape):
    pb = subaccount_playbook(landscape)
    assert cli("run", pb).exit_code == 0
    sm = admin_sm(landscape)
    [inst] = our_instances(sm)
    drifted = {"xs-security": {"xsappname": "cloudalm-api",
                               "authorities": ["$XSMASTERAPPNAME.imp-cdm-feature-display-ui"],
                               "oauth2-configuration": {"credential-types": ["binding-secret"]}}}
    written = sm.update("service_instances", inst["id"], {"parameters": drifted})
    if written.operation:
        sm.wait(written.operation, sm.concurrent_wait, "drift")

    plan = cli("plan", pb)
    assert plan.exit_code == 2, plan.output
    assert "authorities differ: missing $XSMASTERAPPNAME.imp-cdm-feature-manage-ui" in plan.stdout
    out = cli("run", pb)
    assert out.exit_code == 0, out.output
    assert steps_of(out.stdout)["instance"] == "updated"
    params = sm.instance_parameters(inst["id"])
    assert params is not None
    assert params["xs-security"]["xsappname"] == inst["id"]  # SAP: on update, the instance ID (GUID)
    assert len(params["xs-security"]["authorities"]) == 2
    landscape.clear_journal()
    assert cli("plan", pb).exit_code == 0
    assert landscape.writes() == []


def test_a_binding_deleted_outside_is_created_again(landscape):
    pb = subaccount_playbook(landscape)
    assert cli("run", pb).exit_code == 0
    old_secret = json.loads(landscape.key_path.read_text())["uaa"]["clientsecret"]
    sm = admin_sm(landscape)
    [inst] = our_instances(sm)
    [binding] = sm.bindings(inst["id"])
    written = sm.delete("service_bindings", binding["id"])
    if written.operation:
        sm.wait(written.operation, sm.concurrent_wait, "delete")

    out = cli("run", pb)
    assert out.exit_code == 0, out.output
    steps = steps_of(out.stdout)
    assert (steps["key"], steps["download"], steps["test"]) == ("created", "updated", "passed")
    assert json.loads(landscape.key_path.read_text())["uaa"]["clientsecret"] != old_secret
    assert len(sm.bindings(inst["id"])) == 1


def test_rotate_changes_the_secret_and_the_old_key_file_no_longer_signs_in(landscape, tmp_path):
    pb = subaccount_playbook(landscape)
    assert cli("run", pb).exit_code == 0
    old = tmp_path / "old-key.json"
    old.write_text(landscape.key_path.read_text())
    old.chmod(0o600)
    assert cli("key", "test", old).exit_code == 0

    out = cli("key", "rotate", pb, "--retire", "--yes")
    assert out.exit_code == 0, out.output
    assert "the client secret does not change" not in out.stdout
    new = json.loads(landscape.key_path.read_text())
    assert new["uaa"]["clientsecret"] != json.loads(old.read_text())["uaa"]["clientsecret"]
    assert cli("key", "test", landscape.key_path).exit_code == 0
    assert cli("key", "test", old).exit_code == 1

    sm = admin_sm(landscape)
    [inst] = our_instances(sm)
    names = [b["name"] for b in sm.bindings(inst["id"])]
    assert len(names) == 1 and names[0].startswith("cloudalm-api-key-")
    landscape.clear_journal()
    assert cli("run", pb).exit_code == 0
    assert landscape.writes() == []

    assert cli("revoke", pb, "--yes").exit_code == 0
    assert sm.bindings(inst["id"]) == []
    assert cli("key", "test", landscape.key_path).exit_code == 1


def test_parallel_runs_end_with_one_instance_and_one_binding(landscape):
    pb = subaccount_playbook(landscape)
    landscape.config(job_seconds=0.3)
    env = {**os.environ, **landscape.env}
    procs = [subprocess.Popen([sys.executable, "-m", "provisioner", "run", str(pb)], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) for _ in range(2)]
    outputs = [p.communicate(timeout=120)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], "\n".join(outputs)
    sm = admin_sm(landscape)
    instances = our_instances(sm)
    assert len(instances) == 1
    assert len(sm.bindings(instances[0]["id"])) == 1


def test_a_playbook_with_cf_keeps_the_cloud_foundry_route_unless_route_says_so(landscape):
    out = cli("plan", landscape.playbook())
    assert steps_of(out.stdout)["space"] == "create"
    pb = landscape.playbook("sub.yaml", route="subaccount")
    landscape.clear_journal()
    out = cli("plan", pb)  # plan never writes: the subaccount's Service Manager binding is a planned change
    assert out.exit_code == 2, out.output
    assert steps_of(out.stdout)["space"] == "skip" and "sm-binding   create" in out.stdout
    assert landscape.writes() == []
    assert cli("run", pb).exit_code == 0
    out = cli("plan", pb)
    assert out.exit_code == 0, out.output
    assert steps_of(out.stdout)["space"] == "skip"


def test_an_sm_key_file_replaces_the_cis_key(landscape, tmp_path):
    """A user who is not a global account administrator gives a Service Manager key (subaccount-admin)."""
    btp = Btp(json.loads((landscape.dir / "cis-key.json").read_text()), source="test")
    sub = btp.find_subaccount("acme-cloudalm")
    # the admin entitles the subaccount and hands out an SM key; the user's playbook has no cis key
    assert cli("run", subaccount_playbook(landscape, "admin.yaml")).exit_code == 0
    sm_key = tmp_path / "sm-key.json"
    sm_key.write_text(json.dumps(btp.sm_binding(sub["guid"], "for-a-user")))
    pb = subaccount_playbook(landscape, "user.yaml", **{"btp.cis_key": None, "btp.sm_key": {"file": str(sm_key)},
                                                        "steps.entitlement.enabled": False})
    landscape.clear_journal()
    out = cli("run", pb)
    assert out.exit_code == 0, out.output
    assert landscape.writes() == []
    assert not [e for e in landscape.journal() if "/accounts/" in e["path"]]


def test_service_manager_faults_429_with_an_http_date_422_and_502_are_survived(landscape):
    """Service Manager answers 429 (Retry-After as an HTTP date), 422 (a concurrent operation) and 502 at
    random: the run still converges, and a second run writes nothing."""
    faults(landscape, {"seed": 7, "retry_after": 1, "failures": [
        {"paths": ["/sm/v1/service_instances"], "kinds": ["429"], "times": 2},
        {"paths": ["/sm/v1/service_bindings"], "methods": ["POST"], "kinds": ["422"], "times": 1},
        {"paths": ["/sm/*"], "rate": 0.3, "kinds": ["422", "429", "502"], "when": "before"}]})
    pb = subaccount_playbook(landscape)
    out = cli("run", pb)
    assert out.exit_code == 0, out.output
    assert steps_of(out.stdout)["test"] == "passed"
    statuses = {e["status"] for e in landscape.journal() if "/sm/" in e["path"]}
    assert statuses >= {422, 429}
    landscape.clear_journal()
    assert cli("run", pb).exit_code == 0
    assert landscape.writes() == []


def test_a_failed_create_operation_is_reported_and_the_next_run_replaces_the_instance(landscape):
    faults(landscape, {"job_failures": {"sm.service_instance.create": "broker said no"}})
    pb = subaccount_playbook(landscape)
    out = cli("run", pb)
    assert out.exit_code == 1
    assert "create failed: broker said no" in out.stdout
    requests.delete(landscape.url + "/_sim/faults", timeout=10)
    out = cli("run", pb)
    assert out.exit_code == 0, out.output
    assert steps_of(out.stdout)["instance"] == "created"
    assert len(our_instances(admin_sm(landscape))) == 1


def test_lists_follow_the_page_token_and_filter_by_label(landscape, monkeypatch):
    import provisioner.clients.sm

    pb = subaccount_playbook(landscape)
    assert cli("run", pb).exit_code == 0
    other = subaccount_playbook(landscape, "other.yaml", **{"steps.instance.name": "cloudalm-other",
                                                            "steps.download.path": str(landscape.dir / "other.json")})
    assert cli("run", other).exit_code == 0
    monkeypatch.setattr(provisioner.clients.sm, "PAGE_SIZE", 1)
    sm = admin_sm(landscape)
    landscape.clear_journal()
    ours = sm.instances(label_query="provisioner/managed-by eq 'provisioner'")
    assert sorted(i["name"] for i in ours) == ["cloudalm-api", "cloudalm-other"]
    pages = [e for e in landscape.journal() if e["path"] == "/sm/v1/service_instances"]
    assert len(pages) >= 2


def test_inventory_on_the_cloud_foundry_route_lists_both_environments(landscape):
    cf_pb = landscape.playbook()
    assert cli("run", cf_pb).exit_code == 0
    out = cli("inventory", cf_pb, "--output", "json")
    assert out.exit_code == 0, out.output
    inv = json.loads(out.stdout)
    [inst] = inv["instances"]
    assert (inst["environment"], inst["space"], inst["creator"]) == ("cloudfoundry", "cloudalm", "this tool")
    assert inst["bindings"][0]["local"] is True
    assert "Service Manager not read" in inv["warnings"][0]

    sub_pb = landscape.playbook("sub.yaml", route="subaccount", **{
        "steps.key.name": "cloudalm-api-binding", "steps.download.path": str(landscape.dir / "sub.json")})
    assert cli("run", sub_pb).exit_code == 0
    inv = json.loads(cli("inventory", cf_pb, "--output", "json").stdout)
    assert sorted(i["environment"] for i in inv["instances"]) == ["cloudfoundry", "subaccount"]
    assert "2 keys are in use for monitoring" in inv["warnings"][0]


def test_doctor_on_the_subaccount_route_checks_service_manager(landscape):
    pb = subaccount_playbook(landscape)
    out = cli("doctor", pb)
    assert "Service Manager" in out.stdout and "no Service Manager binding provisioner yet" in out.stdout
    assert "CF sign-in" not in out.stdout
    assert cli("run", pb).exit_code == 0
    out = cli("doctor", pb)
    assert out.exit_code == 0, out.output
    assert "signed in with serviceManagerBindings provisioner; SAPCloudALMAPIs/standard visible" in out.stdout


def test_an_instance_or_binding_someone_else_made_under_the_playbook_name_is_left_alone(landscape):
    sm = admin_sm(landscape)
    pb = subaccount_playbook(landscape)
    assert cli("run", pb).exit_code == 0
    [inst] = our_instances(sm)
    # someone else made an instance with the name another playbook uses
    plan = inst["service_plan_id"]
    written = sm.create("service_instances", {"name": "theirs", "service_plan_id": plan, "parameters": {
        "xs-security": {"xsappname": "theirs", "authorities": []}}})
    if written.operation:
        sm.wait(written.operation, sm.concurrent_wait, "theirs")
    theirs = subaccount_playbook(landscape, "theirs.yaml", **{"steps.instance.name": "theirs",
                                                              "steps.download.path": str(landscape.dir / "t.json")})
    landscape.clear_journal()
    out = cli("run", theirs)
    assert out.exit_code == 1
    assert "instance theirs exists in the subaccount and was not made by this tool" in out.stdout
    assert not [w for w in landscape.writes() if "/sm/" in w["path"]]
