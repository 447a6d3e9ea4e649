"""Every bad-input refusal exits 2 (`plan`: 1), with one line naming the file and field, before any request: a
key file or secret with a plain-http URL, a missing field, the cf CLI's target, and bad input found only while a
tenant runs (README "Exit codes")."""

from __future__ import annotations

import copy
import json

import pytest
from conftest import cli
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

PLAIN_HTTP = "refusing plain http:// to 'example.com'; use https://"


def write_cis(landscape, change) -> None:
    key = copy.deepcopy(landscape.sim.info()["cis_key"])
    change(key)
    (landscape.dir / "cis-key.json").write_text(json.dumps(key))


def one_error_line(out) -> str:
    lines = out.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), out.output
    return lines[0]


@pytest.mark.parametrize(("command", "code"), [("run", 2), ("plan", 1), ("doctor", 2)])
def test_a_cis_key_with_plain_http_to_another_host_exits_2_before_any_request(landscape, command, code):
    write_cis(landscape, lambda k: k["uaa"].update(url="http://example.com"))
    pb = landscape.playbook()
    landscape.clear_journal()
    out = cli(command, pb)
    assert out.exit_code == code, out.output
    if command == "doctor":
        assert f"FAIL  BTP (cis key): BTP XSUAA (cis key): {PLAIN_HTTP}" in out.stdout
        assert not any(e["path"].startswith("/btp") or "/xsuaa/" in e["path"] for e in landscape.journal())
        return
    line = one_error_line(out)
    assert f"{landscape.dir / 'cis-key.json'}: uaa.url: {PLAIN_HTTP}" in line
    assert landscape.journal() == []


@pytest.mark.parametrize("command", [("run",), ("key", "rotate"), ("revoke", "--yes"), ("inventory",)])
def test_a_plain_http_service_url_in_the_cis_key_exits_2_in_every_command(landscape, command):
    write_cis(landscape, lambda k: k["endpoints"].update(provisioning_service_url="http://example.com"))
    landscape.clear_journal()
    out = cli(*command, landscape.playbook())
    assert out.exit_code == 2, out.output
    assert f"cis-key.json: endpoints.provisioning_service_url: {PLAIN_HTTP}" in one_error_line(out)
    assert landscape.journal() == []


def test_a_cis_key_without_a_field_exits_2(landscape):
    write_cis(landscape, lambda k: k["uaa"].pop("clientid"))
    out = cli("run", landscape.playbook())
    assert out.exit_code == 2, out.output
    assert "cis-key.json: the Cloud Management (cis) service key has no uaa.clientid" in one_error_line(out)


def test_an_sm_key_with_plain_http_exits_2(landscape, tmp_path):
    sm = tmp_path / "sm.json"
    sm.write_text(json.dumps({"clientid": "c", "clientsecret": "s", "url": "http://example.com",
                              "sm_url": "https://sm.example.com"}))
    pb = landscape.playbook(cf=None, **{"btp.sm_key": {"file": str(sm)}, "steps.entitlement": {"enabled": False}})
    landscape.clear_journal()
    out = cli("run", pb)
    assert out.exit_code == 2, out.output
    assert f"{sm}: url: {PLAIN_HTTP}" in one_error_line(out)
    assert landscape.journal() == []


def cf_cli_login(landscape, monkeypatch, config: dict):
    home = landscape.dir / "cf-home"
    (home / ".cf").mkdir(parents=True, exist_ok=True)
    (home / ".cf" / "config.json").write_text(json.dumps(config))
    monkeypatch.setenv("CF_HOME", str(home))
    return landscape.playbook(cf={"org": "acme-cloudalm", "login": "cf-cli"})


@pytest.mark.parametrize(("command", "code"), [("run", 2), ("plan", 1)])
def test_a_cf_cli_target_with_plain_http_exits_2(landscape, monkeypatch, command, code):
    pb = cf_cli_login(landscape, monkeypatch, {"Target": "http://example.com", "AccessToken": "bearer x",
                                               "RefreshToken": "r"})
    out = cli(command, pb)
    assert out.exit_code == code, out.output
    assert f"config.json: Target (the cf CLI's target): {PLAIN_HTTP}" in one_error_line(out)


@pytest.mark.parametrize(("command", "code"), [("run", 2), ("plan", 1)])
def test_bad_input_found_while_a_tenant_runs_exits_2_too(landscape, monkeypatch, command, code):
    """An expired cf CLI login without a refresh token is found at sign-in, once the tenant runs."""
    pb = cf_cli_login(landscape, monkeypatch, {"Target": landscape.url, "AccessToken": "bearer expired"})
    out = cli(command, pb)
    assert out.exit_code == code, out.output
    assert out.output.count("the cf CLI login has expired and has no refresh token; run `cf login`") == 1


hosts = st.from_regex(r"[a-z][a-z0-9-]{0,20}(\.[a-z][a-z0-9-]{0,10}){0,3}", fullmatch=True).filter(
    lambda h: h != "localhost")


@settings(deadline=None, suppress_health_check=list(HealthCheck), database=None, max_examples=25)
@given(host=hosts, field=st.sampled_from(["uaa.url", "endpoints.accounts_service_url",
                                          "endpoints.entitlements_service_url",
                                          "endpoints.provisioning_service_url"]))
def test_any_plain_http_url_of_the_cis_key_exits_2_with_one_line(landscape, host, field):
    part, name = field.split(".")
    write_cis(landscape, lambda k: k[part].update({name: f"http://{host}/x"}))
    out = cli("run", landscape.playbook())
    assert out.exit_code == 2, out.output
    assert f"cis-key.json: {field}: refusing plain http://" in one_error_line(out)
