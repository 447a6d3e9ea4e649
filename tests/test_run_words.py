"""What runs and plans say: check and test are verifications (``passed`` / ``failed``, in the table, the JSON
report and JUnit); a wait for an operation already running is ``waited`` (plan: ``wait``) and is no change."""

from __future__ import annotations

import json
import threading
import xml.etree.ElementTree as ET

import requests
from conftest import cli, steps_of
from test_converge import admin_cf, the_instance

from provisioner.clients.cf import CloudFoundry
from provisioner.engine.runner import run
from provisioner.playbook import load as pbmod


def set_job_seconds(landscape, operation: str, seconds: float) -> None:
    requests.patch(landscape.url + "/_sim/faults", json={"job_seconds_by_operation": {operation: seconds}},
                   timeout=10).raise_for_status()


def start_update_in_flight(landscape) -> CloudFoundry:
    """Another admin re-applies the instance's own parameters; the broker keeps that update running."""
    cf = admin_cf(landscape)
    inst = the_instance(cf)
    set_job_seconds(landscape, "service_instance.update", 3600)
    cf.update_instance(inst["guid"], {"parameters": cf.instance_parameters(inst["guid"])})
    assert cf.get_instance(inst["guid"])["last_operation"]["state"] in ("initial", "in progress")
    return cf


def finish_when_polled(landscape) -> threading.Thread:
    """Let the broker finish the update as soon as the tool polls the instance by guid (that is, waits for it):
    driven by the simulator's journal, not by time."""
    landscape.clear_journal()

    def watch() -> None:
        stop = threading.Event()
        while not stop.is_set():
            if any(e["method"] == "GET" and e["path"].startswith("/v3/service_instances/")
                   for e in landscape.journal()):
                set_job_seconds(landscape, "service_instance.update", 0)
                return
            stop.wait(0.02)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    return watcher


def test_a_wait_is_not_a_change_and_a_run_that_only_waits_says_waited(landscape):
    pb = landscape.playbook(**{"timeouts.instance": 60})  # bounded, should the broker never finish
    assert cli("run", pb).exit_code == 0
    start_update_in_flight(landscape)

    plan = cli("plan", pb)
    assert plan.exit_code == 0, plan.output  # a wait is not a change to make
    got = steps_of(plan.stdout)
    assert got["instance"] == "wait" and got["key"] == got["download"] == "no change"
    assert "instance cloudalm-api: its update is in progress; wait for it" in plan.stdout

    watcher = finish_when_polled(landscape)
    out = cli("run", pb, "--output", "json")
    watcher.join(timeout=60)
    assert out.exit_code == 0, out.output
    steps = {s["step"]: s for s in json.loads(out.stdout)["tenants"][0]["steps"]}
    assert steps["instance"]["action"] == "waited"
    assert [s["action"] for s in steps.values()] == ["unchanged", "unchanged", "waited", "unchanged", "unchanged",
                                                     "passed", "passed"]
    assert landscape.writes() == []  # waiting wrote nothing

    again = cli("plan", pb)
    assert again.exit_code == 0, again.output
    assert steps_of(again.stdout)["instance"] == "no change"


def test_after_a_wait_what_still_differs_is_updated(landscape):
    pb = landscape.playbook(**{"timeouts.instance": 60})
    assert cli("run", pb).exit_code == 0
    cf = admin_cf(landscape)
    inst = the_instance(cf)
    set_job_seconds(landscape, "service_instance.update", 3600)
    drifted = {"xs-security": {"xsappname": "cloudalm-api",
                               "authorities": ["$XSMASTERAPPNAME.imp-cdm-feature-display-ui"]}}
    cf.update_instance(inst["guid"], {"parameters": drifted})

    watcher = finish_when_polled(landscape)
    out = cli("run", pb)
    watcher.join(timeout=60)
    assert out.exit_code == 0, out.output
    assert steps_of(out.stdout)["instance"] == "updated"
    assert "in progress; wait for it" in out.stdout and "authorities differ" in out.stdout
    assert cli("plan", pb).exit_code == 0


def test_check_and_test_pass_in_the_table_json_and_junit(landscape):
    pb = landscape.playbook()
    junit = landscape.dir / "junit.xml"
    out = cli("run", pb, "--output", "json", "--junit", junit)
    assert out.exit_code == 0, out.output
    steps = {s["step"]: s for s in json.loads(out.stdout)["tenants"][0]["steps"]}
    assert steps["check"]["action"] == steps["test"]["action"] == "passed"
    assert [c["passed"] for c in steps["check"]["checks"]] == [True] * 4
    assert steps["test"]["checks"][0]["name"] == "sign in (client credentials)"
    cases = {c.get("name"): c for c in ET.parse(junit).getroot().iter("testcase")}
    assert cases["check"].find("failure") is None and cases["check"].find("system-out").text.startswith("passed:")

    plan = cli("plan", pb)
    assert plan.exit_code == 0, plan.output
    got = steps_of(plan.stdout)
    assert got["check"] == "passed" and got["test"] == "no change"  # plan checks the file; it signs in on run only


def test_a_key_file_that_fails_the_checks_says_failed_and_exits_1(landscape):
    # the key is issued for the subaccount acme-cloudalm; the playbook says the tenant is another one
    pb = landscape.playbook(**{"tenant.subdomain": "other-tenant"})
    junit = landscape.dir / "junit.xml"
    out = cli("run", pb, "--junit", junit)
    assert out.exit_code == 1, out.output
    got = steps_of(out.stdout)
    assert got["download"] == "created" and got["check"] == "failed" and got["test"] == "skipped"
    assert "uaa.identityzone is the tenant's: FAILED (uaa.identityzone is 'acme-cloudalm', expected 'other-tenant'; " \
           "use the key of this tenant's SAP Cloud ALM API instance (one key per tenant))" in out.stdout
    failure = next(c for c in ET.parse(junit).getroot().iter("testcase") if c.get("name") == "check").find("failure")
    assert failure is not None and "identityzone" in failure.get("message")
    assert cli("plan", pb).exit_code == 1  # plan runs the checks on the file too


def test_a_key_file_tampered_after_its_download_fails_the_check(landscape):
    pb = pbmod.load(landscape.playbook())

    def tamper(result, step) -> None:
        if step.step == "download":
            creds = json.loads(landscape.key_path.read_text())
            creds["uaa"].pop("clientsecret")
            landscape.key_path.write_text(json.dumps(creds))

    result = run(pb, on_step=tamper)
    by_step = {s.step: s for s in result.steps}
    assert not result.ok and by_step["check"].action == "failed" and by_step["test"].action == "skipped"
    assert "uaa.clientid and uaa.clientsecret present: FAILED (missing: uaa.clientsecret; download the key again" \
        in by_step["check"].error
    assert [c["passed"] for c in by_step["check"].checks].count(False) == 1
