"""Simulator: CF v3 spaces, roles, pagination, plan visibility, service instances, keys and jobs."""

from __future__ import annotations

import jwt
import requests
import yaml

from provisioner.sim import Simulator
from provisioner.sim.landscape import DEFAULT_LANDSCAPE

from .sim_testkit import ALM_PARAMETERS, ORG_GUID, PLAN_GUID, SUBACCOUNT_GUID, USER_GUID, Api, cf_error

# ---- pagination and query validation ----------------------------------------------------------


def test_pagination_links(api: Api) -> None:
    for name in ("a", "b", "c"):
        api.create_space(name)
    r = api.cf("GET", "/v3/spaces", params={"per_page": 1, "page": 2, "organization_guids": ORG_GUID})
    body = r.json()
    p = body["pagination"]
    assert p["total_results"] == 3 and p["total_pages"] == 3
    base = f"{api.url}/v3/spaces?organization_guids={ORG_GUID}"
    assert p["first"]["href"] == f"{base}&page=1&per_page=1"
    assert p["last"]["href"] == f"{base}&page=3&per_page=1"
    assert p["next"]["href"] == f"{base}&page=3&per_page=1"
    assert p["previous"]["href"] == f"{base}&page=1&per_page=1"
    assert [s["name"] for s in body["resources"]] == ["b"]
    last = api.cf("GET", p["last"]["href"]).json()["pagination"]
    assert last["next"] is None
    empty = api.cf("GET", "/v3/spaces", params={"names": "nope"}).json()["pagination"]
    assert empty["total_results"] == 0 and empty["total_pages"] == 1
    assert empty["next"] is None and empty["previous"] is None
    assert empty["first"]["href"] == f"{api.url}/v3/spaces?names=nope&page=1&per_page=50"


def test_query_validation(api: Api) -> None:
    unknown = api.cf("GET", "/v3/spaces", params={"foo": "1"})
    assert unknown.status_code == 400
    err = cf_error(unknown)
    assert err["code"] == 10005 and err["title"] == "CF-BadQueryParameter" and "'foo'" in err["detail"]
    too_big = api.cf("GET", "/v3/organizations", params={"per_page": 5001})
    assert too_big.status_code == 400 and "between 1 and 5000" in cf_error(too_big)["detail"]
    assert api.cf("GET", "/v3/organizations", params={"per_page": 0}).status_code == 400
    assert api.cf("GET", "/v3/organizations", params={"per_page": 5000}).status_code == 200
    assert api.cf("GET", "/v3/roles", params={"foo": "1"}).status_code == 422  # roles use unprocessable!


def test_org_names_filter_is_case_insensitive(api: Api) -> None:
    found = api.cf("GET", "/v3/organizations", params={"names": "ACME-CloudALM"}).json()["resources"]
    assert [o["guid"] for o in found] == [ORG_GUID]


# ---- spaces and roles -----------------------------------------------------------------------


def test_space_create_and_name_taken(api: Api) -> None:
    space = api.create_space("cloudalm")
    assert space["name"] == "cloudalm"
    assert space["relationships"]["organization"]["data"]["guid"] == ORG_GUID
    assert space["links"]["self"]["href"] == f"{api.url}/v3/spaces/{space['guid']}"
    assert space["created_at"].endswith("Z") and len(space["created_at"]) == 20
    again = api.cf("POST", "/v3/spaces", json={"name": "CloudALM", "relationships": {
        "organization": {"data": {"guid": ORG_GUID}}}})
    assert again.status_code == 422
    assert cf_error(again) == {"detail": "Name must be unique per organization",
                               "title": "CF-UnprocessableEntity", "code": 10008}
    listed = api.cf("GET", "/v3/spaces", params={"names": "CLOUDALM", "organization_guids": ORG_GUID})
    assert [s["guid"] for s in listed.json()["resources"]] == [space["guid"]]


def test_space_create_errors(api: Api) -> None:
    unknown_org = api.cf("POST", "/v3/spaces", json={"name": "x", "relationships": {
        "organization": {"data": {"guid": "00000000-0000-0000-0000-000000000000"}}}})
    assert unknown_org.status_code == 422 and "Invalid organization" in cf_error(unknown_org)["detail"]
    unknown_field = api.cf("POST", "/v3/spaces", json={"name": "x", "foo": 1, "relationships": {
        "organization": {"data": {"guid": ORG_GUID}}}})
    assert unknown_field.status_code == 422 and cf_error(unknown_field)["detail"] == "Unknown field(s): 'foo'"


