"""Helpers for the simulator's own tests: the default landscape's identifiers and an HTTP client `Api`."""

from __future__ import annotations

from typing import Any

import requests

from provisioner.sim import Simulator

ORG_GUID = "4d5a845b-8ed7-443f-be2b-64a8dc95b2fd"
SUBACCOUNT_GUID = "4c493a34-7e8f-4587-87f3-bb54f4a19389"
PLAN_GUID = "a474c0d0-69aa-4deb-87cb-725dfd8a7fc0"
USER_GUID = "42443e88-1fde-44d1-b3ce-9fa3c85d39e2"
ALM_PARAMETERS = {"xs-security": {"xsappname": "cloudalm-api", "authorities": [
    "$XSMASTERAPPNAME.imp-cdm-feature-display-ui", "$XSMASTERAPPNAME.imp-cdm-feature-manage-ui"]}}

# The era tenants of the default landscape (docs/simulator.md, "Default landscape").
ERA_TENANTS = {
    "globex-cloudalm": {"subaccount": "2ec4dc02-36a7-4541-ab83-dd839530c369",
                        "org": "f1be998b-4f40-46d0-8109-45c82eda6330",
                        "space": "7f9b8038-6c9c-46a8-b40c-8e192ed56af7",
                        "instance": "5885a2f5-738e-44b4-be29-43ff5d58dffa", "instance_name": "cloudalm-monitoring",
                        "key": "7d2f7acf-6c23-4cbd-b598-15f5ac92a38c", "key_name": "cloudalm-monitoring-key",
                        "provisioned": "2023-08-01"},
}
# initech-cloudalm: no CF org; SAP generated a Service Manager instance and binding (docs/simulator.md).
INITECH = {"subaccount": "25a8e825-2a07-4722-b954-6b2bbfccb150", "subdomain": "initech-cloudalm",
           "instance": "0b3c1a8e-6f2d-4c7e-9a15-3d8e2f4b6c71", "instance_name": "SAP Cloud ALM API",
           "binding": "7e41d2c9-58a0-4b3f-8d6e-1c9a2b7f4e05", "binding_name": "binding-key-7e41d2c9",
           "per_system": "3f9a6b12-0c4d-4e8a-b5f7-9d2e1a6c8b34", "per_system_name": "S4H_100_00",
           "provisioned": "2023-11-20"}


