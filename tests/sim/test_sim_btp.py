"""Simulator: BTP accounts, entitlements (assignments, subaccountServicePlans, jobs) and provisioning."""

from __future__ import annotations

import json

import requests

from .sim_testkit import ORG_GUID, SUBACCOUNT_GUID, Api

ASSIGN = "/entitlements/v1/subaccountServicePlans"
GA_GUID = "72872960-d72f-4742-b876-7194dc63993b"


def _put(api: Api, **info: object) -> requests.Response:
    return api.btp("PUT", "entitlements", ASSIGN, json={"subaccountServicePlans": [{
        "serviceName": "SAPCloudALMAPIs", "servicePlanName": "standard",
        "assignmentInfo": [{"subaccountGUID": SUBACCOUNT_GUID, **info}]}]})


def _assignment(api: Api) -> dict | None:
    body = api.btp("GET", "entitlements", "/entitlements/v1/assignments", params={
        "subaccountGUID": SUBACCOUNT_GUID, "serviceName": "SAPCloudALMAPIs", "planName": "standard",
        "includeAutoManagedPlans": "true"}).json()
    for service in body["assignedServices"]:
        for plan in service["servicePlans"]:
            for info in plan["assignmentInfo"]:
                return info
    return None


def test_btp_needs_a_cis_token(api: Api) -> None:
    url = api.info["cis_key"]["endpoints"]["accounts_service_url"] + "/accounts/v1/subaccounts"
    missing = requests.get(url, timeout=10)
    assert missing.status_code == 401
    assert set(missing.json()["error"]) == {"code", "message", "target", "correlationID"}
    bad = requests.get(url, headers={"Authorization": f"Bearer {api.cf_token}"}, timeout=10)
    assert bad.status_code == 401


def test_subaccounts(api: Api) -> None:
    subs = api.btp("GET", "accounts", "/accounts/v1/subaccounts").json()["value"]
    assert [s["subdomain"] for s in subs] == ["acme-cloudalm", "globex-cloudalm", "initech-cloudalm"]
    sub = subs[0]
    assert sub["guid"] == SUBACCOUNT_GUID and sub["displayName"] == "ACME Cloud ALM"
    assert sub["subdomain"] == "acme-cloudalm" and sub["region"] == "eu10" and sub["state"] == "OK"
    assert sub["globalAccountGUID"] == GA_GUID and isinstance(sub["createdDate"], int)
    one = api.btp("GET", "accounts", f"/accounts/v1/subaccounts/{SUBACCOUNT_GUID}")
    assert one.json() == sub
    missing = api.btp("GET", "accounts", "/accounts/v1/subaccounts/00000000-0000-0000-0000-000000000000")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == 20004
    assert missing.json()["error"]["message"] == "Global account or subaccount not found"


def test_assignments_before_any_assignment(api: Api) -> None:
    body = api.btp("GET", "entitlements", "/entitlements/v1/assignments",
                   params={"subaccountGUID": SUBACCOUNT_GUID}).json()
    assert body["assignedServices"] == []
    [service] = body["entitledServices"]
    [plan] = service["servicePlans"]
    assert service["name"] == "SAPCloudALMAPIs" and plan["name"] == "standard"
    # 7 in the global account, 1 each assigned to the era tenants globex and initech
    assert plan["category"] == "SERVICE" and plan["amount"] == 7 and plan["remainingAmount"] == 5
    assert plan["unlimited"] is False and plan["uniqueIdentifier"] == "sapcloudalmapis-standard"


def test_assign_job_completes_and_assignment_is_ok(api: Api) -> None:
    api.config(job_seconds=3600)
    r = _put(api, amount=2)
    assert r.status_code == 202
    location = r.headers["Location"]
    assert location.startswith("/jobs-management/v1/jobs/") and location.endswith("/status")
    assert r.json() == {"jobId": location.split("/")[-2]}
    running = _assignment(api)
    assert running is not None and running["entityState"] == "STARTED"
    assert running["entityType"] == "SUBACCOUNT"
    status_url = api.info["cis_key"]["endpoints"]["entitlements_service_url"] + location
    status = requests.get(status_url, headers={"Authorization": f"Bearer {api.cis_token}"}, timeout=10)
    assert status.json()["status"] == "IN_PROGRESS"
    api.config(job_seconds=0)
    status = requests.get(status_url, headers={"Authorization": f"Bearer {api.cis_token}"}, timeout=10)
    assert status.json()["status"] == "COMPLETED"
    done = _assignment(api)
    assert done is not None and done["entityState"] == "OK" and done["amount"] == 2
    assert done["entityId"] == SUBACCOUNT_GUID
    assert isinstance(done["createdDate"], int) and isinstance(done["modifiedDate"], int)
    plan = api.btp("GET", "entitlements", "/entitlements/v1/assignments").json()["entitledServices"][0]
    assert plan["servicePlans"][0]["remainingAmount"] == 3
    # unassign with amount 0
    assert _put(api, amount=0).status_code == 202
    assert _assignment(api) is None


def test_assign_errors(api: Api) -> None:
    missing = api.btp("PUT", "entitlements", ASSIGN, json={"subaccountServicePlans": [{
        "serviceName": "hana-cloud", "servicePlanName": "hana",
        "assignmentInfo": [{"subaccountGUID": SUBACCOUNT_GUID, "enable": True}]}]})
    assert missing.status_code == 409 and missing.json()["error"]["code"] == 30015
    assert "is not entitled to this service plan" in missing.json()["error"]["message"]
    enable = _put(api, enable=True)
    assert enable.status_code == 400 and enable.json()["error"]["code"] == 12003
    assert enable.json()["error"]["message"].startswith("A quota was not set in the amount parameter")
    too_much = _put(api, amount=6)
    assert too_much.status_code == 409 and too_much.json()["error"]["code"] == 30009
    assert _assignment(api) is None


def test_enable_type_plan(api: Api) -> None:
    import yaml

    from provisioner.sim import Simulator
    from provisioner.sim.landscape import DEFAULT_LANDSCAPE

    data = yaml.safe_load(DEFAULT_LANDSCAPE.read_text())
    data["global_account"]["entitlements"][0]["category"] = "ELASTIC_SERVICE"
    with Simulator(landscape=data, job_seconds=0) as other:
        elastic = Api(other)
        amount = _put(elastic, amount=1)
        assert amount.status_code == 400 and amount.json()["error"]["code"] == 12003
        assert amount.json()["error"]["message"].startswith("The enable parameter has not been set")
        assert _put(elastic, enable=True).status_code == 202
        info = _assignment(elastic)
        assert info is not None and info["entityState"] == "OK" and info["amount"] == 1
        assert _put(elastic, enable=False).status_code == 202
        assert _assignment(elastic) is None


def test_unknown_job(api: Api) -> None:
    r = api.btp("GET", "entitlements", "/jobs-management/v1/jobs/1/status")
    assert r.status_code == 404 and "error" in r.json()


def test_environments(api: Api) -> None:
    envs = api.btp("GET", "provisioning", "/provisioning/v1/environments").json()["environmentInstances"]
    assert [e["name"] for e in envs] == ["acme-cloudalm", "globex-cloudalm"]  # initech has no CF environment
    [env] = [e for e in envs if e["subaccountGUID"] == SUBACCOUNT_GUID]
    assert env["environmentType"] == "cloudfoundry" and env["subaccountGUID"] == SUBACCOUNT_GUID
    labels = json.loads(env["labels"])
    assert labels == {"API Endpoint": api.url, "Org Name": "acme-cloudalm", "Org ID": ORG_GUID}
    assert env["platformId"] == ORG_GUID
