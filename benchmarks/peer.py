"""The peer of `make bench`: one Cloud ALM tenant onboarded the way a Python user would script it without this tool.

CF through the `cloudfoundry-client` library (PyPI ``cloudfoundry-client``, its ``v3`` attribute; the client's own
authenticated ``get``/``post``/``patch`` where the library has no method or drops a field: roles with their
users, role creation, instance creation and parameters),
the BTP entitlement with plain ``requests``, one step after the other, every wait polled every 0.1 s. It converges
like a careful script does (read, then write only what is missing or drifted), so the same code is the fresh run
and the converged re-run:

1. CF sign-in (``GET /`` for the UAA, password grant) - org by name - space by name (create if missing) - the
   user's Space Developer role (grant if missing);
2. BTP sign-in with the ``cis`` key (client credentials) - subaccount by subdomain - the plan's assignment
   (``PUT /entitlements/v1/subaccountServicePlans``, ``enable`` or ``amount`` by the plan's category, when not
   assigned; poll the job until ``COMPLETED``);
3. the plan (visible in the space) - the instance by name (create if missing, poll its job) - its parameters
   (patch back when they differ, poll) - the key by name (create if missing, poll) - the key's ``/details``;
4. the key's JSON written to ``key_file`` (mode 0600), then a sign-in with it (client credentials at its
   ``uaa.url``) whose token must carry the required scopes.

Errors: any HTTP error status raises (``cloudfoundry_client`` raises ``InvalidStatusCode``; ``requests`` raises
``HTTPError``); a job that fails or does not end within ``timeout`` seconds raises ``PeerError``.
"""

from __future__ import annotations

import base64
import copy
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
from cloudfoundry_client.client import CloudFoundryClient

POLL_SECONDS = 0.1
REQUIRED_SCOPE_SUFFIXES = ("imp-cdm-feature-display-ui", "imp-cdm-feature-manage-ui")
ENABLE_CATEGORIES = ("ELASTIC_SERVICE", "ELASTIC_LIMITED", "APPLICATION")
CLOUD_ALM_PARAMETERS: dict[str, Any] = {"xs-security": {  # SAP's guide, for an instance named cloudalm-api
    "xsappname": "cloudalm-api",
    "authorities": ["$XSMASTERAPPNAME.imp-cdm-feature-display-ui", "$XSMASTERAPPNAME.imp-cdm-feature-manage-ui"],
    "oauth2-configuration": {"credential-types": ["binding-secret"]}}}  # binding secrets, as XSUAA issues since 2026


class PeerError(RuntimeError):
    """A job failed, a wait timed out or a check of the result failed (the message names which; no secret)."""


@dataclass
class PeerConfig:
    """What the peer onboards: the same inputs as the benchmark's playbook (``cis_key`` is the Cloud Management
    key's JSON as a dict; ``parameters`` the instance's ``xs-security`` parameters)."""

    cf_api: str
    username: str
    password: str
    cis_key: dict[str, Any]
    org: str
    subaccount: str  # subdomain
    key_file: Path
    space: str = "cloudalm"
    offering: str = "SAPCloudALMAPIs"
    plan: str = "standard"
    instance: str = "cloudalm-api"
    key: str = "cloudalm-api-key"
    parameters: dict[str, Any] = field(default_factory=lambda: copy.deepcopy(CLOUD_ALM_PARAMETERS))
    timeout: float = 600.0  # seconds, per wait


@dataclass
class PeerResult:
    """What the peer did: ``writes`` the names of the writes it made (empty on a converged tenant)."""

    writes: list[str] = field(default_factory=list)
    scopes: list[str] = field(default_factory=list)


