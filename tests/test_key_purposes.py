"""One key per purpose (tenant.purposes), one run of one playbook, least privilege (one instance per purpose with
exactly its authorities; the api key's token carries only its listed scopes) and the one Landscape Management key
(never an api key)."""

from __future__ import annotations

import json

import jwt
from conftest import cli, steps_of
from test_eras import tenant_playbook

PURPOSES = ["monitoring", "transport-management", "api"]
API_SCOPES = ["calm-api.projects.read"]


def globex(landscape, **extra):
    return tenant_playbook(landscape, "globex-cloudalm", "2023-08-01", PURPOSES, "cloudalm-own",
                           "cloudalm-{purpose}-key", **{
                               "steps.download.path": str(landscape.dir / "keys" / "{tenant}-{purpose}.json"),
                               "steps.purposes": {"monitoring": {"instance": "cloudalm-monitoring",
                                                                 "key": "cloudalm-monitoring-key"},
                                                  "api": {"scopes": API_SCOPES}}, **extra})


def token_of(creds: dict) -> dict:
    import requests

    uaa = creds["uaa"]
    r = requests.post(uaa["url"] + "/oauth/token", auth=(uaa["clientid"], uaa["clientsecret"]), timeout=10,
                      data={"grant_type": "client_credentials"})
    assert r.status_code == 200, r.text
    return jwt.decode(r.json()["access_token"], options={"verify_signature": False})


def test_three_purposes_three_instances_least_privilege_and_only_the_monitoring_key_marked(landscape):
    pb = globex(landscape)
    report = landscape.dir / "report.json"
    out = cli("run", pb, "--report", report)
    assert out.exit_code == 0, out.output
    got = steps_of(out.stdout)
    # monitoring: SAP's generated key located; transport management and api: an instance and key each
    assert got["key[monitoring]"] == "unchanged"
    assert got["instance[transport-management]"] == got["instance[api]"] == "created"
    assert got["key[transport-management]"] == "created" and got["key[api]"] == "created"
    files = {p: landscape.dir / "keys" / f"globex-cloudalm-{p}.json" for p in PURPOSES}
    creds = {p: json.loads(f.read_text()) for p, f in files.items()}
    assert len({c["uaa"]["clientid"] for c in creds.values()}) == 3  # three credentials, three XSUAA clients
    assert creds["api"]["uaa"]["xsappname"].startswith("cloudalm-own-api!b")
    assert creds["transport-management"]["uaa"]["xsappname"].startswith("cloudalm-own!b")
    # the api token carries only its listed scope; transport management's only the two imp-cdm-feature ones
    master = creds["api"]["uaa"]["xsmasterappname"]
    api_scopes = [s for s in token_of(creds["api"])["scope"] if s.startswith(master + ".")]
    assert api_scopes == [f"{master}.calm-api.projects.read"]
    assert sorted(s for s in token_of(creds["transport-management"])["scope"] if s.startswith(master + ".")) == [
        f"{master}.imp-cdm-feature-display-ui", f"{master}.imp-cdm-feature-manage-ui"]
    api_test = cli("key", "test", files["api"], "--api", "--scope", "calm-api.projects.read")  # reads projects
    assert api_test.exit_code == 0, api_test.output
    assert "pass  scope calm-api.projects.read: in the token" in api_test.stdout
    assert "imp-cdm-feature" not in api_test.stdout
    for p in ("monitoring", "transport-management"):
        assert cli("key", "test", files[p]).exit_code == 0

    keys = json.loads(report.read_text())["tenants"][0]["keys"]
    assert [(k["purpose"], k["instance"], k["landscape_management"]) for k in keys] == [
        ("monitoring", "cloudalm-monitoring", True), ("transport-management", "cloudalm-own", False),
        ("api", "cloudalm-own-api", False)]
    assert [k["scopes"] for k in keys] == [None, ["imp-cdm-feature-display-ui", "imp-cdm-feature-manage-ui"],
                                           API_SCOPES]
    assert keys[0]["credential_type"] == "instance-secret"  # SAP's 2023 key
    assert keys[1]["credential_type"] == keys[2]["credential_type"] == "binding-secret"
    assert f"Landscape Management key: {files['monitoring']} (monitoring, key cloudalm-monitoring-key)" in out.stdout
    assert "upload " + str(files["monitoring"]) + " in SAP Cloud ALM > Landscape Management" in out.stdout
    assert "warning" not in out.stdout

    inventory = cli("inventory", pb)
    assert inventory.exit_code == 0, inventory.output
    marked = [line for line in inventory.stdout.splitlines() if "the Landscape Management key" in line]
    assert len(marked) == 1 and marked[0].strip().startswith("cloudalm-monitoring-key ")
    api_line = next(line for line in inventory.stdout.splitlines() if line.startswith("- 'cloudalm-own-api'"))
    assert "scopes calm-api.projects.read, purpose api" in api_line and "credential type binding-secret" in api_line

    # converged: a second run changes nothing and names no manual step
    landscape.clear_journal()
    again = cli("run", pb)
    assert again.exit_code == 0, again.output
    assert landscape.writes() == [] and "next step" not in again.stdout


