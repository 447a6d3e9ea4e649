"""A Service Manager operation in state `pending` (Peripli `pkg/types/operation.go`: a cascade operation waiting to
be handled) is not settled: the instance step waits for it and sends nothing to the instance meanwhile."""

from __future__ import annotations

from conftest import cli, steps_of
from test_subaccount_route import admin_sm, faults, our_instances, subaccount_playbook

DRIFTED = {"xs-security": {"xsappname": "cloudalm-api", "authorities": ["$XSMASTERAPPNAME.imp-cdm-feature-display-ui"],
                           "oauth2-configuration": {"credential-types": ["binding-secret"]}}}


def test_a_pending_cascade_delete_is_waited_for_and_no_update_is_sent_during_it(landscape):
    pb = subaccount_playbook(landscape)
    assert cli("run", pb).exit_code == 0
    sm = admin_sm(landscape)
    [inst] = our_instances(sm)
    drift = sm.update("service_instances", inst["id"], {"parameters": DRIFTED})  # a run would want to PATCH it back
    if drift.operation:
        sm.wait(drift.operation, sm.concurrent_wait, "drift")
    faults(landscape, {"job_seconds_by_operation": {"sm.service_instance.cascade_delete": 30}})
    resp = sm.http.request("DELETE", f"/v1/service_instances/{inst['id']}", params={"cascade": "true"},
                           expect=(202,))
    location = resp.headers["Location"]
    assert sm.operation(location)["state"] == "pending"
    assert sm.get("service_instances", inst["id"])["last_operation"]["state"] == "pending"
    [binding] = sm.bindings(inst["id"])
    assert binding["last_operation"]["type"] == "delete" and binding["last_operation"]["state"] == "pending"

    landscape.clear_journal()
    # the new instance has a new client: its key replaces the old file only with --force (tests/test_download_path)
    out = cli("run", pb, "-o", "json", "--force")
    assert out.exit_code == 0, out.output
    journal = landscape.journal()
    on_instances = [(e["method"], e["path"]) for e in journal if e["path"].startswith("/sm/v1/service_instances")]
    assert not any(m in ("PATCH", "DELETE") for m, _ in on_instances), on_instances
    creates = [i for i, (m, _) in enumerate(on_instances) if m == "POST"]
    assert len(creates) == 1  # once the cascade delete removed it, the instance is created again
    assert sm.operation(location)["state"] == "succeeded"
    [again] = our_instances(sm)
    assert again["id"] != inst["id"]
    assert sm.instance_parameters(again["id"])["xs-security"]["authorities"] == [
        "$XSMASTERAPPNAME.imp-cdm-feature-display-ui", "$XSMASTERAPPNAME.imp-cdm-feature-manage-ui"]


def test_plan_says_wait_while_an_operation_is_pending(landscape):
    pb = subaccount_playbook(landscape)
    assert cli("run", pb).exit_code == 0
    sm = admin_sm(landscape)
    [inst] = our_instances(sm)
    faults(landscape, {"job_seconds_by_operation": {"sm.service_instance.cascade_delete": 30}})
    sm.http.request("DELETE", f"/v1/service_instances/{inst['id']}", params={"cascade": "true"}, expect=(202,))
    landscape.clear_journal()
    out = cli("plan", pb)
    assert out.exit_code == 2, out.output  # the binding goes with the instance: a run makes it again
    assert steps_of(out.stdout)["instance"] == "wait"
    assert "instance cloudalm-api: its delete is pending; wait for it" in out.stdout
    assert landscape.writes() == []
