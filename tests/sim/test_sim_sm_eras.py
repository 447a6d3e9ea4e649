"""Simulator: the eras through Service Manager. initech-cloudalm (2023-11-20) has no Cloud Foundry org; SAP's
generated credentials are a subaccount-level instance "SAP Cloud ALM API" with a binding-key binding and a
per-system binding S4H_100_00. globex-cloudalm's generated monitoring instance lives in Cloud Foundry and shows in
Service Manager with the platform cloudfoundry."""

from __future__ import annotations

from .sim_testkit import ERA_TENANTS, INITECH, Api, Sm, client_token_response

PARAMETERS = {"xs-security": {
    "xsappname": INITECH["instance"],
    "authorities": ["$XSMASTERAPPNAME.imp-cdm-feature-display-ui", "$XSMASTERAPPNAME.imp-cdm-feature-manage-ui"],
    "oauth2-configuration": {"credential-types": ["binding-secret"]}}}


def test_initech_has_no_cf_org(api: Api) -> None:
    orgs = api.cf("GET", "/v3/organizations", params={"names": "initech-cloudalm"}).json()["resources"]
    assert orgs == []


def test_initech_generated_instance_and_bindings(api: Api) -> None:
    sm = Sm(api, INITECH["subaccount"])
    found = sm("GET", "/v1/service_instances", params={"fieldQuery": f"service_plan_id eq '{sm.plan_id()}'"})
    [inst] = found.json()["items"]
    assert (inst["id"], inst["name"]) == (INITECH["instance"], INITECH["instance_name"])
    assert inst["platform_id"] == "service-manager" and inst["context"]["platform"] == "sapcp"
    assert inst["context"]["subdomain"] == INITECH["subdomain"] and inst["context"]["region"] == "cf-eu10"
    assert inst["created_at"].startswith(INITECH["provisioned"]) and "created_by" not in inst
    assert inst["labels"] == {"subaccount_id": [INITECH["subaccount"]]}  # nothing marks it as generated
    assert sm("GET", f"/v1/service_instances/{inst['id']}/parameters").json() == PARAMETERS

    listed = sm("GET", "/v1/service_bindings", params={"fieldQuery": f"service_instance_id eq '{inst['id']}'"})
    bindings = {b["name"]: b for b in listed.json()["items"]}
    assert set(bindings) == {INITECH["binding_name"], INITECH["per_system_name"]}
    assert bindings[INITECH["binding_name"]]["id"] == INITECH["binding"]
    secrets = set()
    for b in bindings.values():
        uaa = b["credentials"]["uaa"]
        assert uaa["credential-type"] == "binding-secret" and uaa["identityzone"] == INITECH["subdomain"]
        assert uaa["xsappname"].startswith(INITECH["instance"] + "!b")
        token = client_token_response(uaa["url"], uaa["clientid"], uaa["clientsecret"])
        assert token.status_code == 200
        assert "sap-cloud-alm!b1.imp-cdm-feature-manage-ui" in token.json()["scope"]
        secrets.add(uaa["clientsecret"])
    assert len(secrets) == 2  # each binding its own secret


def test_globex_monitoring_instance_shows_in_service_manager_as_cloud_foundry(api: Api) -> None:
    t = ERA_TENANTS["globex-cloudalm"]
    sm = Sm(api, t["subaccount"])
    [inst] = sm("GET", "/v1/service_instances").json()["items"]
    assert (inst["id"], inst["name"]) == (t["instance"], t["instance_name"])
    assert inst["context"]["platform"] == "cloudfoundry" and inst["context"]["space_guid"] == t["space"]
    [key] = sm("GET", "/v1/service_bindings").json()["items"]
    assert (key["id"], key["name"]) == (t["key"], t["key_name"])
