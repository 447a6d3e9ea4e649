"""Simulator: discovery, CF UAA and XSUAA token endpoints, bearer checks."""

from __future__ import annotations

import jwt
import pytest
import requests
import yaml

from provisioner.sim import Simulator
from provisioner.sim.landscape import DEFAULT_LANDSCAPE

from .sim_testkit import Api, cf_error


def _claims(token: str) -> dict:
    return jwt.decode(token, options={"verify_signature": False})


def test_root_links_and_unauthenticated_discovery(api: Api) -> None:
    root = requests.get(api.url + "/", timeout=10).json()["links"]
    assert root["self"]["href"] == api.url
    assert root["cloud_controller_v3"]["href"] == api.url + "/v3"
    assert root["uaa"]["href"] == root["login"]["href"] == api.url + "/uaa"
    v3 = requests.get(api.url + "/v3", timeout=10).json()
    assert v3["links"]["spaces"]["href"] == api.url + "/v3/spaces"
    assert requests.get(api.url + "/v3/info", timeout=10).status_code == 200


def test_cf_password_grant_response_and_claims(api: Api) -> None:
    r = requests.post(api.url + "/uaa/oauth/token", headers={"Authorization": "Basic Y2Y6"}, timeout=10,
                      data={"grant_type": "password", "username": "admin@example.com",
                            "password": "sim-admin-password"})
    assert r.status_code == 200
    body = r.json()
    assert body["token_type"] == "bearer" and body["expires_in"] == 1199
    assert {"access_token", "refresh_token", "scope", "jti"} <= set(body)
    claims = _claims(body["access_token"])
    assert claims["user_name"] == "admin@example.com" and claims["origin"] == "uaa" and claims["zid"] == "uaa"
    assert claims["client_id"] == "cf" and "cloud_controller" in claims["aud"]
    assert "cloud_controller.read" in claims["scope"] and "cloud_controller.write" in claims["scope"]
    assert claims["exp"] - claims["iat"] == 1199
    assert body["scope"] == " ".join(claims["scope"])


def test_cf_token_errors(api: Api) -> None:
    token_url = api.url + "/uaa/oauth/token"
    wrong = requests.post(token_url, auth=("cf", ""), timeout=10,
                          data={"grant_type": "password", "username": "admin@example.com", "password": "x"})
    assert wrong.status_code == 401
    assert wrong.json() == {"error": "unauthorized", "error_description": "Bad credentials"}  # as the real UAA
    assert "WWW-Authenticate" in wrong.headers
    bad_client = requests.post(token_url, auth=("nobody", "x"), data={"grant_type": "password"}, timeout=10)
    assert bad_client.status_code == 401 and bad_client.json()["error"] == "unauthorized"
    query = requests.post(token_url + "?grant_type=password", auth=("cf", ""), timeout=10)
    assert query.status_code == 406 and query.json()["error"] == "query_string_not_allowed"
    get = requests.get(token_url, timeout=10)
    assert get.status_code == 405 and get.json()["error"] == "method_not_allowed"
    refresh = requests.post(token_url, auth=("cf", ""), timeout=10,
                            data={"grant_type": "refresh_token", "refresh_token": "garbage"})
    assert refresh.status_code == 401 and refresh.json()["error"] == "invalid_token"


def test_cf_refresh_grant(api: Api) -> None:
    first = requests.post(api.url + "/uaa/oauth/token", auth=("cf", ""), timeout=10,
                          data={"grant_type": "password", "username": "admin@example.com",
                                "password": "sim-admin-password"}).json()
    r = requests.post(api.url + "/uaa/oauth/token", auth=("cf", ""), timeout=10,
                      data={"grant_type": "refresh_token", "refresh_token": first["refresh_token"]})
    assert r.status_code == 200
    assert api.cf("GET", "/v3/organizations", token=r.json()["access_token"]).status_code == 200
    # A refresh token is not an access token.
    assert api.cf("GET", "/v3/organizations", token=first["refresh_token"]).status_code == 401


