"""Simulator: fault injection (latency, transient failures, token expiry, jobs, entitlements) and /_sim/faults.

No test waits for time to pass: jobs are driven by durations of 0 or 3600 seconds and by changing settings, and
random decisions are either certain (rate 1) or compared between two runs with the same seed.
"""

from __future__ import annotations

import http.client
import re
import ssl
import time
from urllib.parse import urlsplit

import pytest
import requests

from provisioner.sim import Simulator
from provisioner.sim.core.faults import FAIL_RATE_KINDS, Faults, FaultsError

from .sim_testkit import ORG_GUID, PLAN_GUID, SUBACCOUNT_GUID, Api, FakeClock, cf_error

ASSIGN = "/entitlements/v1/subaccountServicePlans"


def _faults(api: Api) -> dict:
    return requests.get(api.url + "/_sim/faults", timeout=10).json()


def _space_names(api: Api) -> list[str]:
    spaces = api.cf("GET", "/v3/spaces", params={"organization_guids": ORG_GUID}).json()["resources"]
    return [s["name"] for s in spaces]


def _post_space(api: Api, name: str) -> requests.Response:
    return api.cf("POST", "/v3/spaces", json={"name": name,
                                             "relationships": {"organization": {"data": {"guid": ORG_GUID}}}})


def _put_assignment(api: Api, amount: int = 1) -> requests.Response:
    return api.btp("PUT", "entitlements", ASSIGN, json={"subaccountServicePlans": [{
        "serviceName": "SAPCloudALMAPIs", "servicePlanName": "standard",
        "assignmentInfo": [{"subaccountGUID": SUBACCOUNT_GUID, "amount": amount}]}]})


def _acme_assignment(api: Api) -> dict | None:
    body = api.btp("GET", "entitlements", "/entitlements/v1/assignments",
                   params={"subaccountGUID": SUBACCOUNT_GUID}).json()
    infos = [i for s in body["assignedServices"] for p in s["servicePlans"] for i in p["assignmentInfo"]]
    return infos[0] if infos else None


def _btp_job_status(api: Api, location: str) -> str:
    url = api.info["cis_key"]["endpoints"]["entitlements_service_url"] + location
    return requests.get(url, headers={"Authorization": f"Bearer {api.cis_token}"}, timeout=10).json()["status"]


# ---- /_sim/faults ---------------------------------------------------------------------------------


def test_faults_defaults_patch_merge_and_delete(api: Api) -> None:
    assert _faults(api) == Faults().as_dict() == {
        "seed": 0, "latency": 0.0, "latency_by_path": {}, "fail_rate": 0.0, "failures": [], "retry_after": 1,
        "job_seconds_by_operation": {}, "job_failures": {}, "job_failure_rate": 0.0,
        "entitlements_stuck": False, "entitlement_lock_rate": 0.0, "tokens_expire_every": 0.0}
    api.faults(seed=7, latency_by_path={"/v3/*": 0.5}, job_failures={"service_keys.create": "no"},
               failures=[{"paths": "/v3/spaces", "methods": ["post"], "kinds": [503]}])
    after = api.faults(latency_by_path={"/btp/*": 1}, job_failures={"service_keys.create": None})
    assert after["seed"] == 7
    assert after["latency_by_path"] == {"/v3/*": 0.5, "/btp/*": 1.0}  # objects merge (RFC 7386) ...
    assert after["job_failures"] == {}  # ... and null removes a key
    assert after["failures"] == [{"paths": ["/v3/spaces"], "methods": ["POST"], "rate": 1.0, "kinds": ["503"],
                                  "when": "before", "times": None}]
    for bad in ({"nope": 1}, {"fail_rate": 1.5}, {"latency": -1}, {"failures": [{"kinds": ["418"]}]},
                {"failures": [{"when": "later"}]}, {"job_failures": {"instance.create": "x"}},
                {"entitlements_stuck": "yes"}, {"failures": [{"paths": ["v3"]}]}):
        r = requests.patch(api.url + "/_sim/faults", json=bad, timeout=10)
        assert r.status_code == 400 and "error" in r.json(), bad
    assert _faults(api)["seed"] == 7  # a refused patch changes nothing
    assert requests.delete(api.url + "/_sim/faults", timeout=10).json() == Faults().as_dict()


