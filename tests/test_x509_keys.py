"""x509 keys: a client certificate instead of a secret (XSUAA's "Parameters for X.509 Certificates Managed by SAP
Authorization and Trust Management Service"): made with the binding parameters, downloaded with its certificate and
private key (mode 0600), signing in at `uaa.certurl` over mutual TLS (the simulator checks the certificate on a
loopback HTTPS port), accepted by SAP's sap-xssec, refused by Landscape Management, its expiry shown and checked."""

from __future__ import annotations

import json
import re
import stat

import jwt
import pytest
import requests
from conftest import cli, steps_of
from sap.xssec import create_security_context

from provisioner.keys.x509key import pem_files

SCOPES = ["calm-api.projects.read"]


def x509_playbook(landscape, **extra):
    """An api key of its own instance, x509 (never the Landscape Management key), 2 days valid, 2048 bits."""
    return landscape.playbook(**{"tenant.purposes": ["api"],
                                 "steps.purposes": {"api": {"scopes": SCOPES, "credential_type": "x509"}},
                                 "service.x509": {"validity_days": 2}, **extra})


@pytest.fixture
def x509_key(landscape):
    out = cli("run", x509_playbook(landscape))
    assert out.exit_code == 0, out.output
    return landscape.key_path, out


def test_an_x509_key_is_made_downloaded_checked_and_signs_in_with_its_certificate(landscape, x509_key):
    path, out = x509_key
    got = steps_of(out.stdout)
    assert got["key"] == "created" and got["check"] == "passed" and got["test"] == "passed"
    assert "sign in (client certificate at uaa.certurl)" in out.stdout
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    uaa = json.loads(path.read_text())["uaa"]
    assert uaa["credential-type"] == "x509" and "clientsecret" not in uaa
    assert uaa["certificate"].startswith("-----BEGIN CERTIFICATE-----") and "PRIVATE KEY" in uaa["key"]
    assert uaa["certurl"].startswith("https://") and uaa["certurl"] != uaa["url"]
    # the binding asked for x509 as SAP's page gives the parameters; the instance allows it
    posts = [e for e in landscape.journal() if (e["method"], e["path"]) == ("POST", "/v3/service_credential_bindings")]
    assert len(posts) == 1
    state = landscape.state()
    (inst,) = [i for i in state["service_instances"] if i["name"] == "cloudalm-api"]
    assert inst["parameters"]["xs-security"]["oauth2-configuration"] == {
        "credential-types": ["binding-secret", "x509"]}
    assert inst["parameters"]["xs-security"]["authorities"] == ["$XSMASTERAPPNAME.calm-api.projects.read"]

    test = cli("key", "test", path, "--scope", "calm-api.projects.read", "--api")
    assert test.exit_code == 0, test.output
    assert re.search(r"pass  certificate: valid until \d{4}-\d\d-\d\d \d\d:\d\d UTC \(1 day left\)", test.stdout)
    assert f"pass  sign in (client certificate at uaa.certurl): token from {uaa['certurl']}/oauth/token" in test.stdout
    assert uaa["key"] not in test.output

    # Landscape Management refuses it, saying why and what to use instead; asked for as x509 it passes
    lm = cli("key", "check", path, "--tenant", "acme-cloudalm")
    assert lm.exit_code == 1
    assert "FAIL  uaa.credential-type: 'x509' (expected binding-secret or instance-secret): Landscape Management " \
           "takes binding-secret or instance-secret" in lm.stdout and "upload a binding-secret key" in lm.stdout
    checked = cli("key", "check", path, "--tenant", "acme-cloudalm", "--credential-type", "x509")
    assert checked.exit_code == 0, checked.output
    assert "pass  uaa.clientid and uaa.clientsecret present: uaa.clientid, uaa.certificate and uaa.key present" \
        in checked.stdout and "pass  certificate: valid until" in checked.stdout
    export = cli("key", "export", path, "--for", "landscape-management", "-o", landscape.dir / "upload.json")
    assert export.exit_code == 1 and "an x509 key cannot be uploaded to Landscape Management" in export.stderr
    fields = cli("key", "export", path, "--for", "alm-setup")
    assert f"token endpoint: {uaa['certurl']}/oauth/token" in fields.stdout and uaa["key"] not in fields.output

    inventory = cli("inventory", x509_playbook(landscape))
    assert re.search(r"type x509, certificate valid until \d{4}-\d\d-\d\d", inventory.stdout), inventory.stdout

    # the certificate dies with its key, though it has not expired
    assert cli("revoke", x509_playbook(landscape), "--yes").exit_code == 0
    gone = cli("key", "test", path, "--scope", "calm-api.projects.read")
    assert gone.exit_code == 1 and "refused the client certificate" in gone.stdout