def test_cf_bearer_checks(api: Api) -> None:
    missing = requests.get(api.url + "/v3/organizations", timeout=10)
    assert missing.status_code == 401
    assert cf_error(missing) == {"detail": "Authentication error", "title": "CF-NotAuthenticated",
                                 "code": 10002}
    bad = api.cf("GET", "/v3/organizations", token="not-a-jwt")
    assert bad.status_code == 401 and cf_error(bad)["code"] == 1000
    assert cf_error(bad)["title"] == "CF-InvalidAuthToken"
    # A token of another issuer (the cis XSUAA zone) is not a CF token.
    assert api.cf("GET", "/v3/organizations", token=api.cis_token).status_code == 401


def test_expired_cf_token(api: Api) -> None:
    api.config(token_seconds=0)
    token = api.password_token("admin@example.com", "sim-admin-password")
    for _ in range(2):  # the second read finds the signature checked already: the expiry still refuses it
        r = api.cf("GET", "/v3/organizations", token=token)
        assert r.status_code == 401 and cf_error(r)["code"] == 1000


def test_a_token_read_again_is_still_checked_for_revocation(api: Api) -> None:
    token = api.password_token("admin@example.com", "sim-admin-password")
    assert [api.cf("GET", "/v3/organizations", token=token).status_code for _ in range(2)] == [200, 200]
    assert requests.post(api.url + "/_sim/tokens/expire", timeout=10).status_code == 204
    assert api.cf("GET", "/v3/organizations", token=token).status_code == 401
    tampered = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    assert api.cf("GET", "/v3/organizations", token=tampered).status_code == 401


def test_cis_client_credentials_token(api: Api) -> None:
    uaa = api.info["cis_key"]["uaa"]
    assert uaa["url"] == api.url + "/xsuaa/acme-ga" and uaa["identityzone"] == "acme-ga"
    r = requests.post(uaa["url"] + "/oauth/token", auth=(uaa["clientid"], uaa["clientsecret"]), timeout=10,
                      data={"grant_type": "client_credentials"})
    assert r.status_code == 200
    body = r.json()
    assert "refresh_token" not in body and body["token_type"] == "bearer"
    claims = _claims(body["access_token"])
    assert claims["zid"] == uaa["identityzoneid"] and claims["ext_attr"]["zdn"] == "acme-ga"
    assert claims["client_id"] == claims["cid"] == uaa["clientid"]
    assert set(claims["scope"]) == {
        "cis-central!b14.global-account.subaccount.read", "cis-central!b14.global-account.subaccount.update",
        "cis-central!b14.global-account.entitlement.read",
        "cis-central!b14.global-account.entitlement.subaccount.update", "cis-central!b14.job.read"}
    # client_id/client_secret form fields work too
    form = requests.post(uaa["url"] + "/oauth/token", timeout=10,
                         data={"grant_type": "client_credentials", "client_id": uaa["clientid"],
                               "client_secret": uaa["clientsecret"]})
    assert form.status_code == 200


def test_xsuaa_errors(api: Api) -> None:
    uaa = api.info["cis_key"]["uaa"]
    bad = requests.post(uaa["url"] + "/oauth/token", auth=(uaa["clientid"], "wrong"), timeout=10,
                        data={"grant_type": "client_credentials"})
    assert bad.status_code == 401
    assert bad.json() == {"error": "unauthorized", "error_description": "Bad credentials"}
    assert "WWW-Authenticate" in bad.headers
    password = requests.post(uaa["url"] + "/oauth/token", auth=(uaa["clientid"], uaa["clientsecret"]),
                             data={"grant_type": "password", "username": "admin@example.com",
                                   "password": "sim-admin-password"}, timeout=10)
    assert password.status_code == 401  # the default cis key is client_credentials only
    assert requests.get(uaa["url"] + "/oauth/token", timeout=10).status_code == 405
    query = requests.post(uaa["url"] + "/oauth/token?grant_type=client_credentials", timeout=10,
                          auth=(uaa["clientid"], uaa["clientsecret"]))
    assert query.status_code == 406
    unknown_zone = requests.post(api.url + "/xsuaa/nowhere/oauth/token", data={"grant_type": "x"}, timeout=10)
    assert unknown_zone.status_code == 404


