"""Keys you can trust: the simulator's XSUAA issues tokens SAP's own library (sap-xssec) accepts, and `key test`
checks a key's token as strictly: signature, expiry, identity zone, client, scopes and (``--api``) the Cloud ALM
API; each check is reported and any failure exits 1 with its reason."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import jwt
import pytest
import requests
from conftest import SIM_CA, cli
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from sap.xssec import create_security_context

from provisioner.keys.keytest import signature_check, trusted_jku

ROOT = Path(__file__).resolve().parent.parent
CHECKS = ("sign in (client credentials)", "signature", "expiry", "identity zone", "client",
          "scope imp-cdm-feature-display-ui", "scope imp-cdm-feature-manage-ui")


def _token(uaa: dict, cert: Path | None = None) -> str:
    r = requests.post(uaa["url"] + "/oauth/token", data={"grant_type": "client_credentials"},
                      auth=(uaa["clientid"], uaa["clientsecret"]), timeout=10, verify=str(cert) if cert else True)
    assert r.status_code == 200, r.text
    return r.json()["access_token"]


def _other_public_key() -> str:
    """The PEM public key of a new RSA key: no zone's."""
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return private.public_key().public_bytes(serialization.Encoding.PEM,
                                             serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def _lines(output: str) -> dict[str, str]:
    """``{check name: "pass ..." | "FAIL ..."}`` from the lines `key test` prints."""
    found = {}
    for line in output.splitlines():
        verdict, _, rest = line.partition("  ")
        if verdict in ("pass", "FAIL"):
            found[rest.split(":", 1)[0]] = f"{verdict} {rest.split(':', 1)[1].strip()}"
    return found


@pytest.fixture
def key(landscape) -> Path:
    assert cli("run", landscape.playbook()).exit_code == 0
    return landscape.key_path


@pytest.fixture
def tls_key(landscape) -> tuple[dict, str, Path]:
    """A key downloaded from the simulator, which serves HTTPS as XSUAA does: ``(uaa block, simulator URL, CA
    file)``; sap-xssec (httpx) trusts the simulator's CA through ``SSL_CERT_FILE`` (tests/conftest.py)."""
    assert cli("run", landscape.playbook()).exit_code == 0
    return json.loads(landscape.key_path.read_text())["uaa"], landscape.url, Path(SIM_CA)


def test_sap_xssec_accepts_a_token_of_a_downloaded_key_and_sees_both_scopes(tls_key):
    uaa, url, cert = tls_key
    token = _token(uaa, cert)
    header = jwt.get_unverified_header(token)
    assert header["alg"] == "RS256" and header["kid"] and header["jku"] == uaa["url"] + "/token_keys"
    assert uaa["clientid"] == "sb-" + uaa["xsappname"] and uaa["xsmasterappname"].startswith("sapcloudalm!b")
    assert uaa["verificationkey"].startswith("-----BEGIN PUBLIC KEY-----")
    assert url.startswith("https://") and uaa["uaadomain"] == url.removeprefix("https://")

    # as an application bound to the key would: its credentials are the key's uaa block; sap-xssec reads the
    # zone's keys from https://<uaadomain>/token_keys?zid=<zid>
    context = create_security_context(token, uaa)
    master = uaa["xsmasterappname"]
    assert context.check_scope(f"{master}.imp-cdm-feature-display-ui")
    assert context.check_scope(f"{master}.imp-cdm-feature-manage-ui")
    assert not context.check_scope(f"{master}.calm-api.projects.read")
    assert context.get_clientid() == uaa["clientid"] and context.get_zone_id() == uaa["identityzoneid"]
    assert context.get_subdomain() == uaa["identityzone"] == "acme-cloudalm"
    assert context.get_grant_type() == "client_credentials"


def test_the_zone_serves_its_token_keys(key, landscape):
    uaa = json.loads(key.read_text())["uaa"]
    token = _token(uaa)
    jwks = requests.get(uaa["url"] + "/token_keys", timeout=10).json()
    (entry,) = jwks["keys"]
    assert entry["kty"] == "RSA" and entry["alg"] == "RS256" and entry["use"] == "sig"
    assert entry["kid"] == jwt.get_unverified_header(token)["kid"]
    assert entry["value"].strip() == uaa["verificationkey"].strip()
    jwt.decode(token, jwt.PyJWK(entry).key, algorithms=["RS256"], options={"verify_aud": False})
    by_zid = requests.get(f"{landscape.url}/token_keys", params={"zid": uaa["identityzoneid"]}, timeout=10)
    assert by_zid.json() == jwks
    unknown = requests.get(f"{landscape.url}/token_keys", params={"zid": "no-such-zone"}, timeout=10)
    assert unknown.status_code == 404


def test_sap_xssec_refuses_a_token_signed_by_another_key(tls_key):
    uaa, url, cert = tls_key
    wrong = requests.put(url + "/_sim/xsuaa/acme-cloudalm/signing-key", json={"key": "foreign"}, timeout=10,
                         verify=str(cert))
    assert wrong.json() == {"zone": "acme-cloudalm", "key": "foreign"}
    with pytest.raises(RuntimeError, match="Signature verification failed"):
        create_security_context(_token(uaa, cert), uaa)


def test_key_test_passes_every_check_and_the_api_accepts_the_token(key):
    out = cli("key", "test", key, "--api")
    assert out.exit_code == 0, out.output
    checks = _lines(out.stdout)
    assert list(checks) == [*CHECKS, "Cloud ALM API"]
    assert all(v.startswith("pass") for v in checks.values()), checks
    assert re.match(r"pass RS256, verified with the key key-id-\d+ of https://127\.0\.0\.1:\d+/xsuaa/acme-cloudalm/"
                    r"token_keys$", checks["signature"]), checks["signature"]
    assert "acme-cloudalm" in checks["identity zone"]
    assert "8/8 checks passed" in out.stdout
    assert json.loads(key.read_text())["uaa"]["clientsecret"] not in out.output


def test_key_test_fails_on_a_token_signed_by_another_key(landscape, key):
    requests.put(landscape.url + "/_sim/xsuaa/acme-cloudalm/signing-key", json={"key": "foreign"}, timeout=10)
    out = cli("key", "test", key, "--api")
    assert out.exit_code == 1, out.output
    checks = _lines(out.stdout)
    assert re.match(r"FAIL RS256 signature does not verify with the key key-id-\d+ of https://127\.0\.0\.1:\d+/"
                    r"xsuaa/acme-cloudalm/token_keys: the token was signed by another key$", checks["signature"])
    assert checks["Cloud ALM API"].endswith("refused the token (401)")
    assert checks["sign in (client credentials)"].startswith("pass")
    # the zone signs with its own key again: the same key file passes
    requests.put(landscape.url + "/_sim/xsuaa/acme-cloudalm/signing-key", json={"key": "own"}, timeout=10)
    assert cli("key", "test", key, "--api").exit_code == 0


def test_key_test_fails_on_a_key_of_another_zone(landscape, key, tmp_path):
    creds = json.loads(key.read_text())
    other = next(s for s in landscape.state()["subaccounts"] if s["subdomain"] == "globex-cloudalm")
    globex_zone = requests.get(f"{landscape.url}/xsuaa/globex-cloudalm/token_keys", timeout=10)
    assert globex_zone.status_code == 200 and other
    # the file says globex-cloudalm, but its client signs in at (and its tokens come from) acme-cloudalm
    creds["uaa"]["identityzone"] = "globex-cloudalm"
    edited = tmp_path / "edited.json"
    edited.write_text(json.dumps(creds))
    out = cli("key", "test", edited)
    assert out.exit_code == 1, out.output
    zone = _lines(out.stdout)["identity zone"]
    assert zone == ("FAIL ext_attr.zdn 'acme-cloudalm' is not uaa.identityzone 'globex-cloudalm': the token is of "
                    "another zone than the key")


def test_key_test_fails_on_a_key_missing_a_scope(landscape):
    pb = landscape.playbook(**{"service.authorities": ["$XSMASTERAPPNAME.imp-cdm-feature-display-ui"],
                               "service.required_scopes": ["imp-cdm-feature-display-ui"]})
    assert cli("run", pb).exit_code == 0
    out = cli("key", "test", landscape.key_path)
    assert out.exit_code == 1, out.output
    checks = _lines(out.stdout)
    assert checks["scope imp-cdm-feature-manage-ui"] == "FAIL missing from the token's scopes"
    assert checks["scope imp-cdm-feature-display-ui"] == "pass in the token"
    assert checks["signature"].startswith("pass")


def test_key_test_fails_on_an_expired_token(landscape, key):
    landscape.config(token_seconds=0)
    out = cli("key", "test", key, "--api")
    assert out.exit_code == 1, out.output
    checks = _lines(out.stdout)
    assert checks["expiry"].startswith("FAIL the token expired")
    assert checks["Cloud ALM API"].endswith("refused the token (401)")


def test_the_cloud_alm_api_wants_a_valid_token_of_its_zone_with_the_scope(landscape, key):
    creds = json.loads(key.read_text())
    api = creds["endpoints"]["Api"] + "/calm-projects/v1/projects"
    token = _token(creds["uaa"])
    assert requests.get(api, timeout=10).status_code == 401
    assert requests.get(api, headers={"Authorization": "Bearer not-a-jwt"}, timeout=10).status_code == 401
    ok = requests.get(api, headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert ok.status_code == 200 and ok.json() == {"value": []}
    other_api = api.replace("/alm/acme-cloudalm/", "/alm/globex-cloudalm/")
    refused = requests.get(other_api, headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert refused.status_code == 401 and "another" not in refused.json()["error"]
    narrow = requests.post(creds["uaa"]["url"] + "/oauth/token", timeout=10,
                           auth=(creds["uaa"]["clientid"], creds["uaa"]["clientsecret"]),
                           data={"grant_type": "client_credentials", "scope": "uaa.resource"}).json()["access_token"]
    lacking = requests.get(api, headers={"Authorization": f"Bearer {narrow}"}, timeout=10)
    assert lacking.status_code == 403 and lacking.json()["error"] == "insufficient_scope"


def test_key_test_passes_on_every_key_the_demo_downloads(landscape, monkeypatch, tmp_path):
    work = tmp_path / "demo"
    (work / ".demo").mkdir(parents=True)
    shutil.copy(landscape.dir / "cis-key.json", work / ".demo" / "cis-key.json")
    shutil.copytree(ROOT / "playbooks", work / "playbooks")
    monkeypatch.chdir(work)
    # as scripts/demo.sh does: the demo playbook, then the fleet of one tenant per era
    assert cli("run", "playbooks/demo.yaml").exit_code == 0
    run = cli("run", *sorted(str(p.relative_to(work)) for p in (work / "playbooks/tenants").glob("*.yaml")))
    assert run.exit_code == 0, run.output
    keys = sorted((work / ".demo" / "keys").glob("*.json"))
    assert [k.name for k in keys] == ["acme-cloudalm.json", "globex-cloudalm-monitoring.json",
                                      "globex-cloudalm-transport-management.json", "initech-cloudalm.json"]
    for path in keys:
        out = cli("key", "test", path, "--api")
        assert out.exit_code == 0, out.output
        assert "8/8 checks passed" in out.stdout


# ---- the signature check on its own ----------------------------------------------------------------------


UAA = {"url": "https://acme.authentication.eu10.hana.ondemand.com",
       "uaadomain": "authentication.eu10.hana.ondemand.com"}


@pytest.mark.parametrize(("jku", "followed"), [
    ("https://acme.authentication.eu10.hana.ondemand.com/token_keys", True),
    ("https://other.authentication.eu10.hana.ondemand.com/token_keys?zid=1", True),
    ("https://authentication.eu10.hana.ondemand.com.evil.example/token_keys", False),
    ("https://evil.example/token_keys", False),
    ("https://evilauthentication.eu10.hana.ondemand.com/token_keys", False),
    ("https://user@acme.authentication.eu10.hana.ondemand.com/token_keys", False),
    ("ftp://acme.authentication.eu10.hana.ondemand.com/token_keys", False),
])
def test_a_jku_is_followed_only_under_the_keys_uaa(jku, followed):
    assert trusted_jku(jku, UAA) is followed


def test_an_hs256_token_fails_the_signature_check():
    token = jwt.encode({"zid": "z", "cid": "c"}, "x" * 32, algorithm="HS256")
    check = signature_check(token, {**UAA, "verificationkey": "-----BEGIN PUBLIC KEY-----x-----END PUBLIC KEY-----"})
    assert not check.passed and check.message.startswith("the token is signed with 'HS256'")


def test_an_untrusted_jku_is_not_followed_and_the_verification_key_decides(key):
    uaa = json.loads(key.read_text())["uaa"]
    token = _token(uaa)
    # a key file whose uaa.url and uaadomain name another host: the token's jku (the simulator) is not followed
    moved = {**uaa, "url": "https://acme.authentication.example", "uaadomain": "authentication.example"}
    check = signature_check(token, moved)
    assert check.passed, check.message
    assert "uaa.verificationkey (the token's jku" in check.message and "not followed" in check.message
    check = signature_check(token, {**moved, "verificationkey": _other_public_key()})
    assert not check.passed and check.message.endswith("the token was signed by another key")