def test_simulator_rejects_invalid_faults() -> None:
    with pytest.raises(FaultsError, match="fail_rate"):
        Simulator(faults={"fail_rate": 2})


def test_faults_never_apply_to_admin_paths(clocked_api: Api, clock: FakeClock) -> None:
    api = clocked_api
    requests.delete(api.url + "/_sim/requests", timeout=10)
    api.faults(fail_rate=1.0, latency=30)
    for path in ("/_sim/faults", "/_sim/config", "/_sim/state", "/_sim/requests"):
        assert requests.get(api.url + path, timeout=10).status_code == 200
    assert api.journal() == []
    assert clock.slept == []  # no latency on admin paths


# ---- latency ------------------------------------------------------------------------------------


def test_latency_is_added_to_api_requests(clocked_api: Api, clock: FakeClock) -> None:
    api = clocked_api
    waited = clock.slept
    api.faults(latency=0.25, latency_by_path={"/btp/*": 0.5, "/v3/info": 0})
    assert api.cf("GET", "/v3/organizations").status_code == 200
    assert requests.get(api.url + "/v3/info", timeout=10).status_code == 200  # 0: no wait
    assert api.btp("GET", "accounts", "/accounts/v1/subaccounts").status_code == 200
    # the cis token request (/xsuaa/...) waits the global latency, then the BTP call its own
    assert waited == [0.25, 0.25, 0.5]
    requests.get(api.url + "/_sim/state", timeout=10)
    assert len(waited) == 3


# ---- transient failures ----------------------------------------------------------------------------


def test_failure_before_does_not_process_the_request(api: Api) -> None:
    requests.delete(api.url + "/_sim/requests", timeout=10)
    api.faults(failures=[{"paths": ["/v3/spaces"], "methods": ["POST"], "kinds": ["502"], "times": 1}])
    r = _post_space(api, "before")
    assert r.status_code == 502 and r.headers["Content-Type"].startswith("text/plain")
    with pytest.raises(ValueError):
        r.json()  # a router's text, not a CF error envelope
    assert _space_names(api) == []
    assert _faults(api)["failures"][0]["times"] == 0  # used up
    assert _post_space(api, "before").status_code == 201
    journal = api.journal()
    assert [(e["method"], e["status"], e["fault"]) for e in journal] == [
        ("POST", 502, "502"), ("GET", 200, None), ("POST", 201, None)]


def test_failure_after_processes_the_request(api: Api) -> None:
    """The ambiguous failure: the space exists although the client saw a 503; re-POSTing would be refused."""
    api.faults(failures=[{"paths": ["/v3/spaces"], "methods": ["POST"], "kinds": ["503"], "when": "after",
                          "times": 1}])
    r = _post_space(api, "after")
    assert r.status_code == 503
    assert cf_error(r) == {"detail": "Database connection failure", "title": "CF-ServiceUnavailable",
                           "code": 10015}
    assert _space_names(api) == ["after"]  # adopt it by re-reading ...
    again = _post_space(api, "after")  # ... a blind retry fails
    assert again.status_code == 422 and cf_error(again)["detail"] == "Name must be unique per organization"


def test_cf_429_has_rate_limit_headers(api: Api) -> None:
    api.faults(retry_after=0, failures=[{"paths": ["/v3/*"], "kinds": ["429"], "when": "after", "times": 1}])
    before = int(time.time())
    r = _post_space(api, "limited")
    assert r.status_code == 429
    assert r.headers["Retry-After"] == "0"
    assert r.headers["X-RateLimit-Remaining"] == "0" and int(r.headers["X-RateLimit-Limit"]) > 0
    assert int(r.headers["X-RateLimit-Reset"]) >= before
    assert r.headers["Content-Type"].startswith("text/plain")  # as the real CC (reference 9.3)
    assert cf_error(r) == {"detail": "Rate Limit Exceeded", "title": "CF-RateLimitExceeded", "code": 10013}
    assert _space_names(api) == []  # a 429 is never "after": the request was not processed


