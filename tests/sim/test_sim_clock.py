"""Simulator: jobs and entitlement assignments progress on the replaceable clock (`Simulator(clock=...)`), so a
test moves time forward instead of sleeping."""

from __future__ import annotations

from .sim_testkit import SUBACCOUNT_GUID, Api, FakeClock


def _entity_state(api: Api) -> str:
    body = api.btp("GET", "entitlements", "/entitlements/v1/assignments",
                   params={"subaccountGUID": SUBACCOUNT_GUID}).json()
    [info] = body["assignedServices"][0]["servicePlans"][0]["assignmentInfo"]
    return info["entityState"]


def test_jobs_complete_when_the_fake_clock_is_advanced(clocked_api: Api, clock: FakeClock) -> None:
    api = clocked_api  # jobs last 10 seconds of the fake clock
    space = api.create_space()
    api.make_developer(space["guid"])
    r = api.btp("PUT", "entitlements", "/entitlements/v1/subaccountServicePlans", json={
        "subaccountServicePlans": [{"serviceName": "SAPCloudALMAPIs", "servicePlanName": "standard",
                                    "assignmentInfo": [{"subaccountGUID": SUBACCOUNT_GUID, "amount": 1}]}]})
    assert r.status_code == 202
    assert _entity_state(api) == "STARTED"
    clock.advance(5)
    assert _entity_state(api) == "PROCESSING"
    assert api.btp("GET", "entitlements", r.headers["Location"]).json()["status"] == "IN_PROGRESS"
    clock.advance(5)
    assert _entity_state(api) == "OK"
    assert api.btp("GET", "entitlements", r.headers["Location"]).json()["status"] == "COMPLETED"

    instance_guid, job_url = api.create_instance(space["guid"])
    job = api.cf("GET", job_url).json()
    assert (job["state"], job["operation"]) == ("PROCESSING", "service_instance.create")
    clock.advance(5)
    assert api.cf("GET", job_url).json()["state"] == "POLLING"
    instance = api.cf("GET", f"/v3/service_instances/{instance_guid}").json()
    assert instance["last_operation"]["state"] == "in progress"
    clock.advance(5)
    assert api.cf("GET", job_url).json()["state"] == "COMPLETE"
    instance = api.cf("GET", f"/v3/service_instances/{instance_guid}").json()
    assert instance["last_operation"]["state"] == "succeeded"
    assert clock.slept == []  # nothing waited: no latency is configured