def test_cf_client_credentials_for_landscape_clients() -> None:
    data = yaml.safe_load(DEFAULT_LANDSCAPE.read_text())
    data["cf_clients"] = [{"client_id": "ci-bot", "client_secret": "ci-secret"}]
    data["subaccounts"][0]["cf_org"]["roles"]["organization_manager"].append("ci-bot")
    with Simulator(landscape=data, job_seconds=0) as sim:
        token_url = sim.url + "/uaa/oauth/token"
        r = requests.post(token_url, auth=("ci-bot", "ci-secret"), data={"grant_type": "client_credentials"},
                          timeout=10)
        assert r.status_code == 200 and "refresh_token" not in r.json()
        claims = _claims(r.json()["access_token"])
        assert claims["client_id"] == "ci-bot" and "user_id" not in claims
        orgs = requests.get(sim.url + "/v3/organizations", timeout=10,
                            headers={"Authorization": f"bearer {r.json()['access_token']}"}).json()
        assert [o["name"] for o in orgs["resources"]] == ["acme-cloudalm"]
        wrong = requests.post(token_url, auth=("ci-bot", "nope"), data={"grant_type": "client_credentials"},
                              timeout=10)
        assert wrong.status_code == 401
        cf_cc = requests.post(token_url, auth=("cf", ""), data={"grant_type": "client_credentials"},
                              timeout=10)
        assert cf_cc.status_code == 401


def test_tokens_are_rs256_and_verify_with_their_zones_token_keys(api: Api) -> None:
    cf_token = api.password_token("admin@example.com", "sim-admin-password")
    header = jwt.get_unverified_header(cf_token)
    assert header["alg"] == "RS256" and header["jku"] == api.url + "/uaa/token_keys" and header["kid"]
    (cf_key,) = requests.get(header["jku"], timeout=10).json()["keys"]
    assert jwt.decode(cf_token, jwt.PyJWK(cf_key).key, algorithms=["RS256"],
                      options={"verify_aud": False})["zid"] == "uaa"
    uaa = api.info["cis_key"]["uaa"]
    cis = requests.post(uaa["url"] + "/oauth/token", auth=(uaa["clientid"], uaa["clientsecret"]), timeout=10,
                        data={"grant_type": "client_credentials"}).json()["access_token"]
    assert jwt.get_unverified_header(cis)["jku"] == uaa["url"] + "/token_keys"
    # the cis key's verificationkey is its zone's public key, as the zone's token keys say
    jwt.decode(cis, uaa["verificationkey"], algorithms=["RS256"], options={"verify_aud": False})
    (zone_key,) = requests.get(uaa["url"] + "/token_keys", timeout=10).json()["keys"]
    assert zone_key["value"] == uaa["verificationkey"]
    assert requests.get(api.url + "/token_keys", params={"zid": uaa["identityzoneid"]},
                        timeout=10).json()["keys"] == [zone_key]
    assert requests.get(api.url + "/xsuaa/nowhere/token_keys", timeout=10).status_code == 404


def test_a_zone_made_to_sign_with_a_wrong_key(api: Api) -> None:
    uaa = api.info["cis_key"]["uaa"]
    own_kid = jwt.get_unverified_header(api.cis_token)["kid"]
    switch = api.url + "/_sim/xsuaa/acme-ga/signing-key"
    assert requests.get(switch, timeout=10).json() == {"zone": "acme-ga", "key": "own"}
    assert requests.put(switch, json={"key": "other"}, timeout=10).status_code == 400
    assert requests.put(api.url + "/_sim/xsuaa/nowhere/signing-key", json={"key": "own"},
                        timeout=10).status_code == 404
    assert requests.put(switch, json={"key": "foreign"}, timeout=10).json()["key"] == "foreign"
    forged = requests.post(uaa["url"] + "/oauth/token", auth=(uaa["clientid"], uaa["clientsecret"]), timeout=10,
                           data={"grant_type": "client_credentials"}).json()["access_token"]
    assert jwt.get_unverified_header(forged)["kid"] == own_kid
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(forged, uaa["verificationkey"], algorithms=["RS256"], options={"verify_aud": False})
    # the simulated APIs refuse it as well
    accounts = api.info["cis_key"]["endpoints"]["accounts_service_url"] + "/accounts/v1/subaccounts"
    for _ in range(2):  # refused on every request, not only the first
        assert requests.get(accounts, headers={"Authorization": f"Bearer {forged}"}, timeout=10).status_code == 401
    requests.put(switch, json={"key": "own"}, timeout=10)
    assert api.btp("GET", "accounts", "/accounts/v1/subaccounts").status_code == 200