def test_roles_create_duplicate_and_include_user(api: Api) -> None:
    space = api.create_space()
    r = api.cf("POST", "/v3/roles", json={"type": "space_developer", "relationships": {
        "user": {"data": {"username": "admin@example.com", "origin": "uaa"}},
        "space": {"data": {"guid": space["guid"]}}}})
    assert r.status_code == 201
    role = r.json()
    assert role["type"] == "space_developer"
    assert role["relationships"]["user"]["data"]["guid"] == USER_GUID
    assert role["relationships"]["organization"]["data"] is None
    dup = api.cf("POST", "/v3/roles", json={"type": "space_developer", "relationships": {
        "user": {"data": {"guid": USER_GUID}}, "space": {"data": {"guid": space["guid"]}}}})
    assert dup.status_code == 422
    assert cf_error(dup)["detail"] == ("User 'admin@example.com' already has 'space_developer' role in space "
                                       "'cloudalm'.")
    listed = api.cf("GET", "/v3/roles", params={"types": "space_developer", "space_guids": space["guid"],
                                                 "include": "user"}).json()
    assert [x["guid"] for x in listed["resources"]] == [role["guid"]]
    assert listed["included"]["users"] == [{
        "guid": USER_GUID, "created_at": listed["included"]["users"][0]["created_at"],
        "updated_at": listed["included"]["users"][0]["updated_at"], "username": "admin@example.com",
        "presentation_name": "admin@example.com", "origin": "uaa",
        "metadata": {"labels": {}, "annotations": {}},
        "links": {"self": {"href": f"{api.url}/v3/users/{USER_GUID}"}}}]
    org_roles = api.cf("GET", "/v3/roles", params={"organization_guids": ORG_GUID, "user_guids": USER_GUID})
    assert {x["type"] for x in org_roles.json()["resources"]} == {"organization_user", "organization_manager"}


def test_space_role_needs_org_role(api: Api) -> None:
    space = api.create_space()
    r = api.cf("POST", "/v3/roles", json={"type": "space_developer", "relationships": {
        "user": {"data": {"username": "stranger@example.com"}}, "space": {"data": {"guid": space["guid"]}}}})
    assert r.status_code == 422
    assert cf_error(r)["detail"] == ("Users cannot be assigned roles in a space if they do not have a role "
                                     "in that space's organization.")


def test_role_by_guid_without_org_role() -> None:
    landscape = _landscape_with_second_user()
    with Simulator(landscape=landscape, job_seconds=0) as other:
        api = Api(other)
        space = api.create_space()
        bob = other.app.identity.users_by_name("bob@example.com")[0].guid
        r = api.cf("POST", "/v3/roles", json={"type": "space_developer", "relationships": {
            "user": {"data": {"guid": bob}}, "space": {"data": {"guid": space["guid"]}}}})
        assert r.status_code == 422
        assert "do not have a role in that space's organization" in cf_error(r)["detail"]
        # bob cannot create spaces: he is no org manager (and cannot even see the org)
        bob_token = api.password_token("bob@example.com", "bob-pw")
        r = api.cf("POST", "/v3/spaces", token=bob_token, json={"name": "x", "relationships": {
            "organization": {"data": {"guid": ORG_GUID}}}})
        assert r.status_code == 422


def _landscape_with_second_user() -> dict:
    data = yaml.safe_load(DEFAULT_LANDSCAPE.read_text())
    data["users"].append({"username": "bob@example.com", "password": "bob-pw"})
    return data


# ---- plans and entitlements -----------------------------------------------------------------