def poll(read: Callable[[], str], done: str, failed: str, what: str, timeout: float) -> None:
    """Call ``read`` every 0.1 s until it returns ``done``; raise PeerError on ``failed`` or after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while True:
        state = read()
        if state == done:
            return
        if state == failed:
            raise PeerError(f"{what} failed")
        if time.monotonic() > deadline:
            raise PeerError(f"{what} still {state} after {timeout:g} s")
        time.sleep(POLL_SECONDS)


def wait_cf_job(cf: CloudFoundryClient, location: str, what: str, timeout: float) -> None:
    """Poll a CF v3 job (``GET /v3/jobs/:guid``, the ``Location`` of a 202) until ``COMPLETE``."""
    guid = location.rstrip("/").rsplit("/", 1)[-1]
    poll(lambda: str(cf.v3.jobs.get(guid)["state"]), "COMPLETE", "FAILED", what, timeout)


def ensure_space(cf: CloudFoundryClient, cfg: PeerConfig, result: PeerResult) -> str:
    """Org and space by name (``GET /v3/organizations``, ``/v3/spaces``); create the space and grant the user
    Space Developer when missing (``POST /v3/spaces``, ``POST /v3/roles``). Returns the space guid."""
    org = cf.v3.organizations.get_first(names=cfg.org)
    if org is None:
        raise PeerError(f"org {cfg.org} not found")
    space = cf.v3.spaces.get_first(names=cfg.space, organization_guids=org["guid"])
    if space is None:
        space = cf.v3.spaces.create(cfg.space, org["guid"])
        result.writes.append("space")
    developers = cf.get(f"{cf.info.api_v3_url}/roles", params={
        "space_guids": space["guid"], "types": "space_developer", "include": "user"}).json()
    usernames = {user.get("username") for user in developers.get("included", {}).get("users", [])}
    if cfg.username not in usernames:
        cf.post(f"{cf.info.api_v3_url}/roles", json={
            "type": "space_developer",
            "relationships": {"space": {"data": {"guid": space["guid"]}},
                              "user": {"data": {"username": cfg.username}}}})
        result.writes.append("role")
    return str(space["guid"])


def ensure_entitlement(cfg: PeerConfig, result: PeerResult) -> None:
    """Assign the plan to the subaccount when it is not (BTP Entitlements service), then wait for the job."""
    uaa = cfg.cis_key["uaa"]
    token = requests.post(f"{uaa['url']}/oauth/token", data={"grant_type": "client_credentials"},
                          auth=(uaa["clientid"], uaa["clientsecret"]), timeout=30)
    token.raise_for_status()
    btp = requests.Session()
    btp.headers["Authorization"] = f"Bearer {token.json()['access_token']}"
    accounts = cfg.cis_key["endpoints"]["accounts_service_url"]
    entitlements = cfg.cis_key["endpoints"]["entitlements_service_url"]
    subs = btp.get(f"{accounts}/accounts/v1/subaccounts", timeout=30)
    subs.raise_for_status()
    matches = [s for s in subs.json().get("value", []) if s.get("subdomain") == cfg.subaccount]
    if not matches:
        raise PeerError(f"subaccount {cfg.subaccount} not found")
    sub_guid = matches[0]["guid"]
    read = btp.get(f"{entitlements}/entitlements/v1/assignments", timeout=30, params={
        "subaccountGUID": sub_guid, "serviceName": cfg.offering, "planName": cfg.plan})
    read.raise_for_status()
    body = read.json()
    for service in body.get("assignedServices", []):
        for plan in service.get("servicePlans", []):
            if plan.get("name") == cfg.plan and any(a.get("entityId") == sub_guid and a.get("entityState") == "OK"
                                                    for a in plan.get("assignmentInfo", [])):
                return
    category = next((p.get("category") for s in body.get("entitledServices", []) if s.get("name") == cfg.offering
                     for p in s.get("servicePlans", []) if p.get("name") == cfg.plan), None)
    info: dict[str, Any] = {"subaccountGUID": sub_guid}
    info.update({"enable": True} if category in ENABLE_CATEGORIES else {"amount": 1})
    put = btp.put(f"{entitlements}/entitlements/v1/subaccountServicePlans", timeout=30, json={
        "subaccountServicePlans": [{"serviceName": cfg.offering, "servicePlanName": cfg.plan,
                                    "assignmentInfo": [info]}]})
    put.raise_for_status()
    result.writes.append("entitlement")
    job_url = entitlements + put.headers["Location"]

    def job_state() -> str:
        response = btp.get(job_url, timeout=30)
        response.raise_for_status()
        return str(response.json()["status"])

    poll(job_state, "COMPLETED", "FAILED", "entitlement job", cfg.timeout)


def ensure_instance(cf: CloudFoundryClient, cfg: PeerConfig, space_guid: str, result: PeerResult) -> str:
    """The plan visible in the space, the instance by name (create if missing), its parameters (patch back when
    they differ); each change waited for. Returns the instance guid."""
    plan = cf.v3.service_plans.get_first(names=cfg.plan, service_offering_names=cfg.offering, space_guids=space_guid)
    if plan is None:
        raise PeerError(f"plan {cfg.offering}/{cfg.plan} not visible in space {cfg.space}")
    instance = cf.v3.service_instances.get_first(names=cfg.instance, space_guids=space_guid)
    if instance is None:
        response = cf.post(f"{cf.info.api_v3_url}/service_instances", json={
            "type": "managed", "name": cfg.instance, "parameters": cfg.parameters,
            "relationships": {"space": {"data": {"guid": space_guid}},
                              "service_plan": {"data": {"guid": plan["guid"]}}}})
        result.writes.append("instance")
        wait_cf_job(cf, response.headers["Location"], "instance creation", cfg.timeout)
        instance = cf.v3.service_instances.get_first(names=cfg.instance, space_guids=space_guid)
        if instance is None:
            raise PeerError(f"instance {cfg.instance} not found after its creation")
        return str(instance["guid"])
    current = cf.get(f"{cf.info.api_v3_url}/service_instances/{instance['guid']}/parameters").json()
    if current != cfg.parameters:
        response = cf.patch(f"{cf.info.api_v3_url}/service_instances/{instance['guid']}",
                            json={"parameters": cfg.parameters})
        result.writes.append("parameters")
        if "Location" in response.headers:
            wait_cf_job(cf, response.headers["Location"], "instance update", cfg.timeout)
    return str(instance["guid"])


def ensure_key(cf: CloudFoundryClient, cfg: PeerConfig, instance_guid: str, result: PeerResult) -> dict[str, Any]:
    """The key by name (create if missing and wait), then its credentials (``GET .../details``)."""
    key = cf.v3.service_credential_bindings.get_first(names=cfg.key, service_instance_guids=instance_guid,
                                                      type="key")
    if key is None:
        job = cf.v3.service_credential_bindings.create(cfg.key, "key", instance_guid, None, None, None, None)
        result.writes.append("key")
        wait_cf_job(cf, str(job), "key creation", cfg.timeout)
        key = cf.v3.service_credential_bindings.get_first(names=cfg.key, service_instance_guids=instance_guid,
                                                          type="key")
        if key is None:
            raise PeerError(f"key {cfg.key} not found after its creation")
    details = cf.v3.service_credential_bindings.get(key["guid"], "details")
    return dict(details["credentials"])


def write_key(path: Path, credentials: dict[str, Any]) -> None:
    """Write the key's JSON with mode 0600 (replacing the file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(credentials, f, indent=2)
    os.replace(tmp, path)


