"""Simulator: the default landscape's tenants of the three provisioning eras (acme, globex, initech; initech's
Service Manager credentials are tested in test_sim_sm_eras.py)."""

from __future__ import annotations

import pytest
import requests

from .sim_testkit import ALM_PARAMETERS, ERA_TENANTS, ORG_GUID, PLAN_GUID, SUBACCOUNT_GUID, USER_GUID, Api

SCOPES = {"sap-cloud-alm!b1.imp-cdm-feature-display-ui", "sap-cloud-alm!b1.imp-cdm-feature-manage-ui",
          "uaa.resource"}


def _assignments(api: Api, subaccount: str) -> list[dict]:
    body = api.btp("GET", "entitlements", "/entitlements/v1/assignments", params={"subaccountGUID": subaccount})
    return [i for s in body.json()["assignedServices"] for p in s["servicePlans"] for i in p["assignmentInfo"]]


def test_admin_sees_the_two_orgs_with_manager_roles(api: Api) -> None:
    orgs = api.cf("GET", "/v3/organizations").json()["resources"]
    assert [(o["name"], o["guid"]) for o in orgs] == [
        ("acme-cloudalm", ORG_GUID), ("globex-cloudalm", ERA_TENANTS["globex-cloudalm"]["org"])]
    for org in orgs:
        roles = api.cf("GET", "/v3/roles", params={"organization_guids": org["guid"], "user_guids": USER_GUID})
        assert {r["type"] for r in roles.json()["resources"]} == {"organization_user", "organization_manager"}


def test_acme_is_unchanged_nothing_exists(api: Api) -> None:
    assert api.cf("GET", "/v3/spaces", params={"organization_guids": ORG_GUID}).json()["resources"] == []
    assert _assignments(api, SUBACCOUNT_GUID) == []
    plans = api.cf("GET", "/v3/service_plans", params={"organization_guids": ORG_GUID}).json()["resources"]
    assert plans == []


@pytest.mark.parametrize("subdomain", sorted(ERA_TENANTS))
def test_era_tenant_resources(api: Api, subdomain: str) -> None:
    t = ERA_TENANTS[subdomain]
    [info] = _assignments(api, t["subaccount"])
    assert info["entityState"] == "OK" and info["amount"] == 1
    [space] = api.cf("GET", "/v3/spaces", params={"organization_guids": t["org"]}).json()["resources"]
    assert (space["guid"], space["name"]) == (t["space"], "cloudalm")
    developers = api.cf("GET", "/v3/roles", params={"types": "space_developer", "space_guids": t["space"]})
    assert [r["relationships"]["user"]["data"]["guid"] for r in developers.json()["resources"]] == [USER_GUID]
    plans = api.cf("GET", "/v3/service_plans", params={"space_guids": t["space"]}).json()["resources"]
    assert [p["guid"] for p in plans] == [PLAN_GUID]
    [inst] = api.cf("GET", "/v3/service_instances", params={"space_guids": t["space"]}).json()["resources"]
    assert (inst["guid"], inst["name"]) == (t["instance"], t["instance_name"])
    assert inst["last_operation"]["state"] == "succeeded"
    expected = {"xs-security": {**ALM_PARAMETERS["xs-security"], "xsappname": t["instance_name"]}}
    assert api.cf("GET", f"/v3/service_instances/{t['instance']}/parameters").json() == expected
    [key] = api.cf("GET", "/v3/service_credential_bindings",
                   params={"service_instance_guids": t["instance"]}).json()["resources"]
    assert (key["guid"], key["name"]) == (t["key"], t["key_name"])


@pytest.mark.parametrize("subdomain", sorted(ERA_TENANTS))
def test_era_tenant_key_signs_in_with_the_scopes(api: Api, subdomain: str) -> None:
    t = ERA_TENANTS[subdomain]
    creds = api.cf("GET", f"/v3/service_credential_bindings/{t['key']}/details").json()["credentials"]
    uaa = creds["uaa"]
    assert uaa["identityzone"] == subdomain and uaa["identityzoneid"] == t["subaccount"]
    assert uaa["credential-type"] == "instance-secret"
    assert uaa["xsappname"].startswith(t["instance_name"] + "!b")
    assert uaa["clientid"] == f"sb-{uaa['xsappname']}|sap-cloud-alm!b1"
    assert uaa["url"] == f"{api.url}/xsuaa/{subdomain}"
    r = requests.post(uaa["url"] + "/oauth/token", data={"grant_type": "client_credentials"},
                      auth=(uaa["clientid"], uaa["clientsecret"]), timeout=10)
    assert r.status_code == 200
    assert set(r.json()["scope"].split()) == SCOPES
    alm = requests.get(creds["endpoints"]["Api"], headers={"Authorization": f"Bearer {r.json()['access_token']}"},
                       timeout=10)
    assert alm.status_code == 200 and alm.json()["tenant"] == subdomain
    other_zone = requests.post(f"{api.url}/xsuaa/acme-cloudalm/oauth/token", data={"grant_type": "client_credentials"},
                               auth=(uaa["clientid"], uaa["clientsecret"]), timeout=10)
    assert other_zone.status_code == 401


def test_provisioning_dates_are_informational(api: Api) -> None:
    dump = requests.get(api.url + "/_sim/state", timeout=10).json()
    assert {s["subdomain"]: s["provisioned"] for s in dump["subaccounts"]} == {
        "acme-cloudalm": "2023-03-01", "globex-cloudalm": "2023-08-01", "initech-cloudalm": "2023-11-20"}
    subs = api.btp("GET", "accounts", "/accounts/v1/subaccounts").json()["value"]
    assert "2023-08-01" not in str(subs)