def test_btp_and_token_endpoint_failures(api: Api) -> None:
    api.cis_token  # noqa: B018 - sign in before the token endpoints fail
    api.faults(retry_after=1, failures=[
        {"paths": ["/btp/*"], "kinds": ["429"], "times": 1},
        {"paths": ["/btp/*"], "kinds": ["503"], "times": 1},
        {"paths": ["/uaa/oauth/token"], "kinds": ["503"], "times": 1},
        {"paths": ["/xsuaa/*"], "kinds": ["504"], "times": 1}])
    limited = api.btp("GET", "accounts", "/accounts/v1/subaccounts")
    assert limited.status_code == 429 and limited.headers["Retry-After"] == "1"
    error = limited.json()["error"]
    assert error["code"] == 11006 and error["details"][0]["code"] == 11007
    unavailable = api.btp("GET", "accounts", "/accounts/v1/subaccounts")
    assert unavailable.status_code == 503 and "code" in unavailable.json()["error"]
    uaa = requests.post(api.url + "/uaa/oauth/token", auth=("cf", ""), data={"grant_type": "password"},
                        timeout=10)
    assert uaa.status_code == 503 and uaa.json()["error"] == "temporarily_unavailable"
    xsuaa = requests.post(api.info["cis_key"]["uaa"]["url"] + "/oauth/token", timeout=10)
    assert xsuaa.status_code == 504 and "Gateway Time-out" in xsuaa.text
    assert api.btp("GET", "accounts", "/accounts/v1/subaccounts").status_code == 200


def test_reset_closes_the_connection_without_a_response(api: Api, capfd: pytest.CaptureFixture[str]) -> None:
    api.faults(failures=[{"paths": ["/v3/spaces"], "methods": ["POST"], "kinds": ["reset"], "when": "after",
                          "times": 1},
                         {"paths": ["/v3/info"], "kinds": ["reset"], "times": 1}])
    with pytest.raises(requests.exceptions.ConnectionError):
        _post_space(api, "reset")
    assert _space_names(api) == ["reset"]  # "after": processed, then the connection was dropped
    url = urlsplit(api.url)
    conn = http.client.HTTPSConnection(url.hostname, url.port, timeout=10, context=ssl.create_default_context())
    # http.client.RemoteDisconnected is a ConnectionResetError; over TLS the end may show as an EOF without close_notify
    with pytest.raises((ConnectionResetError, ssl.SSLEOFError)):
        conn.request("GET", "/v3/info")
        conn.getresponse()
    conn.close()
    assert requests.get(api.url + "/v3/info", timeout=10).status_code == 200
    resets = [(e["method"], e["path"], e["status"]) for e in api.journal() if e["fault"] == "reset"]
    assert resets == [("POST", "/v3/spaces", None), ("GET", "/v3/info", None)]
    assert capfd.readouterr().err == ""  # the server thread logged nothing


def test_fail_rate_fails_api_requests_with_its_kinds(api: Api) -> None:
    requests.delete(api.url + "/_sim/requests", timeout=10)
    api.faults(seed=3, fail_rate=1.0, retry_after=0)
    for _ in range(20):
        try:
            r = api.cf("GET", "/v3/organizations")
        except requests.exceptions.ConnectionError:
            continue
        assert r.status_code in (429, 502, 503, 504)
    journal = api.journal()
    assert len(journal) == 20 and {e["fault"] for e in journal} <= set(FAIL_RATE_KINDS)
    assert len({e["fault"] for e in journal}) > 1


def _run_scenario(seed: int) -> list[tuple[str, int | None, str | None]]:
    """The same requests against a fresh simulator with fail_rate 0.5: what the journal says happened."""
    with Simulator(job_seconds=0, faults={"seed": seed}) as sim:
        api = Api(sim)
        api.faults(fail_rate=0.5, retry_after=0)
        for i in range(12):
            try:
                _post_space(api, f"s{i}")
                api.cf("GET", "/v3/spaces")
            except requests.exceptions.ConnectionError:
                pass
        return [(e["method"], e["status"], e["fault"]) for e in api.journal()]


