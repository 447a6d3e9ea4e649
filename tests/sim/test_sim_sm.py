"""Simulator: SAP Service Manager over HTTP (sign-in through an Accounts v2 serviceManagerBinding, lists with paging
and queries, asynchronous operations on the skip clock, 409/422/429, one broker and XSUAA with Cloud Foundry)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from email.utils import parsedate_to_datetime
from typing import Any

import requests

from .sim_testkit import (
    ALM_PARAMETERS,
    ORG_GUID,
    SUBACCOUNT_GUID,
    Api,
    FakeClock,
    Sm,
    client_token_response,
)

BINDING_SECRET = {"xs-security": {**ALM_PARAMETERS["xs-security"],
                                  "oauth2-configuration": {"credential-types": ["binding-secret"]}}}


def _ready(api: Api) -> Sm:
    """acme-cloudalm with the plan entitled, and a Service Manager client of it."""
    api.entitle()
    return Sm(api, SUBACCOUNT_GUID)


def _create(sm: Sm, name: str, parameters: dict[str, Any] | None = None, labels: dict[str, list[str]] | None = None,
            sync: bool = True) -> requests.Response:
    return sm("POST", "/v1/service_instances", params={"async": "false" if sync else "true"},
              json={"name": name, "service_plan_id": sm.plan_id(), "parameters": parameters or ALM_PARAMETERS,
                    "labels": labels or {}})


def _bind(sm: Sm, instance_id: str, name: str) -> dict[str, Any]:
    r = sm("POST", "/v1/service_bindings", params={"async": "false"},
           json={"name": name, "service_instance_id": instance_id})
    assert r.status_code == 201, r.text
    return r.json()


# ---- access ----------------------------------------------------------------------------------------


def test_service_manager_bindings_of_a_subaccount(api: Api) -> None:
    base = f"/accounts/v2/subaccounts/{SUBACCOUNT_GUID}/serviceManagerBindings"
    none = api.btp("GET", "accounts", base)
    assert none.status_code == 404 and none.json()["error"]["code"] == 20004  # no binding yet
    created = api.btp("POST", "accounts", base, json={"name": "provisioner"})
    assert created.status_code == 201
    body = created.json()
    assert set(body) == {"name", "clientid", "clientsecret", "url", "sm_url", "xsappname", "creationDate"}
    assert body["url"] == f"{api.url}/xsuaa/acme-cloudalm" and body["sm_url"] == f"{api.url}/sm"
    assert api.btp("POST", "accounts", base, json={"name": "provisioner"}).status_code == 409
    assert api.btp("GET", "accounts", f"{base}/provisioner").json()["clientid"] == body["clientid"]
    assert [b["name"] for b in api.btp("GET", "accounts", base).json()["items"]] == ["provisioner"]
    token = client_token_response(body["url"], body["clientid"], body["clientsecret"])
    assert token.status_code == 200
    sm = requests.get(body["sm_url"] + "/v1/service_instances", timeout=10,
                      headers={"Authorization": f"Bearer {token.json()['access_token']}"})
    assert sm.status_code == 200 and sm.json() == {"num_items": 0, "items": []}

    assert api.btp("DELETE", "accounts", f"{base}/provisioner").status_code == 200
    assert api.btp("GET", "accounts", f"{base}/provisioner").status_code == 404
    gone = client_token_response(body["url"], body["clientid"], body["clientsecret"])
    assert gone.status_code == 401
    old_token = requests.get(body["sm_url"] + "/v1/service_instances", timeout=10,
                             headers={"Authorization": f"Bearer {token.json()['access_token']}"})
    assert old_token.status_code == 401 and old_token.json()["error"] == "Unauthorized"


def test_service_manager_needs_its_own_token(api: Api) -> None:
    url = f"{api.url}/sm/v1/service_instances"
    assert requests.get(url, timeout=10).status_code == 401
    cis = requests.get(url, headers={"Authorization": f"Bearer {api.cis_token}"}, timeout=10)
    assert cis.status_code == 401 and set(cis.json()) == {"error", "description"}


# ---- catalog, lists, queries, paging -----------------------------------------------------------------


def test_plans_are_visible_where_entitled(api: Api) -> None:
    sm = Sm(api, SUBACCOUNT_GUID)
    assert sm("GET", "/v1/service_plans").json()["items"] == []  # acme has no assignment yet
    api.entitle()
    [offering] = sm("GET", "/v1/service_offerings").json()["items"]
    assert offering["catalog_name"] == "SAPCloudALMAPIs" and offering["instances_retrievable"] is True
    [plan] = sm("GET", "/v1/service_plans").json()["items"]
    assert plan["service_offering_id"] == offering["id"] and plan["catalog_name"] == "standard"
    assert sm.plan_id() == plan["id"]


def test_paging_by_token(api: Api) -> None:
    sm = _ready(api)
    for i in range(5):
        assert _create(sm, f"inst-{i}").status_code == 201
    first = sm("GET", "/v1/service_instances", params={"max_items": 2})
    body = first.json()
    assert body["num_items"] == 5 and [i["name"] for i in body["items"]] == ["inst-0", "inst-1"]
    link = first.headers["Link"]
    assert link.endswith('>; rel="next"')
    followed = requests.get(link[1:link.index(">")], headers={"Authorization": f"Bearer {sm.token}"}, timeout=10)
    assert [i["name"] for i in followed.json()["items"]] == ["inst-2", "inst-3"]
    names = [i["name"] for i in body["items"]]
    while "token" in body:
        body = sm("GET", "/v1/service_instances", params={"max_items": 2, "token": body["token"]}).json()
        names += [i["name"] for i in body["items"]]
    assert names == [f"inst-{i}" for i in range(5)]
    last = sm("GET", "/v1/service_instances", params={"max_items": 5})
    assert "token" not in last.json() and "Link" not in last.headers
    assert sm("GET", "/v1/service_instances", params={"max_items": 0}).json() == {"num_items": 5}
    assert sm("GET", "/v1/service_instances", params={"max_items": -1}).status_code == 400
    bad = sm("GET", "/v1/service_instances", params={"token": "%%%"})
    assert bad.status_code == 400 and bad.json()["error"] == "BadRequest"


def test_field_and_label_queries(api: Api) -> None:
    sm = _ready(api)
    _create(sm, "alpha", labels={"managed-by": ["provisioner"], "tenant": ["acme"]})
    _create(sm, "beta", labels={"managed-by": ["someone"]})
    _create(sm, "it's")

    def names(**params: str) -> list[str]:
        r = sm("GET", "/v1/service_instances", params=params)
        assert r.status_code == 200, r.text
        return [i["name"] for i in r.json()["items"]]

    assert names(fieldQuery="name eq 'alpha'") == ["alpha"]
    assert names(fieldQuery="name eq 'it''s'") == ["it's"]
    assert names(fieldQuery=f"service_plan_id eq '{sm.plan_id()}' and name ne 'beta'") == ["alpha", "it's"]
    assert names(fieldQuery="name in ('alpha', 'beta')") == ["alpha", "beta"]
    assert names(fieldQuery="ready eq true and usable eq 'true'") == ["alpha", "beta", "it's"]
    assert names(labelQuery="managed-by eq 'provisioner'") == ["alpha"]
    assert names(labelQuery="managed-by ne 'provisioner'") == ["beta"]
    assert names(labelQuery="managed-by eq 'provisioner' and tenant eq 'acme'", fieldQuery="name eq 'alpha'") \
        == ["alpha"]
    assert names(labelQuery="subaccount_id eq '" + SUBACCOUNT_GUID + "'") == ["alpha", "beta", "it's"]
    for params in ({"fieldQuery": "name = 'alpha'"}, {"fieldQuery": "name eq 'alpha' or name eq 'beta'"},
                   {"fieldQuery": "colour eq 'red'"}, {"labelQuery": "managed-by eq"}):
        r = sm("GET", "/v1/service_instances", params=params)
        assert r.status_code == 400 and r.json()["error"] in ("InvalidFieldQuery", "InvalidLabelQuery"), params


# ---- instances and operations ------------------------------------------------------------------------


def test_async_create_update_delete_on_the_skip_clock(clocked_api: Api, clock: FakeClock) -> None:
    sm = _ready(clocked_api)
    clock.advance(10)  # the entitlement job
    r = _create(sm, "alm", BINDING_SECRET, {"managed-by": ["provisioner"]}, sync=False)
    assert r.status_code == 202 and r.json() == {}
    location = r.headers["Location"]
    instance_id = location.split("/")[3]
    assert location == f"/v1/service_instances/{instance_id}/operations/{location.split('/')[-1]}"
    op = sm("GET", location).json()
    assert (op["type"], op["state"], op["resource_id"]) == ("create", "in progress", instance_id)
    inst = sm("GET", f"/v1/service_instances/{instance_id}").json()
    assert inst["ready"] is False and inst["usable"] is False and inst["last_operation"]["state"] == "in progress"
    assert sm("GET", f"/v1/service_instances/{instance_id}/parameters").status_code == 404
    bind = sm("POST", "/v1/service_bindings", json={"name": "b", "service_instance_id": instance_id})
    assert bind.status_code == 422 and bind.json()["error"] == "ConcurrentOperationInProgress"

    clock.advance(10)
    assert sm("GET", location).json()["state"] == "succeeded"
    inst = sm("GET", f"/v1/service_instances/{instance_id}").json()
    assert inst["ready"] is True and inst["usable"] is True and inst["platform_id"] == "service-manager"
    assert inst["context"]["platform"] == "sapcp" and inst["context"]["subaccount_id"] == SUBACCOUNT_GUID
    assert inst["labels"] == {"managed-by": ["provisioner"], "subaccount_id": [SUBACCOUNT_GUID]}
    assert sm("GET", f"/v1/service_instances/{instance_id}/parameters").json() == BINDING_SECRET

    changed = {"xs-security": {**BINDING_SECRET["xs-security"], "xsappname": instance_id}}
    update = sm("PATCH", f"/v1/service_instances/{instance_id}", json={"parameters": changed})
    assert update.status_code == 202
    again = sm("PATCH", f"/v1/service_instances/{instance_id}", json={"parameters": ALM_PARAMETERS})
    assert again.status_code == 422 and again.json() == {
        "error": "ConcurrentOperationInProgress", "description": "Another concurrent operation in progress for this "
                                                                 "resource"}
    assert sm("DELETE", f"/v1/service_instances/{instance_id}").status_code == 422
    clock.advance(10)
    assert sm("GET", update.headers["Location"]).json()["state"] == "succeeded"
    assert sm("GET", f"/v1/service_instances/{instance_id}/parameters").json() == changed

    labels = sm("PATCH", f"/v1/service_instances/{instance_id}", json={"labels": [
        {"op": "add", "key": "record", "values": ["sha256:1"]}, {"op": "remove", "key": "managed-by"}]})
    assert labels.status_code == 200  # labels alone change at once
    assert labels.json()["labels"] == {"record": ["sha256:1"], "subaccount_id": [SUBACCOUNT_GUID]}

    delete = sm("DELETE", f"/v1/service_instances/{instance_id}")
    assert delete.status_code == 202
    clock.advance(10)
    assert sm("GET", delete.headers["Location"]).json()["state"] == "succeeded"
    missing = sm("GET", f"/v1/service_instances/{instance_id}")
    assert missing.status_code == 404 and missing.json() == {
        "error": "NotFound", "description": "could not find such /v1/service_instances"}


def test_failed_operation_says_why(api: Api) -> None:
    sm = _ready(api)
    bad = {"xs-security": {"xsappname": "no spaces allowed"}}
    r = _create(sm, "broken", bad, sync=False)
    op = sm("GET", r.headers["Location"]).json()
    assert op["state"] == "failed" and "xsappname" in op["description"]
    assert op["errors"][0]["error"] == "BrokerError"
    inst = sm("GET", f"/v1/service_instances/{op['resource_id']}").json()
    assert inst["ready"] is False and inst["last_operation"]["state"] == "failed"
    # an injected broker failure (faults.job_failures) fails the operation the same way
    instance_id = _create(sm, "alm").json()["id"]
    api.faults(job_failures={"sm.service_binding.create": "broker said no"})
    bind = sm("POST", "/v1/service_bindings", json={"name": "key", "service_instance_id": instance_id})
    failed = sm("GET", bind.headers["Location"]).json()
    assert failed["state"] == "failed" and failed["description"] == "broker said no"
    assert "credentials" not in sm("GET", f"/v1/service_bindings/{failed['resource_id']}").json()


def test_names_taken(api: Api) -> None:
    sm = _ready(api)
    instance_id = _create(sm, "alm").json()["id"]
    taken = _create(sm, "alm")
    assert taken.status_code == 409 and taken.json() == {
        "error": "Conflict", "description": "instance with same name exists for the current tenant"}
    by_names = sm("POST", "/v1/service_instances", params={"async": "false"}, json={
        "name": "alm", "service_offering_name": "SAPCloudALMAPIs", "service_plan_name": "standard"})
    assert by_names.status_code == 409  # the same plan, named instead of given by id
    _bind(sm, instance_id, "key")
    twice = sm("POST", "/v1/service_bindings", json={"name": "key", "service_instance_id": instance_id})
    assert twice.status_code == 409 and twice.json()["error"] == "Conflict"


# ---- faults ------------------------------------------------------------------------------------------


def test_injected_429_has_an_http_date_retry_after_and_422_is_a_concurrent_operation(api: Api) -> None:
    sm = _ready(api)
    api.faults(failures=[{"paths": ["/sm/v1/service_instances"], "methods": ["GET"], "kinds": ["429"], "times": 1},
                         {"paths": ["/sm/v1/service_instances"], "methods": ["POST"], "kinds": ["422"], "times": 1}])
    limited = sm("GET", "/v1/service_instances")
    assert limited.status_code == 429
    assert set(limited.json()) == {"error", "description"} and "Retry-After" in limited.json()["description"]
    assert parsedate_to_datetime(limited.headers["Retry-After"]).tzinfo is not None  # an HTTP date
    assert sm("GET", "/v1/service_instances").status_code == 200
    busy = _create(sm, "alm")
    assert busy.status_code == 422 and busy.json()["error"] == "ConcurrentOperationInProgress"
    assert sm("GET", "/v1/service_instances").json()["num_items"] == 0  # refused before it was processed
    assert [e["fault"] for e in api.journal() if e["path"].startswith("/sm/")].count("429") == 1


# ---- one broker, one XSUAA, two platforms --------------------------------------------------------------


def test_cf_instance_is_listed_in_service_manager_and_sm_instance_is_not_in_cf(api: Api) -> None:
    space = api.ready_space()
    cf_instance, _ = api.create_instance(space, "cf-made")
    key, _ = api.create_key(cf_instance, "cf-key")
    sm = Sm(api, SUBACCOUNT_GUID)
    sm_instance = _create(sm, "sm-made").json()

    listed = {i["name"]: i for i in sm("GET", "/v1/service_instances").json()["items"]}
    assert set(listed) == {"cf-made", "sm-made"}
    assert listed["cf-made"]["id"] == cf_instance and listed["cf-made"]["service_plan_id"] == sm.plan_id()
    context = listed["cf-made"]["context"]
    assert context["platform"] == "cloudfoundry" and context["organization_guid"] == ORG_GUID
    assert context["space_guid"] == space and listed["cf-made"]["platform_id"] != "service-manager"
    assert listed["sm-made"]["context"]["platform"] == "sapcp"
    only_sm = sm("GET", "/v1/service_instances", params={"fieldQuery": "platform_id eq 'service-manager'"})
    assert [i["name"] for i in only_sm.json()["items"]] == ["sm-made"]
    [binding] = sm("GET", "/v1/service_bindings").json()["items"]
    assert (binding["id"], binding["name"], binding["service_instance_id"]) == (key, "cf-key", cf_instance)
    assert "credentials" not in binding  # Service Manager keeps no credentials of CF keys
    refused = sm("PATCH", f"/v1/service_instances/{cf_instance}", json={"parameters": ALM_PARAMETERS})
    assert refused.status_code == 400

    cf_names = [i["name"] for i in api.cf("GET", "/v3/service_instances").json()["resources"]]
    assert "sm-made" not in cf_names and "cf-made" in cf_names
    assert api.cf("GET", f"/v3/service_instances/{sm_instance['id']}").status_code == 404


def test_each_binding_secret_signs_in_until_its_binding_is_deleted(api: Api) -> None:
    sm = _ready(api)
    instance_id = _create(sm, "alm", BINDING_SECRET).json()["id"]
    first, second = _bind(sm, instance_id, "key-1"), _bind(sm, instance_id, "key-2")
    u1, u2 = first["credentials"]["uaa"], second["credentials"]["uaa"]
    assert u1["credential-type"] == u2["credential-type"] == "binding-secret"
    assert u1["clientid"] == u2["clientid"] and u1["clientsecret"] != u2["clientsecret"]
    assert sm("GET", f"/v1/service_bindings/{first['id']}").json()["credentials"] == first["credentials"]
    for uaa in (u1, u2):
        signed_in = client_token_response(uaa["url"], uaa["clientid"], uaa["clientsecret"])
        assert signed_in.status_code == 200
        assert "sap-cloud-alm!b1.imp-cdm-feature-display-ui" in signed_in.json()["scope"]

    in_use = sm("DELETE", f"/v1/service_instances/{instance_id}")
    assert in_use.status_code == 409 and in_use.json()["error"] == "ExistingReferenceEntity"
    delete = sm("DELETE", f"/v1/service_bindings/{first['id']}", params={"async": "false"})
    assert delete.status_code == 200
    assert client_token_response(u1["url"], u1["clientid"], u1["clientsecret"]).status_code == 401
    assert client_token_response(u2["url"], u2["clientid"], u2["clientsecret"]).status_code == 200


def test_instance_parameters_can_be_switched_off(api: Api) -> None:
    sm = _ready(api)
    instance_id = _create(sm, "alm").json()["id"]
    api.config(instances_retrievable=False)
    r = sm("GET", f"/v1/service_instances/{instance_id}/parameters")
    assert r.status_code == 400 and r.json()["error"] == "BadRequest"


def test_parallel_creates_of_one_name_make_one_instance(api: Api) -> None:
    sm = _ready(api)
    plan_id = sm.plan_id()

    def create(_: int) -> int:
        return sm("POST", "/v1/service_instances", json={"name": "alm", "service_plan_id": plan_id,
                                                         "parameters": ALM_PARAMETERS}).status_code

    with ThreadPoolExecutor(max_workers=4) as pool:
        codes = sorted(pool.map(create, range(4)))
    assert codes == [202, 409, 409, 409]
    assert sm("GET", "/v1/service_instances", params={"fieldQuery": "name eq 'alm'"}).json()["num_items"] == 1