def test_the_api_key_is_never_the_landscape_management_key(landscape):
    out = cli("validate", globex(landscape, **{"tenant.landscape_management": "api"}))
    assert out.exit_code == 2
    assert "tenant.landscape_management" in out.stderr


def test_an_api_purpose_lists_its_scopes(landscape):
    pb = tenant_playbook(landscape, "globex-cloudalm", "2023-08-01", ["api"], "cloudalm-api", "cloudalm-api-key")
    out = cli("validate", pb)
    assert out.exit_code == 2
    assert "list the SAP Cloud ALM API scopes its programs need in steps.purposes.api.scopes" in out.stderr


def test_purposes_never_share_an_instance(landscape):
    pb = globex(landscape, **{"steps.purposes": {"monitoring": {"instance": "cloudalm-monitoring"},
                                                 "transport-management": {"instance": "shared"},
                                                 "api": {"instance": "shared", "scopes": API_SCOPES}}})
    out = cli("validate", pb)
    assert out.exit_code == 2
    assert "purposes transport-management and api share instance shared" in out.stderr


def test_several_purposes_need_distinct_keys_and_files(landscape):
    pb = tenant_playbook(landscape, "globex-cloudalm", "2023-08-01", PURPOSES, "cloudalm-own", "cloudalm-key",
                         **{"steps.purposes": {"api": {"scopes": API_SCOPES}}})
    out = cli("validate", pb)
    assert out.exit_code == 2
    assert "each needs its own key and file: put '{purpose}' in steps.key.name" in out.stderr


def test_from_october_2023_monitoring_takes_the_generated_binding_and_api_gets_its_own(landscape):
    from test_subaccount_eras import initech

    pb = initech(landscape, **{"tenant.purposes": ["monitoring", "api"],
                               "steps.download.path": str(landscape.dir / "keys" / "{tenant}-{purpose}.json"),
                               "steps.purposes": {"api": {"key": "cloudalm-api-key-for-programs",
                                                          "scopes": API_SCOPES}}})
    out = cli("run", pb)
    assert out.exit_code == 0, out.output
    got = steps_of(out.stdout)
    assert got["key[monitoring]"] == "unchanged" and got["key[api]"] == "created"
    monitoring, api = (json.loads((landscape.dir / "keys" / f"initech-cloudalm-{p}.json").read_text())
                       for p in ("monitoring", "api"))
    assert monitoring["uaa"]["clientid"] != api["uaa"]["clientid"]
    assert "Landscape Management key: " + str(landscape.dir / "keys" / "initech-cloudalm-monitoring.json") \
        in out.stdout
