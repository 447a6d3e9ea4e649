"""Simulator: journal and admin endpoints, landscape files, Simulator.info(), and the `serve` command."""

from __future__ import annotations

import os
import re
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
import yaml

from provisioner.sim import Simulator
from provisioner.sim.landscape import DEFAULT_LANDSCAPE, LandscapeError

from .sim_testkit import ALM_PARAMETERS, ORG_GUID, Api

ROOT = Path(__file__).resolve().parents[2]


def test_journal(api: Api) -> None:
    requests.delete(api.url + "/_sim/requests", timeout=10)
    api.cf("GET", "/v3/organizations", params={"names": "acme-cloudalm"})
    requests.get(api.url + "/v3/organizations", timeout=10)  # 401
    requests.get(api.url + "/_sim/state", timeout=10)  # admin requests are not journalled
    journal = requests.get(api.url + "/_sim/requests", timeout=10).json()
    keys = ("method", "path", "query", "status", "fault", "jobs")
    assert [{k: e[k] for k in keys} for e in journal] == [
        {"method": "GET", "path": "/v3/organizations", "query": "names=acme-cloudalm", "status": 200, "fault": None,
         "jobs": []},
        {"method": "GET", "path": "/v3/organizations", "query": "", "status": 401, "fault": None, "jobs": []},
    ]
    # when each reached the simulator, was handled (its latency slept) and answered: seconds on its clock
    assert all(e["received"] <= e["handled"] <= e["answered"] for e in journal)
    assert journal[0]["answered"] <= journal[1]["received"]
    assert requests.delete(api.url + "/_sim/requests", timeout=10).status_code == 204
    assert requests.get(api.url + "/_sim/requests", timeout=10).json() == []


def test_config(api: Api) -> None:
    config = requests.get(api.url + "/_sim/config", timeout=10).json()
    assert config == {"job_seconds": 0.0, "token_seconds": 1199, "instances_retrievable": True,
                      "central_reads_environments": True, "instance_secret_cutoff": "2026-01-19",
                      "x509_backdate_days": 0}
    bad_day = requests.patch(api.url + "/_sim/config", json={"instance_secret_cutoff": "19.01.2026"}, timeout=10)
    assert bad_day.status_code == 400
    assert api.config(job_seconds=0.5, token_seconds=60)["job_seconds"] == 0.5
    bad = requests.patch(api.url + "/_sim/config", json={"job_seconds": -1}, timeout=10)
    assert bad.status_code == 400
    unknown = requests.patch(api.url + "/_sim/config", json={"nope": 1}, timeout=10)
    assert unknown.status_code == 400


def test_state_dump_has_no_secrets(api: Api) -> None:
    space_guid = api.ready_space()
    guid, _ = api.create_instance(space_guid)
    key_guid, _ = api.create_key(guid)
    details = api.cf("GET", f"/v3/service_credential_bindings/{key_guid}/details").json()
    dump = requests.get(api.url + "/_sim/state", timeout=10).json()
    assert [s["guid"] for s in dump["spaces"] if s["org_guid"] == ORG_GUID] == [space_guid]
    [inst] = [i for i in dump["service_instances"] if i["guid"] == guid]
    assert inst["parameters"] == ALM_PARAMETERS
    [key] = [k for k in dump["service_keys"] if k["guid"] == key_guid]
    assert key["last_operation"]["state"] == "succeeded" and key["has_credentials"]
    assert {a["entity_state"] for a in dump["assignments"]} == {"OK"}
    assert [s["provisioned"] for s in dump["subaccounts"]] == ["2023-03-01", "2023-08-01", "2023-11-20"]
    assert details["credentials"]["uaa"]["clientsecret"] not in str(dump)
    assert api.info["cis_key"]["uaa"]["clientsecret"] not in str(dump)


def test_info(sim: Simulator) -> None:
    info = sim.info()
    assert info["url"] == info["cf_api"] == sim.url
    assert (info["cf_username"], info["cf_password"]) == ("admin@example.com", "sim-admin-password")
    key = info["cis_key"]
    assert key["grant_type"] == "client_credentials"
    assert key["endpoints"] == {"accounts_service_url": f"{sim.url}/btp/accounts",
                                "entitlements_service_url": f"{sim.url}/btp/entitlements",
                                "provisioning_service_url": f"{sim.url}/btp/provisioning"}
    assert key["uaa"]["credential-type"] == "binding-secret"
    assert key["uaa"]["url"] == f"{sim.url}/xsuaa/acme-ga"


def _landscape() -> dict:
    return yaml.safe_load(DEFAULT_LANDSCAPE.read_text())


