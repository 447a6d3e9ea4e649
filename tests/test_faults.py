"""Holding up under faults: a bounded soak with 30 % of requests failing transiently, a run killed with SIGKILL in
the middle of the instance step, token expiry, stuck entitlements and failed broker jobs."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest
import requests
from conftest import cli, steps_of

SOAK_RUNS = 50


def one_of_each(sim_url: str) -> tuple[int, int, int]:
    """How many spaces named cloudalm, instances and keys the default tenant has (read through the CF API)."""
    from provisioner.clients.cf import CloudFoundry
    from provisioner.secret import Secret

    cf = CloudFoundry(sim_url)
    cf.login_password("admin@example.com", Secret("sim-admin-password"))
    org = cf.find_org("acme-cloudalm")
    spaces = list(cf.list("/v3/spaces", {"organization_guids": org["guid"], "names": "cloudalm"}))
    instances = list(cf.list("/v3/service_instances", {"space_guids": ",".join(s["guid"] for s in spaces)}))
    keys = [k for i in instances for k in cf.list_keys(i["guid"])]
    return len(spaces), len(instances), len(keys)


@pytest.mark.parametrize("seed", range(SOAK_RUNS))
def test_soak_30_percent_transient_failures_converges(make_landscape, seed):
    land = make_landscape(job_seconds=0.0,
                 faults={"seed": seed, "fail_rate": 0.3, "retry_after": 0})
    out = cli("run", land.playbook())
    assert out.exit_code == 0, out.output
    requests.delete(land.url + "/_sim/faults", timeout=10)  # count without faults
    assert one_of_each(land.url) == (1, 1, 1)
    injected = [e for e in land.journal() if e.get("fault")]
    assert injected, "the soak injected no fault"  # the run's own check and test steps verified the key file


def test_run_killed_in_the_instance_step_then_rerun_converges(make_landscape):
    land = make_landscape(job_seconds=0.0,
                 faults={"job_seconds_by_operation": {"service_instance.create": 3600}})
    pb = land.playbook()
    env = {**os.environ, **land.env}
    proc = subprocess.Popen([sys.executable, "-m", "provisioner", "run", str(pb), "--verbose"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    for line in proc.stderr:  # the request log: wait for the instance's creation to be accepted
        if "POST" in line and "/v3/service_instances ->" in line:
            break
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    assert one_of_each(land.url) == (1, 1, 0)

    requests.delete(land.url + "/_sim/faults", timeout=10)  # the broker finishes the create now
    out = cli("run", pb)
    assert out.exit_code == 0, out.output
    assert steps_of(out.stdout)["instance"] in ("waited", "unchanged")
    assert one_of_each(land.url) == (1, 1, 1)
    assert cli("plan", pb).exit_code == 0


def test_expired_token_is_refreshed_once_and_the_request_repeated(landscape):
    from provisioner.clients.cf import CloudFoundry
    from provisioner.secret import Secret

    cf = CloudFoundry(landscape.url)
    cf.login_password(landscape.env["CF_USERNAME"], Secret(landscape.env["CF_PASSWORD"]))
    requests.post(landscape.url + "/_sim/tokens/expire", timeout=10).raise_for_status()
    landscape.clear_journal()
    assert cf.find_org("acme-cloudalm")["name"] == "acme-cloudalm"
    assert [(e["method"], e["path"], e["status"]) for e in landscape.journal()] == [
        ("GET", "/v3/organizations", 401), ("POST", "/uaa/oauth/token", 200), ("GET", "/v3/organizations", 200)]


def test_entitlement_stuck_in_processing_times_out_with_a_way_forward(landscape):
    requests.patch(landscape.url + "/_sim/faults", json={"entitlements_stuck": True}, timeout=10)
    out = cli("run", landscape.playbook(), "--timeout", "30")  # a skip clock: the stuck wait gets there at once
    assert out.exit_code == 1
    got = steps_of(out.stdout)
    assert got["entitlement"] == "failed"
    assert "when the run's time limit of 30 s (--timeout, timeouts.run) ran out" in out.stdout
    assert "re-run the playbook to adopt it" in out.stdout


def test_failed_broker_job_names_the_broker_message(landscape):
    requests.patch(landscape.url + "/_sim/faults",
                   json={"job_failures": {"service_instance.create": "xsappname rejected by XSUAA"}}, timeout=10)
    out = cli("run", landscape.playbook())
    assert out.exit_code == 1
    assert steps_of(out.stdout)["instance"] == "failed"
    assert "xsappname rejected by XSUAA" in out.stdout


def test_entitlement_lock_is_retried(landscape):
    requests.patch(landscape.url + "/_sim/faults", json={"entitlement_lock_rate": 0.7, "seed": 3}, timeout=10)
    out = cli("run", landscape.playbook())
    assert out.exit_code == 0, out.output
    puts = [e["fault"] for e in landscape.journal() if e["method"] == "PUT"]
    assert puts[0] == "lock" and puts[-1] is None, puts


@pytest.mark.parametrize("path", ["/v3/spaces", "/v3/service_instances", "/v3/service_credential_bindings"])
def test_a_post_lost_after_it_was_applied_is_adopted_not_repeated(landscape, path):
    """The landscape applies the POST, then the answer is lost (502): the step re-reads and adopts the resource."""
    requests.patch(landscape.url + "/_sim/faults", json={"failures": [
        {"paths": [path], "methods": ["POST"], "rate": 1.0, "kinds": ["502"], "when": "after", "times": 1}]},
        timeout=10)
    out = cli("run", landscape.playbook())
    assert out.exit_code == 0, out.output
    posts = [e for e in landscape.journal() if e["method"] == "POST" and e["path"] == path]
    assert [e["fault"] for e in posts] == ["502"]  # one POST, never repeated
    assert "re-read and adopted what existed" in out.stdout
    requests.delete(landscape.url + "/_sim/faults", timeout=10)
    assert one_of_each(landscape.url) == (1, 1, 1)