def test_plan_invisible_before_entitlement_visible_after(api: Api) -> None:
    space = api.create_space()
    api.make_developer(space["guid"])
    for params in ({"space_guids": space["guid"]}, {"organization_guids": ORG_GUID},
                   {"names": "standard", "service_offering_names": "SAPCloudALMAPIs", "space_guids": space["guid"]}):
        assert api.cf("GET", "/v3/service_plans", params=params).json()["resources"] == [], params
    # The era tenants' orgs have the plan assigned: without an org filter the user sees it through them.
    assert len(api.cf("GET", "/v3/service_plans").json()["resources"]) == 1
    offerings = api.cf("GET", "/v3/service_offerings", params={"names": "SAPCloudALMAPIs",
                                                               "organization_guids": ORG_GUID})
    assert offerings.json()["resources"] == []
    r = api.cf("POST", "/v3/service_instances", json={
        "type": "managed", "name": "x", "relationships": {"space": {"data": {"guid": space["guid"]}},
                                                          "service_plan": {"data": {"guid": PLAN_GUID}}}})
    assert r.status_code == 422  # the user sees the plan (other orgs), but not in this org
    assert "the plan is not enabled in this organization" in cf_error(r)["detail"]
    unknown = api.cf("POST", "/v3/service_instances", json={
        "type": "managed", "name": "x", "relationships": {"space": {"data": {"guid": space["guid"]}},
                                                          "service_plan": {"data": {"guid": USER_GUID}}}})
    assert unknown.status_code == 422
    assert cf_error(unknown)["detail"] == ("Invalid service plan. Ensure that the service plan exists, is "
                                           "available, and you have access to it.")
    api.entitle()
    plans = api.cf("GET", "/v3/service_plans", params={"names": "STANDARD", "service_offering_names":
                                                        "sapcloudalmapis", "space_guids": space["guid"]})
    [plan] = plans.json()["resources"]
    assert plan["guid"] == PLAN_GUID and plan["visibility_type"] == "organization"
    offerings = api.cf("GET", "/v3/service_offerings", params={"names": "SAPCloudALMAPIs"})
    [offering] = offerings.json()["resources"]
    assert offering["broker_catalog"]["features"] == {
        "plan_updateable": True, "bindable": True, "instances_retrievable": True,
        "bindings_retrievable": True, "allow_context_updates": False}


# ---- service instances ----------------------------------------------------------------------


def test_instance_create_job_succeeds(api: Api) -> None:
    space_guid = api.ready_space()
    r = api.cf("POST", "/v3/service_instances", json={
        "type": "managed", "name": "cloudalm-api", "parameters": ALM_PARAMETERS, "tags": ["alm"],
        "metadata": {"labels": {"team": "ops"}, "annotations": {"provisioner/hash": "abc"}},
        "relationships": {"space": {"data": {"guid": space_guid}},
                          "service_plan": {"data": {"guid": PLAN_GUID}}}})
    assert r.status_code == 202 and r.content == b""
    location = r.headers["Location"]
    assert location.startswith(api.url + "/v3/jobs/")
    job = api.cf("GET", location).json()
    assert job["operation"] == "service_instance.create" and job["state"] == "COMPLETE"
    assert job["errors"] == [] and job["warnings"] == []
    [inst] = api.cf("GET", "/v3/service_instances", params={"names": "cloudalm-api",
                                                             "space_guids": space_guid}).json()["resources"]
    assert job["links"]["service_instances"]["href"] == f"{api.url}/v3/service_instances/{inst['guid']}"
    assert inst["last_operation"]["type"] == "create" and inst["last_operation"]["state"] == "succeeded"
    assert inst["metadata"] == {"labels": {"team": "ops"}, "annotations": {"provisioner/hash": "abc"}}
    assert inst["tags"] == ["alm"] and inst["type"] == "managed"
    assert api.cf("GET", f"/v3/service_instances/{inst['guid']}/parameters").json() == ALM_PARAMETERS
    # names are case-sensitive
    assert api.cf("GET", "/v3/service_instances", params={"names": "CLOUDALM-API"}).json()["resources"] == []


def test_instance_states_while_job_runs(api: Api) -> None:
    space_guid = api.ready_space()
    api.config(job_seconds=3600)
    guid, location = api.create_instance(space_guid)
    inst = api.cf("GET", f"/v3/service_instances/{guid}").json()
    assert inst["last_operation"]["type"] == "create" and inst["last_operation"]["state"] == "initial"
    assert api.cf("GET", location).json()["state"] == "PROCESSING"
    in_progress = api.cf("PATCH", f"/v3/service_instances/{guid}", json={"parameters": {}})
    assert in_progress.status_code == 409
    assert cf_error(in_progress)["code"] == 60016
    assert cf_error(in_progress)["title"] == "CF-AsyncServiceInstanceOperationInProgress"
    key = api.cf("POST", "/v3/service_credential_bindings", json={
        "type": "key", "name": "k", "relationships": {"service_instance": {"data": {"guid": guid}}}})
    assert key.status_code == 422
    assert cf_error(key)["detail"] == "There is an operation in progress for the service instance"
    api.config(job_seconds=0)  # finishes the running job on the next request
    assert api.cf("GET", location).json()["state"] == "COMPLETE"
    assert api.cf("GET", f"/v3/service_instances/{guid}").json()["last_operation"]["state"] == "succeeded"