def test_landscape_with_existing_tenant_resources() -> None:
    data = _landscape()
    data["global_account"]["cis_key"]["grant_type"] = "user_token"
    sub = data["subaccounts"][0]
    sub["assignments"] = [{"service": "SAPCloudALMAPIs", "plan": "standard", "amount": 1}]
    sub["cf_org"]["spaces"] = [{
        "name": "cloudalm", "roles": {"space_developer": ["admin@example.com"]},
        "service_instances": [{"name": "cloudalm-api", "offering": "SAPCloudALMAPIs", "plan": "standard",
                               "parameters": ALM_PARAMETERS, "keys": [{"name": "auto-key"}]}]}]
    data["subaccounts"].append({"guid": "11111111-2222-4333-8444-555555555555", "display_name": "Other",
                                "subdomain": "other-cloudalm", "cf_org": {"name": "other-cloudalm"}})
    with Simulator(landscape=data, job_seconds=0) as sim:
        info = sim.info()
        uaa = info["cis_key"]["uaa"]
        assert info["cis_key"]["grant_type"] == "user_token"
        cc = requests.post(uaa["url"] + "/oauth/token", auth=(uaa["clientid"], uaa["clientsecret"]),
                           data={"grant_type": "client_credentials"}, timeout=10)
        assert cc.status_code == 401
        pw = requests.post(uaa["url"] + "/oauth/token", auth=(uaa["clientid"], uaa["clientsecret"]),
                           timeout=10, data={"grant_type": "password", "username": "admin@example.com",
                                 "password": "sim-admin-password"})
        assert pw.status_code == 200 and "refresh_token" in pw.json()
        assert "cis-central!b14.global-account.subaccount.read" in pw.json()["scope"]
        api = Api(sim)
        [inst] = api.cf("GET", "/v3/service_instances", params={"names": "cloudalm-api",
                                                                 "organization_guids": ORG_GUID}).json()["resources"]
        [key] = api.cf("GET", "/v3/service_credential_bindings",
                       params={"service_instance_guids": inst["guid"]}).json()["resources"]
        creds = api.cf("GET", f"/v3/service_credential_bindings/{key['guid']}/details").json()["credentials"]
        assert creds["uaa"]["identityzone"] == "acme-cloudalm"
        token = requests.post(creds["uaa"]["url"] + "/oauth/token", data={"grant_type": "client_credentials"},
                              auth=(creds["uaa"]["clientid"], creds["uaa"]["clientsecret"]), timeout=10)
        assert token.status_code == 200
        orgs = api.cf("GET", "/v3/organizations").json()["resources"]
        assert "other-cloudalm" not in [o["name"] for o in orgs]  # admin has no role in the other org


def test_landscape_errors(tmp_path: Path) -> None:
    with pytest.raises(LandscapeError, match=r"^landscape: global_account: required key is missing; add it$"):
        Simulator(landscape={"users": []})
    data = _landscape()
    data["subaccounts"][0]["cf_org"]["roles"] = {"organization_user": ["ghost@example.com"]}
    with pytest.raises(LandscapeError, match=r"^landscape: subaccounts\[0\]\.cf_org\.roles\.organization_user\[0\]: "
                                             r"unknown user or client 'ghost@example.com'; add it to users"):
        Simulator(landscape=data)
    bad = tmp_path / "bad.yaml"
    bad.write_text("global_account: [")
    with pytest.raises(LandscapeError, match=rf"^{re.escape(str(bad))}:1:18: YAML syntax error: "):
        Simulator(landscape=str(bad))


@pytest.mark.parametrize(("old", "new", "message"), [
    ("    bindable: true\n", "    bindabel: true\n",
     r":111:5: service_offerings\[0\]\.bindabel: unknown key; did you mean 'bindable'\?$"),
    ("      amount: 7 ", "      amount: seven ",
     r":87:7: global_account\.entitlements\[0\]\.amount: expected a whole number, got 'seven'; write a whole"),
    ("              offering: SAPCloudALMAPIs\n", "              offering: CloudALM\n",
     r":164:15: subaccounts\[1\]\.cf_org\.spaces\[0\]\.service_instances\[0\]\.offering: unknown offering "
     r"'CloudALM'; use one of service_offerings$"),
    ("provisioned: 2023-03-01", "provisioned: 2023-02-30", r":\d+:18: .*'2023-02-30' is not a real date"),
    ("\n          offering: SAPCloudALMAPIs\n", "\n          offering: CloudALM\n",
     r":197:11: subaccounts\[2\]\.service_manager\.instances\[0\]\.offering: unknown offering 'CloudALM'; use one "
     r"of service_offerings$"),
])
def test_landscape_file_errors_point_at_the_entry(tmp_path: Path, old: str, new: str, message: str) -> None:
    """Schema and reference errors name FILE:LINE:COLUMN and the key, then the fix."""
    text = DEFAULT_LANDSCAPE.read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "landscape.yaml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(LandscapeError, match="^" + re.escape(str(path)) + message):
        Simulator(landscape=str(path))


def test_serve_writes_info_files_and_stops_on_sigterm(tmp_path: Path) -> None:
    info_dir = tmp_path / "info"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "provisioner.sim", "--port", "0", "--job-seconds", "0",
                             "--info-dir", str(info_dir)], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 10
        while not (info_dir / "sim.env").exists():  # the documented readiness signal
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "sim.env did not appear"
            time.sleep(0.02)
        values = dict(line.split("=", 1) for line in (info_dir / "sim.env").read_text().splitlines())
        assert set(values) == {"SIM_URL", "CF_API", "CF_USERNAME", "CF_PASSWORD", "SIM_CA_FILE"}
        for name in ("sim.env", "cis-key.json", "ca.pem"):
            assert stat.S_IMODE((info_dir / name).stat().st_mode) == 0o600
        # HTTPS by default, trusted through the CA the info folder holds (not this process's)
        assert values["SIM_URL"].startswith("https://") and values["SIM_CA_FILE"] == str(info_dir / "ca.pem")
        assert requests.get(values["SIM_URL"] + "/v3/info", timeout=10,
                            verify=values["SIM_CA_FILE"]).status_code == 200
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0
    assert values["SIM_URL"] in out and "admin@example.com" in out
    assert err == ""  # no request log lines
    assert not (info_dir / "sim.env").exists() and not (info_dir / "ca.pem").exists()