def test_same_seed_same_faults() -> None:
    first, second, other = _run_scenario(11), _run_scenario(11), _run_scenario(12)
    assert first == second
    assert first != other
    assert any(f is not None for _, _, f in first) and any(f is None for _, _, f in first)


def test_patching_the_seed_restarts_the_sequence(api: Api) -> None:
    def faults_of_ten() -> list[str | None]:
        api.faults(seed=5, fail_rate=0.5, retry_after=0)
        requests.delete(api.url + "/_sim/requests", timeout=10)
        for _ in range(10):
            try:
                requests.get(api.url + "/v3/info", timeout=10)
            except requests.exceptions.ConnectionError:
                pass
        return [e["fault"] for e in api.journal()]

    assert faults_of_ten() == faults_of_ten()


# ---- token expiry ---------------------------------------------------------------------------------


def test_expired_tokens_get_401_and_refresh_works(api: Api) -> None:
    tokens = requests.post(api.url + "/uaa/oauth/token", auth=("cf", ""), timeout=10,
                           data={"grant_type": "password", "username": "admin@example.com",
                                 "password": "sim-admin-password"}).json()
    cis = api.cis_token
    assert requests.post(api.url + "/_sim/tokens/expire", timeout=10).status_code == 204
    r = api.cf("GET", "/v3/organizations", token=tokens["access_token"])
    assert r.status_code == 401
    assert cf_error(r) == {"detail": "Invalid Auth Token", "title": "CF-InvalidAuthToken", "code": 1000}
    btp = api.btp("GET", "accounts", "/accounts/v1/subaccounts")
    assert btp.status_code == 401 and btp.json()["error"]["code"] == 11002
    refreshed = requests.post(api.url + "/uaa/oauth/token", auth=("cf", ""), timeout=10,
                              data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]})
    assert refreshed.status_code == 200
    assert api.cf("GET", "/v3/organizations", token=refreshed.json()["access_token"]).status_code == 200
    api._cis_token = None  # sign in again with the cis key
    assert api.cis_token != cis
    assert api.btp("GET", "accounts", "/accounts/v1/subaccounts").status_code == 200


# ---- jobs -----------------------------------------------------------------------------------------


def test_job_seconds_by_operation(api: Api) -> None:
    space = api.ready_space()
    api.faults(job_seconds_by_operation={"service_instance.create": 3600})
    guid, location = api.create_instance(space)
    assert api.cf("GET", location).json()["state"] in ("PROCESSING", "POLLING")
    assert api.cf("GET", f"/v3/service_instances/{guid}").json()["last_operation"]["state"] == "initial"
    api.faults(job_seconds_by_operation={"service_instance.create": 0})
    assert api.cf("GET", location).json()["state"] == "COMPLETE"
    key_guid, key_job = api.create_key(guid)  # other operations keep config.job_seconds (0 here)
    assert api.cf("GET", key_job).json()["state"] == "COMPLETE"


def test_job_failures_fail_instance_and_key_jobs(api: Api) -> None:
    space = api.ready_space()
    api.faults(job_failures={"service_instance.create": "broker said no"})
    guid, location = api.create_instance(space)
    job = api.cf("GET", location).json()
    assert job["state"] == "FAILED"
    assert job["errors"] == [{"code": 10009, "title": "CF-UnableToPerform",
                              "detail": "create could not be completed: broker said no"}]
    inst = api.cf("GET", f"/v3/service_instances/{guid}").json()
    assert inst["last_operation"]["state"] == "failed"
    assert inst["last_operation"]["description"] == "broker said no"
    api.faults(job_failures={"service_instance.create": None, "service_keys.create": "no credentials"})
    guid, location = api.create_instance(space)  # replaces the failed instance
    assert api.cf("GET", location).json()["state"] == "COMPLETE"
    key_guid, key_job = api.create_key(guid)
    assert api.cf("GET", key_job).json()["state"] == "FAILED"
    details = api.cf("GET", f"/v3/service_credential_bindings/{key_guid}/details")
    assert details.status_code == 404 and cf_error(details)["detail"] == "Creation of service key failed"