def test_instance_name_taken_and_permissions(api: Api) -> None:
    space_guid = api.ready_space()
    api.create_instance(space_guid)
    again = api.cf("POST", "/v3/service_instances", json={
        "type": "managed", "name": "cloudalm-api",
        "relationships": {"space": {"data": {"guid": space_guid}},
                          "service_plan": {"data": {"guid": PLAN_GUID}}}})
    assert again.status_code == 422
    assert cf_error(again) == {"detail": "The service instance name is taken: cloudalm-api.",
                               "title": "CF-UnprocessableEntity", "code": 10008}
    other = api.create_space("no-developer")  # the org manager is no space developer here
    r = api.cf("POST", "/v3/service_instances", json={
        "type": "managed", "name": "cloudalm-api",
        "relationships": {"space": {"data": {"guid": other["guid"]}},
                          "service_plan": {"data": {"guid": PLAN_GUID}}}})
    assert r.status_code == 403
    assert cf_error(r)["code"] == 10003 and cf_error(r)["title"] == "CF-NotAuthorized"


def test_instance_update(api: Api) -> None:
    space_guid = api.ready_space()
    guid, _ = api.create_instance(space_guid)
    api.cf("PATCH", f"/v3/service_instances/{guid}", json={"metadata": {"annotations": {"a": "1", "b": "2"}}})
    meta_only = api.cf("PATCH", f"/v3/service_instances/{guid}",
                       json={"metadata": {"annotations": {"a": None, "c": "3"}}})
    assert meta_only.status_code == 200
    assert meta_only.json()["metadata"]["annotations"] == {"b": "2", "c": "3"}
    new_parameters = {"xs-security": {"xsappname": "cloudalm-api", "authorities": []}}
    api.config(job_seconds=3600)
    r = api.cf("PATCH", f"/v3/service_instances/{guid}", json={"parameters": new_parameters})
    assert r.status_code == 202 and r.headers["Location"].startswith(api.url + "/v3/jobs/")
    assert api.cf("GET", r.headers["Location"]).json()["operation"] == "service_instance.update"
    inst = api.cf("GET", f"/v3/service_instances/{guid}").json()
    assert inst["last_operation"]["type"] == "update" and inst["last_operation"]["state"] == "initial"
    params = api.cf("GET", f"/v3/service_instances/{guid}/parameters")
    assert params.status_code == 409
    api.config(job_seconds=0)
    assert api.cf("GET", f"/v3/service_instances/{guid}/parameters").json() == new_parameters
    assert api.cf("GET", f"/v3/service_instances/{guid}").json()["last_operation"]["state"] == "succeeded"


def test_parameters_not_supported_mode(api: Api) -> None:
    space_guid = api.ready_space()
    guid, _ = api.create_instance(space_guid)
    api.config(instances_retrievable=False)
    r = api.cf("GET", f"/v3/service_instances/{guid}/parameters")
    assert r.status_code == 400
    assert cf_error(r) == {"detail": "This service does not support fetching service instance parameters.",
                           "title": "CF-ServiceFetchInstanceParametersNotSupported", "code": 120004}
    [offering] = api.cf("GET", "/v3/service_offerings").json()["resources"]
    assert offering["broker_catalog"]["features"]["instances_retrievable"] is False


def test_broker_failure_fails_the_job(api: Api) -> None:
    space_guid = api.ready_space()
    guid, location = api.create_instance(space_guid, parameters={"xs-security": {"xsappname": "bad name!"}})
    job = api.cf("GET", location).json()
    assert job["state"] == "FAILED"
    [error] = job["errors"]
    assert error["code"] == 10009 and error["title"] == "CF-UnableToPerform"
    assert error["detail"].startswith("create could not be completed: ")
    inst = api.cf("GET", f"/v3/service_instances/{guid}").json()
    assert inst["last_operation"]["state"] == "failed"


def test_instance_delete_removes_keys(api: Api) -> None:
    space_guid = api.ready_space()
    guid, _ = api.create_instance(space_guid)
    key_guid, _ = api.create_key(guid)
    r = api.cf("DELETE", f"/v3/service_instances/{guid}")
    assert r.status_code == 202
    assert api.cf("GET", r.headers["Location"]).json()["operation"] == "service_instance.delete"
    assert api.cf("GET", f"/v3/service_instances/{guid}").status_code == 404
    gone = api.cf("GET", f"/v3/service_credential_bindings/{key_guid}")
    assert gone.status_code == 404 and cf_error(gone)["detail"] == "Service credential binding not found"
    # the lists filtered by parent (read through an index of the simulator) no longer show them either
    listed = api.cf("GET", "/v3/service_instances", params={"space_guids": space_guid}).json()["resources"]
    keys = api.cf("GET", "/v3/service_credential_bindings", params={"service_instance_guids": guid}).json()
    assert listed == [] and keys["resources"] == []
    again, _ = api.create_instance(space_guid, name="cloudalm-api-2")
    listed = api.cf("GET", "/v3/service_instances", params={"space_guids": space_guid}).json()["resources"]
    assert [i["guid"] for i in listed] == [again]