def test_sap_xssec_validates_the_token_of_an_x509_key(x509_key):
    path, _ = x509_key
    uaa = json.loads(path.read_text())["uaa"]
    with pem_files({"uaa": uaa}) as cert:  # as an application bound to the key signs in (sap-xssec does the same)
        r = requests.post(uaa["certurl"] + "/oauth/token", cert=cert, timeout=10,
                          data={"grant_type": "client_credentials", "client_id": uaa["clientid"]})
    assert r.status_code == 200, r.text
    token = r.json()["access_token"]
    assert jwt.get_unverified_header(token)["jku"] == uaa["url"] + "/token_keys"
    # sap-xssec: the signature with the zone's keys read over HTTPS from https://<uaadomain>/token_keys?zid=...
    context = create_security_context(token, uaa)
    master = uaa["xsmasterappname"]
    assert context.check_scope(f"{master}.calm-api.projects.read")
    assert not context.check_scope(f"{master}.imp-cdm-feature-manage-ui")
    assert context.get_zone_id() == uaa["identityzoneid"] and context.get_subdomain() == "acme-cloudalm"
    assert context.get_clientid() == uaa["clientid"] and context.get_grant_type() == "client_credentials"
    # without the certificate (no secret either) the token endpoint refuses the client
    plain = requests.post(uaa["url"] + "/oauth/token", timeout=10,
                          data={"grant_type": "client_credentials", "client_id": uaa["clientid"]})
    assert plain.status_code == 401


def test_an_expired_certificate_fails_key_test_with_its_date(landscape):
    landscape.config(x509_backdate_days=3)  # a 2-day certificate that started 3 days ago: expired yesterday
    out = cli("run", x509_playbook(landscape))
    assert out.exit_code == 1
    got = steps_of(out.stdout)  # the check step reads its expiry; the sign-in is not tried
    assert got["check"] == "failed" and got["test"] == "skipped" and "certificate: FAILED (expired on" in out.stdout
    test = cli("key", "test", landscape.key_path, "--scope", "calm-api.projects.read")
    assert test.exit_code == 1
    assert re.search(r"FAIL  certificate: expired on \d{4}-\d\d-\d\d \d\d:\d\d UTC; create a new key", test.stdout)
    assert "sign in" not in test.stdout  # nothing was sent with it
    landscape.clear_journal()
    assert cli("key", "test", landscape.key_path).exit_code == 1 and landscape.journal() == []


def test_an_x509_landscape_management_key_is_refused_when_the_playbook_loads(landscape):
    out = cli("validate", landscape.playbook(**{"service.credential_type": "x509"}))
    assert out.exit_code == 2
    assert "the Landscape Management key (purpose monitoring) would be x509" in out.stderr


def test_an_x509_binding_on_the_subaccount_route_signs_in_with_its_certificate(landscape):
    from test_subaccount_route import subaccount_playbook

    pb = subaccount_playbook(landscape, **{"tenant.purposes": ["api"], "steps.purposes": {
        "api": {"scopes": SCOPES, "credential_type": "x509"}}, "service.x509": {"parameters": "flat"}})
    out = cli("run", pb)
    assert out.exit_code == 0, out.output
    assert json.loads(landscape.key_path.read_text())["uaa"]["credential-type"] == "x509"
    assert "sign in (client certificate at uaa.certurl)" in out.stdout
    landscape.clear_journal()
    assert cli("run", pb).exit_code == 0 and landscape.writes() == []