def sign_in_with_key(path: Path) -> list[str]:
    """Sign in with the key file (client credentials at ``uaa.url``/oauth/token); return the token's scopes.
    Raises PeerError when a required ``imp-cdm-feature-*`` scope is missing."""
    uaa = json.loads(path.read_text())["uaa"]
    response = requests.post(f"{uaa['url']}/oauth/token", data={"grant_type": "client_credentials"},
                             auth=(uaa["clientid"], uaa["clientsecret"]), timeout=30)
    response.raise_for_status()
    payload = response.json()["access_token"].split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    scopes = [str(s) for s in claims.get("scope", [])]
    missing = [s for s in REQUIRED_SCOPE_SUFFIXES if not any(x.endswith("." + s) for x in scopes)]
    if missing:
        raise PeerError(f"the key's token lacks the scopes {missing}")
    return scopes


def run(cfg: PeerConfig) -> PeerResult:
    """Onboard (or re-check) one tenant; see the module docstring for the order of the calls."""
    result = PeerResult()
    cf = CloudFoundryClient(cfg.cf_api)
    cf.init_with_user_credentials(cfg.username, cfg.password)
    space_guid = ensure_space(cf, cfg, result)
    ensure_entitlement(cfg, result)
    instance_guid = ensure_instance(cf, cfg, space_guid, result)
    credentials = ensure_key(cf, cfg, instance_guid, result)
    write_key(cfg.key_file, credentials)
    result.scopes = sign_in_with_key(cfg.key_file)
    return result