# ---- service keys ---------------------------------------------------------------------------


def test_key_create_details_and_token(api: Api) -> None:
    space_guid = api.ready_space()
    guid, _ = api.create_instance(space_guid)
    api.config(job_seconds=3600)
    key_guid, location = api.create_key(guid, "cloudalm-api-key")
    key = api.cf("GET", f"/v3/service_credential_bindings/{key_guid}").json()
    assert key["type"] == "key" and key["last_operation"]["state"] == "initial"
    pending = api.cf("GET", f"/v3/service_credential_bindings/{key_guid}/details")
    assert pending.status_code == 404 and cf_error(pending)["detail"] == "Creation of service key in progress"
    assert api.cf("GET", location).json()["operation"] == "service_keys.create"
    dup = api.cf("POST", "/v3/service_credential_bindings", json={
        "type": "key", "name": "cloudalm-api-key",
        "relationships": {"service_instance": {"data": {"guid": guid}}}})
    assert dup.status_code == 422
    assert cf_error(dup)["detail"] == ("The binding name is invalid. Key binding names must be unique. The "
                                       "service instance already has a key binding with name "
                                       "'cloudalm-api-key'.")
    api.config(job_seconds=0)
    job = api.cf("GET", location).json()
    assert job["state"] == "COMPLETE"
    assert job["links"]["service_credential_binding"]["href"] == (
        f"{api.url}/v3/service_credential_bindings/{key_guid}")
    details = api.cf("GET", f"/v3/service_credential_bindings/{key_guid}/details").json()
    assert list(details) == ["credentials"]
    creds = details["credentials"]
    uaa = creds["uaa"]
    assert creds["endpoints"]["Api"] == f"{api.url}/alm/acme-cloudalm/api"
    assert uaa["identityzone"] == "acme-cloudalm" and uaa["url"] == f"{api.url}/xsuaa/acme-cloudalm"
    # after XSUAA's cut-off (2026-01-19) a new key of an instance without credential-types is binding-secret
    assert uaa["credential-type"] == "binding-secret" and uaa["tenantmode"] == "dedicated"
    assert uaa["subaccountid"] == SUBACCOUNT_GUID and uaa["serviceInstanceId"] == guid
    # as in real Cloud Controller answers: a key's last_operation.description is null, an instance's ""
    assert api.cf("GET", f"/v3/service_credential_bindings/{key_guid}").json()["last_operation"]["description"] \
        is None
    assert api.cf("GET", f"/v3/service_instances/{guid}").json()["last_operation"]["description"] == ""
    assert uaa["xsappname"].startswith("cloudalm-api!b")
    assert uaa["clientid"] == f"sb-{uaa['xsappname']}" and uaa["xsmasterappname"] == "sapcloudalm!b1"
    r = requests.post(uaa["url"] + "/oauth/token", auth=(uaa["clientid"], uaa["clientsecret"]), timeout=10,
                      data={"grant_type": "client_credentials"})
    assert r.status_code == 200
    claims = jwt.decode(r.json()["access_token"], options={"verify_signature": False})
    assert claims["zid"] == uaa["zoneid"] and claims["ext_attr"]["zdn"] == "acme-cloudalm"
    assert sorted(claims["scope"]) == ["sapcloudalm!b1.imp-cdm-feature-display-ui",
                                       "sapcloudalm!b1.imp-cdm-feature-manage-ui", "uaa.resource"]
    api_call = requests.get(creds["endpoints"]["Api"] + "/calm-projects/v1/projects", timeout=10,
                            headers={"Authorization": f"Bearer {r.json()['access_token']}"})
    assert api_call.status_code == 200
    # the Cloud ALM client is only known in its own zone
    elsewhere = requests.post(f"{api.url}/xsuaa/acme-ga/oauth/token",
                              auth=(uaa["clientid"], uaa["clientsecret"]),
                              data={"grant_type": "client_credentials"}, timeout=10)
    assert elsewhere.status_code == 401