def test_job_failures_fail_entitlement_jobs(api: Api) -> None:
    api.faults(job_failures={"entitlements.assign": "quota service unavailable"})
    r = _put_assignment(api)
    assert r.status_code == 202
    assert _btp_job_status(api, r.headers["Location"]) == "FAILED"
    info = _acme_assignment(api)
    assert info is not None and info["entityState"] == "PROCESSING_FAILED"
    assert info["stateMessage"] == "quota service unavailable"


def test_job_failure_rate(api: Api) -> None:
    space = api.ready_space()  # the entitlement job before any failure rate
    api.faults(job_failure_rate=1.0)
    _, location = api.create_instance(space)
    job = api.cf("GET", location).json()
    assert job["state"] == "FAILED" and "job_failure_rate" in job["errors"][0]["detail"]
    api.faults(job_failure_rate=0)
    _, location = api.create_instance(space)
    assert api.cf("GET", location).json()["state"] == "COMPLETE"


# ---- entitlements -----------------------------------------------------------------------------------


def test_stuck_entitlements_stay_processing(api: Api) -> None:
    space = api.create_space()
    api.make_developer(space["guid"])
    api.faults(entitlements_stuck=True)
    r = _put_assignment(api)
    assert r.status_code == 202
    for _ in range(3):  # job_seconds is 0: without the fault the job would be done
        assert _btp_job_status(api, r.headers["Location"]) == "IN_PROGRESS"
        info = _acme_assignment(api)
        assert info is not None and info["entityState"] == "PROCESSING"
    plans = api.cf("GET", "/v3/service_plans", params={"space_guids": space["guid"]}).json()["resources"]
    assert plans == []
    api.faults(entitlements_stuck=False)
    assert _btp_job_status(api, r.headers["Location"]) == "COMPLETED"
    info = _acme_assignment(api)
    assert info is not None and info["entityState"] == "OK"
    plans = api.cf("GET", "/v3/service_plans", params={"space_guids": space["guid"]}).json()["resources"]
    assert [p["guid"] for p in plans] == [PLAN_GUID]


def test_entitlement_lock(api: Api) -> None:
    api.cis_token  # noqa: B018
    api.faults(entitlement_lock_rate=1.0)
    r = _put_assignment(api)
    assert r.status_code == 400
    assert r.json()["error"]["code"] == 30004
    assert _acme_assignment(api) is None
    assert [e["fault"] for e in api.journal() if e["method"] == "PUT"] == ["lock"]
    invalid = _put_assignment(api, amount=-1)  # validation comes first
    assert invalid.status_code == 400 and invalid.json()["error"]["code"] == 11000
    api.faults(entitlement_lock_rate=0)
    assert _put_assignment(api).status_code == 202


def test_faults_file_errors_point_at_the_entry(tmp_path) -> None:
    from provisioner.sim.cli import faults_object

    path = tmp_path / "faults.yaml"
    path.write_text("seed: 1\njob_failures:\n  instance.create: no\nfail_rate: 0.5\n")
    with pytest.raises(FaultsError, match="^" + re.escape(str(path)) + r":3:3: job_failures\.instance\.create: "
                       r"'instance\.create' is not one of .*; did you mean 'service_instance\.create'\?$"):
        faults_object(str(path))
    path.write_text("failures:\n  - paths: [/v3/*]\n    rate: 2\n")
    with pytest.raises(FaultsError, match="^" + re.escape(str(path)) + r":3:5: failures\[0\]\.rate: 2 is over the "
                       r"maximum 1; use 1 or less$"):
        faults_object(str(path))
    path.write_text("fail_rate: 0.5\n")
    assert faults_object(str(path), seed=3) == {"fail_rate": 0.5, "seed": 3}