class FakeClock:
    """A clock for `Simulator(clock=...)`: time passes only through `advance()` and `sleep()` (which records)."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds

    def advance(self, seconds: float) -> None:
        self.now += seconds


class Api:
    """HTTP helpers around one running simulator."""

    def __init__(self, sim: Simulator) -> None:
        self.sim = sim
        self.url = sim.url
        self.info = sim.info()
        self.cf_token = self.password_token(self.info["cf_username"], self.info["cf_password"])
        self._cis_token: str | None = None

    # -- tokens ----------------------------------------------------------------------------------

    def password_token(self, username: str, password: str) -> str:
        r = requests.post(f"{self.url}/uaa/oauth/token", auth=("cf", ""), timeout=10,
                          data={"grant_type": "password", "username": username, "password": password})
        assert r.status_code == 200, r.text
        return r.json()["access_token"]

    @property
    def cis_token(self) -> str:
        if self._cis_token is None:
            uaa = self.info["cis_key"]["uaa"]
            r = requests.post(f"{uaa['url']}/oauth/token", data={"grant_type": "client_credentials"},
                              auth=(uaa["clientid"], uaa["clientsecret"]), timeout=10)
            assert r.status_code == 200, r.text
            self._cis_token = r.json()["access_token"]
        return self._cis_token

    # -- requests --------------------------------------------------------------------------------

    def cf(self, method: str, path: str, token: str | None = None, **kwargs: Any) -> requests.Response:
        headers = {"Authorization": f"bearer {token or self.cf_token}"}
        url = path if path.startswith("http") else self.url + path
        return requests.request(method, url, headers=headers, timeout=10, **kwargs)

    def btp(self, method: str, service: str, path: str, **kwargs: Any) -> requests.Response:
        base = self.info["cis_key"]["endpoints"][f"{service}_service_url"]
        return requests.request(method, base + path, headers={"Authorization": f"Bearer {self.cis_token}"},
                                timeout=10, **kwargs)

    def config(self, **settings: Any) -> dict[str, Any]:
        r = requests.patch(f"{self.url}/_sim/config", json=settings, timeout=10)
        assert r.status_code == 200, r.text
        return r.json()

    def faults(self, **settings: Any) -> dict[str, Any]:
        """PATCH /_sim/faults (a JSON merge patch); the faults object after the change."""
        r = requests.patch(f"{self.url}/_sim/faults", json=settings, timeout=10)
        assert r.status_code == 200, r.text
        return r.json()

    def journal(self) -> list[dict[str, Any]]:
        return requests.get(f"{self.url}/_sim/requests", timeout=10).json()

    # -- scenario steps --------------------------------------------------------------------------

    def create_space(self, name: str = "cloudalm") -> dict[str, Any]:
        r = self.cf("POST", "/v3/spaces", json={
            "name": name, "relationships": {"organization": {"data": {"guid": ORG_GUID}}}})
        assert r.status_code == 201, r.text
        return r.json()

    def make_developer(self, space_guid: str) -> None:
        r = self.cf("POST", "/v3/roles", json={"type": "space_developer", "relationships": {
            "user": {"data": {"username": "admin@example.com"}}, "space": {"data": {"guid": space_guid}}}})
        assert r.status_code == 201, r.text

    def entitle(self, amount: int = 1) -> None:
        r = self.btp("PUT", "entitlements", "/entitlements/v1/subaccountServicePlans", json={
            "subaccountServicePlans": [{"serviceName": "SAPCloudALMAPIs", "servicePlanName": "standard",
                                        "assignmentInfo": [{"subaccountGUID": SUBACCOUNT_GUID,
                                                            "amount": amount}]}]})
        assert r.status_code == 202, r.text

    def create_instance(self, space_guid: str, name: str = "cloudalm-api",
                        parameters: dict[str, Any] | None = None) -> tuple[str, str]:
        """(instance guid, job URL)."""
        r = self.cf("POST", "/v3/service_instances", json={
            "type": "managed", "name": name, "parameters": parameters or ALM_PARAMETERS,
            "relationships": {"space": {"data": {"guid": space_guid}},
                              "service_plan": {"data": {"guid": PLAN_GUID}}}})
        assert r.status_code == 202, r.text
        found = self.cf("GET", "/v3/service_instances", params={"names": name, "space_guids": space_guid})
        return found.json()["resources"][0]["guid"], r.headers["Location"]

    def create_key(self, instance_guid: str, name: str = "key-1",
                   parameters: dict[str, Any] | None = None) -> tuple[str, str]:
        """(key guid, job URL)."""
        r = self.cf("POST", "/v3/service_credential_bindings", json={
            "type": "key", "name": name, **({"parameters": parameters} if parameters else {}),
            "relationships": {"service_instance": {"data": {"guid": instance_guid}}}})
        assert r.status_code == 202, r.text
        found = self.cf("GET", "/v3/service_credential_bindings",
                        params={"names": name, "service_instance_guids": instance_guid})
        return found.json()["resources"][0]["guid"], r.headers["Location"]

    def ready_space(self) -> str:
        """A space where admin@example.com is a space developer, with the plan entitled."""
        space = self.create_space()
        self.make_developer(space["guid"])
        self.entitle()
        return space["guid"]


def cf_error(response: requests.Response) -> dict[str, Any]:
    """The single error of a CF v3 error envelope."""
    body = response.json()
    assert list(body) == ["errors"] and len(body["errors"]) == 1, body
    return body["errors"][0]


class Sm:
    """A Service Manager client of one subaccount, signed in with a new Accounts v2 `serviceManagerBinding`."""

    def __init__(self, api: Api, subaccount: str, name: str = "tests") -> None:
        r = api.btp("POST", "accounts", f"/accounts/v2/subaccounts/{subaccount}/serviceManagerBindings",
                    json={"name": name})
        assert r.status_code == 201, r.text
        self.api = api
        self.binding: dict[str, Any] = r.json()
        self.url = self.binding["sm_url"]
        self.token = client_token(self.binding["url"], self.binding["clientid"], self.binding["clientsecret"])

    def __call__(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        url = path if path.startswith("http") else self.url + path
        return requests.request(method, url, headers={"Authorization": f"Bearer {self.token}"}, timeout=10,
                                **kwargs)

    def plan_id(self) -> str:
        """The Service Manager id of SAPCloudALMAPIs/standard, looked up as SAP's clients do."""
        [offering] = self("GET", "/v1/service_offerings",
                          params={"fieldQuery": "catalog_name eq 'SAPCloudALMAPIs'"}).json()["items"]
        [plan] = self("GET", "/v1/service_plans", params={
            "fieldQuery": f"catalog_name eq 'standard' and service_offering_id eq '{offering['id']}'"}).json()["items"]
        return str(plan["id"])


def client_token_response(url: str, clientid: str, clientsecret: str) -> requests.Response:
    """`POST {url}/oauth/token` with the client credentials grant."""
    return requests.post(f"{url}/oauth/token", data={"grant_type": "client_credentials"},
                         auth=(clientid, clientsecret), timeout=10)


def client_token(url: str, clientid: str, clientsecret: str) -> str:
    r = client_token_response(url, clientid, clientsecret)
    assert r.status_code == 200, r.text
    return str(r.json()["access_token"])
