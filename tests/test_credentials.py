"""Credentials from where users already keep them, each against the simulator: CF_USERNAME/CF_PASSWORD, a UAA
client, the cf CLI's config.json, VCAP_SERVICES (cfenv), and the cis key's password grant (user_token)."""

from __future__ import annotations

import json

import requests
from conftest import Landscape, cli, steps_of

from provisioner.sim.generate import default_landscape


def converges(landscape, pb) -> None:
    out = cli("run", pb)
    assert out.exit_code == 0, out.output
    assert steps_of(out.stdout)["test"] == "passed"


def test_cf_env_reads_cf_username_and_cf_password(tmp_path, monkeypatch, make_landscape):
    land = make_landscape()
    pb = land.playbook(**{"cf.username": None, "cf.password": None, "cf.login": "cf-env"})
    converges(land, pb)


def test_client_credentials(tmp_path, monkeypatch, make_landscape):
    data = default_landscape()
    data["cf_clients"] = [{"client_id": "ci-deployer", "client_secret": "ci-deployer-secret", "cf_admin": True}]
    land = make_landscape(data)
    monkeypatch.setenv("CI_CLIENT_SECRET", "ci-deployer-secret")
    pb = land.playbook(**{"cf.username": None, "cf.password": None, "cf.client_id": "ci-deployer",
                          "cf.client_secret": {"env": "CI_CLIENT_SECRET"}, "steps.space.developers": []})
    converges(land, pb)


def cf_cli_login(land: Landscape, home) -> None:
    """What `cf login` leaves behind: ~/.cf/config.json with the target and the tokens."""
    uaa = requests.get(land.url + "/", timeout=10).json()["links"]["uaa"]["href"]
    tok = requests.post(uaa + "/oauth/token", auth=("cf", ""), timeout=10,
                        data={"grant_type": "password", "username": land.env["CF_USERNAME"],
                              "password": land.env["CF_PASSWORD"]}).json()
    (home / ".cf").mkdir(parents=True)
    (home / ".cf" / "config.json").write_text(json.dumps({
        "ConfigVersion": 3, "Target": land.url, "APIVersion": "3.180.0", "AuthorizationEndpoint": uaa,
        "UaaEndpoint": uaa, "AccessToken": "bearer " + tok["access_token"], "RefreshToken": tok["refresh_token"],
        "UAAOAuthClient": "cf", "UAAOAuthClientSecret": "", "OrganizationFields": {"Name": "acme-cloudalm"}}))


def test_cf_cli_login_from_cf_home(tmp_path, monkeypatch, make_landscape):
    land = make_landscape()
    home = tmp_path / "cfhome"
    cf_cli_login(land, home)
    monkeypatch.setenv("CF_HOME", str(home))
    monkeypatch.delenv("CF_PASSWORD")
    pb = land.playbook(**{"cf.username": None, "cf.password": None, "cf.api": None, "cf.login": "cf-cli"})
    converges(land, pb)


def test_cf_cli_login_refreshes_an_expired_access_token(tmp_path, monkeypatch, make_landscape):
    land = make_landscape()
    home = tmp_path / "cfhome"
    cf_cli_login(land, home)
    config = json.loads((home / ".cf" / "config.json").read_text())
    config["AccessToken"] = "bearer not-a-valid-token"
    (home / ".cf" / "config.json").write_text(json.dumps(config))
    monkeypatch.setenv("CF_HOME", str(home))
    pb = land.playbook(**{"cf.username": None, "cf.password": None, "cf.login": "cf-cli"})
    converges(land, pb)


def test_missing_cf_cli_login_is_bad_input(tmp_path, monkeypatch, make_landscape):
    land = make_landscape()
    monkeypatch.setenv("CF_HOME", str(tmp_path / "nowhere"))
    pb = land.playbook(**{"cf.username": None, "cf.password": None, "cf.login": "cf-cli"})
    out = cli("run", pb)
    assert out.exit_code != 0
    assert "no cf CLI login here; run `cf login`" in out.output


def test_vcap_services_inside_cloud_foundry(tmp_path, monkeypatch, make_landscape):
    land = make_landscape()
    cis = json.loads((tmp_path / "cis-key.json").read_text())
    monkeypatch.setenv("VCAP_SERVICES", json.dumps({
        "user-provided": [{"name": "cf-deployer", "label": "user-provided", "tags": [],
                           "credentials": {"username": land.env["CF_USERNAME"], "password": land.env["CF_PASSWORD"]}}],
        "cis": [{"name": "cis-central", "label": "cis", "plan": "central", "tags": [], "credentials": cis}],
    }))
    monkeypatch.delenv("CF_PASSWORD")
    pb = land.playbook(**{"cf.username": None, "cf.password": None, "cf.login": "vcap",
                          "cf.vcap_service": "cf-deployer", "btp.cis_key": {"vcap": "cis"}})
    converges(land, pb)


def test_cis_key_with_user_token_uses_the_password_grant(tmp_path, monkeypatch, make_landscape):
    data = default_landscape()
    data["global_account"]["cis_key"]["grant_type"] = "user_token"
    land = make_landscape(data)
    pb = land.playbook(**{"btp.username": {"env": "CF_USERNAME"}, "btp.password": {"env": "CF_PASSWORD"}})
    converges(land, pb)
    pb = land.playbook(name="no-user.yaml")
    out = cli("run", pb)
    assert out.exit_code != 0
    assert "grant_type is user_token" in out.output


def test_doctor_checks_sources_and_roles_without_writing(tmp_path, monkeypatch, make_landscape):
    land = make_landscape()
    pb = land.playbook()
    out = cli("doctor", pb)
    assert out.exit_code == 0, out.output
    assert "pass  CF sign-in: password login" in out.stdout
    assert "pass  Org Manager: in org acme-cloudalm" in out.stdout
    assert "pass  BTP sign-in (cis key)" in out.stdout
    assert land.writes() == []
    monkeypatch.setenv("CF_PASSWORD", "wrong")
    bad = cli("doctor", pb)
    assert bad.exit_code == 1
    assert "FAIL  CF sign-in" in bad.stdout