def test_instance_secret_is_shared_and_survives_key_recreation(api: Api) -> None:
    api.config(instance_secret_cutoff="2999-01-01")  # before XSUAA's cut-off: the old Cloud Foundry default
    space_guid = api.ready_space()
    guid, _ = api.create_instance(space_guid)
    first, _ = api.create_key(guid, "k1")
    second, _ = api.create_key(guid, "k2")
    c1 = api.cf("GET", f"/v3/service_credential_bindings/{first}/details").json()["credentials"]["uaa"]
    c2 = api.cf("GET", f"/v3/service_credential_bindings/{second}/details").json()["credentials"]["uaa"]
    assert (c1["clientid"], c1["clientsecret"]) == (c2["clientid"], c2["clientsecret"])
    r = api.cf("DELETE", f"/v3/service_credential_bindings/{first}")
    assert r.status_code == 202
    assert api.cf("GET", r.headers["Location"]).json()["operation"] == "service_keys.delete"
    third, _ = api.create_key(guid, "k1")
    c3 = api.cf("GET", f"/v3/service_credential_bindings/{third}/details").json()["credentials"]["uaa"]
    assert c3["clientsecret"] == c1["clientsecret"] and c3["credential-type"] == "instance-secret"
    # valid while the instance exists, also with no key left (XSUAA "Service Instance Secrets")
    for key in (second, third):
        api.cf("DELETE", f"/v3/service_credential_bindings/{key}")
    assert requests.post(c1["url"] + "/oauth/token", auth=(c1["clientid"], c1["clientsecret"]), timeout=10,
                         data={"grant_type": "client_credentials"}).status_code == 200
    # after the cut-off a new instance-secret key is refused, and a key of an instance without credential-types is
    # binding-secret
    api.config(instance_secret_cutoff="2026-01-19")
    _, refused = api.create_key(guid, "k4", parameters={"credential-type": "instance-secret"})
    job = api.cf("GET", refused).json()
    assert job["state"] == "FAILED" and "instance-secret credential type isn't supported" in job["errors"][0]["detail"]
    fourth, _ = api.create_key(guid, "k5")
    c4 = api.cf("GET", f"/v3/service_credential_bindings/{fourth}/details").json()["credentials"]["uaa"]
    assert c4["credential-type"] == "binding-secret" and c4["clientsecret"] != c1["clientsecret"]


def test_binding_secret_keys_have_their_own_secret(api: Api) -> None:
    space_guid = api.ready_space()
    parameters = {"xs-security": {**ALM_PARAMETERS["xs-security"],
                                  "oauth2-configuration": {"credential-types": ["binding-secret"]}}}
    guid, _ = api.create_instance(space_guid, parameters=parameters)
    k1, _ = api.create_key(guid, "k1")
    k2, _ = api.create_key(guid, "k2")
    c1 = api.cf("GET", f"/v3/service_credential_bindings/{k1}/details").json()["credentials"]["uaa"]
    c2 = api.cf("GET", f"/v3/service_credential_bindings/{k2}/details").json()["credentials"]["uaa"]
    assert c1["credential-type"] == c2["credential-type"] == "binding-secret"
    assert c1["clientid"] == c2["clientid"] and c1["clientsecret"] != c2["clientsecret"]
    for c in (c1, c2):
        r = requests.post(c["url"] + "/oauth/token", auth=(c["clientid"], c["clientsecret"]), timeout=10,
                          data={"grant_type": "client_credentials"})
        assert r.status_code == 200


def test_key_list_filters(api: Api) -> None:
    space_guid = api.ready_space()
    guid, _ = api.create_instance(space_guid)
    key_guid, _ = api.create_key(guid, "cloudalm-api-key")
    params = {"service_instance_guids": guid, "type": "key", "names": "cloudalm-api-key", "per_page": 1}
    [key] = api.cf("GET", "/v3/service_credential_bindings", params=params).json()["resources"]
    assert key["guid"] == key_guid
    assert key["relationships"]["service_instance"]["data"]["guid"] == guid
    assert api.cf("GET", "/v3/service_credential_bindings", params={"type": "app"}).json()["resources"] == []


def test_unknown_job_and_unknown_route(api: Api) -> None:
    r = api.cf("GET", "/v3/jobs/00000000-0000-0000-0000-000000000000")
    assert r.status_code == 404 and cf_error(r) == {"detail": "Job not found", "title": "CF-ResourceNotFound",
                                                    "code": 10010}
    assert api.cf("GET", "/v3/apps").status_code == 404
