"""Secrets never leave, whatever a server echoes (issue 18, item 3): token endpoints and an API that answer 400 or
401 echoing what was sent (the password in ``errors[0].code``, the raw form body in ``error_description`` or as
text/plain, the form as JSON, the ``Authorization`` header), in ``run`` (with ``--report``, ``--junit`` and
``--verbose``), ``plan``, ``doctor`` and ``key test``: no form of the secret (raw, URL-encoded both ways, JSON-escaped,
base64 of ``clientid:clientsecret``, the bearer token) is in stdout, stderr, the report, the JUnit file or the log."""

from __future__ import annotations

import base64
import json
import logging
from urllib.parse import parse_qsl, quote, quote_plus

import pytest
from conftest import cli
from hostile import LandscapeDouble

#: a secret whose forms all differ: raw, URL-encoded (%20 and +), JSON-escaped, HTML-escaped
SECRET = 'Pw d/"q\\é+&=%<x>9Zq'


def forms(secret: str, client_id: str | None = None) -> list[str]:
    """The forms of ``secret`` a server may echo (and, with ``client_id``, the Basic pair's base64)."""
    out = {secret, quote(secret, safe=""), quote_plus(secret), json.dumps(secret)[1:-1],
           json.dumps(secret, ensure_ascii=False)[1:-1], quote(secret, safe="").lower()}
    if client_id is not None:
        out.add(base64.b64encode(f"{client_id}:{secret}".encode()).decode())
    return sorted(out)


def echo(form: str, status: int = 400):
    """A token endpoint's answer echoing the request in the way ``form`` names."""
    def answer(body: bytes, headers: dict[str, str]):
        raw = body.decode("utf-8", "replace")
        if form == "code":
            password = dict(parse_qsl(raw)).get("password") or dict(parse_qsl(raw)).get("client_secret") or raw
            data = {"errors": [{"code": password, "title": "CF-Echo", "detail": "refused"}]}
        elif form == "description":
            data = {"error": "invalid_request", "error_description": f"cannot parse {raw}"}
        elif form == "form-json":
            data = {"error": "invalid_request", "error_description": "got " + json.dumps(dict(parse_qsl(raw)))}
        elif form == "authorization":
            data = {"error": "invalid_client", "error_description": f"header {headers.get('Authorization')}"}
        else:  # text/plain: the raw body, and the header
            return status, {"Content-Type": "text/plain"}, f"{raw} {headers.get('Authorization')}".encode()
        return status, {"Content-Type": "application/json"}, json.dumps(data).encode()
    return answer


FORMS = ("code", "description", "form-json", "authorization", "text")


def assert_nowhere(secrets: list[str], *texts: str) -> None:
    for text in texts:
        for secret in secrets:
            assert secret not in text, (secret, text[:3000])


@pytest.fixture
def cis_secret_key(landscape):
    """The cis key through a double, its client secret :data:`SECRET`."""
    def make(double):
        key = double.cis_key(landscape.sim.info())
        key["uaa"]["clientsecret"] = SECRET
        path = landscape.dir / "cis-double.json"
        path.write_text(json.dumps(key))
        return path, key["uaa"]["clientid"]
    return make


@pytest.mark.parametrize("form", FORMS)
def test_cf_uaa_echo_of_the_password_in_run_plan_and_doctor(landscape, monkeypatch, caplog, form):
    monkeypatch.setenv("CF_PASSWORD", SECRET)
    answer = echo(form, 401 if form == "authorization" else 400)

    def script(method, path, body, headers):
        return answer(body, headers) if path.startswith("/uaa/oauth/token") else None

    with LandscapeDouble(landscape.url, script) as double:
        pb = landscape.playbook(cf__api=double.url)
        report, junit = landscape.dir / "report.json", landscape.dir / "junit.xml"
        with caplog.at_level(logging.DEBUG, logger="provisioner"):
            run = cli("run", pb, "--report", report, "--junit", junit, "--verbose")
            plan = cli("plan", pb)
            doctor = cli("doctor", pb, "--verbose")
    assert run.exit_code == 1 and plan.exit_code == 1 and doctor.exit_code == 1, run.output
    assert "sign-in" in run.stdout and "sign-in" in plan.stdout
    secrets = forms(SECRET, "cf")
    assert_nowhere(secrets, run.output, plan.output, doctor.output, report.read_text(), junit.read_text(),
                   caplog.text)
    if form != "authorization":  # the password travels in the form; the header is the cf CLI's public client
        assert "***" in run.output and "***" in report.read_text() and "***" in junit.read_text()
    assert "unexpected" not in run.output + plan.output + doctor.output


@pytest.mark.parametrize("form", FORMS)
def test_cis_xsuaa_echo_of_the_client_secret_in_run_and_doctor(landscape, cis_secret_key, caplog, form):
    def script(method, path, body, headers):
        return echo(form)(body, headers) if path.startswith("/xsuaa/acme-ga/oauth/token") else None

    with LandscapeDouble(landscape.url, script) as double:
        cis, client_id = cis_secret_key(double)
        pb = landscape.playbook(cf__api=double.url, btp__cis_key={"file": str(cis)})
        report, junit = landscape.dir / "report.json", landscape.dir / "junit.xml"
        with caplog.at_level(logging.DEBUG, logger="provisioner"):
            run = cli("run", pb, "--report", report, "--junit", junit, "--verbose")
            doctor = cli("doctor", pb)
    assert run.exit_code == 1 and doctor.exit_code == 1, run.output
    secrets = forms(SECRET, client_id)
    assert_nowhere(secrets, run.output, doctor.output, report.read_text(), junit.read_text(), caplog.text)
    if form in ("authorization", "text"):  # client credentials: the secret travels in the Basic header only
        assert "***" in run.output + doctor.output  # what was echoed is shown, without the secret


@pytest.mark.parametrize("form", FORMS)
def test_key_xsuaa_echo_of_the_key_secret_in_key_test(landscape, form):
    key = {"uaa": {"clientid": "sb-echo!b1", "clientsecret": SECRET, "url": "", "identityzone": "acme-cloudalm"},
           "endpoints": {"Api": ""}}

    def script(method, path, body, headers):
        return echo(form, 401)(body, headers) if path.endswith("/oauth/token") else None

    with LandscapeDouble(landscape.url, script) as double:
        key["uaa"]["url"] = double.url + "/xsuaa/acme-cloudalm"
        path = landscape.dir / "key.json"
        path.write_text(json.dumps(key))
        out = cli("key", "test", path, "--verbose")
    assert out.exit_code == 1
    assert "FAIL  sign in (client credentials)" in out.stdout
    assert_nowhere(forms(SECRET, "sb-echo!b1"), out.output)


def test_an_api_echoing_the_bearer_token_never_shows_it(landscape, caplog):
    """``GET /v3/organizations`` answering 400 with the request's ``Authorization: bearer ...`` in its detail."""
    tokens: list[str] = []

    def script(method, path, body, headers):
        if path.startswith("/v3/organizations"):
            tokens.append(headers.get("Authorization", "").split(" ", 1)[-1])
            detail = f"bad header {headers.get('Authorization')}; token {json.dumps(tokens[-1])}"
            return 400, {"Content-Type": "application/json"}, json.dumps(
                {"errors": [{"code": 10001, "title": "CF-Echo", "detail": detail}]}).encode()
        return None

    with LandscapeDouble(landscape.url, script) as double:
        pb = landscape.playbook(cf__api=double.url)
        report, junit = landscape.dir / "report.json", landscape.dir / "junit.xml"
        with caplog.at_level(logging.DEBUG, logger="provisioner"):
            run = cli("run", pb, "--report", report, "--junit", junit, "--verbose")
    assert run.exit_code == 1
    assert tokens and all(len(t) > 100 for t in tokens)
    assert "bad header bearer ***" in run.stdout
    assert_nowhere(tokens, run.output, report.read_text(), junit.read_text(), caplog.text)


def test_a_secret_echoed_in_a_job_location_is_not_logged(landscape, caplog, monkeypatch):
    """A 202 whose ``Location`` carries the password (same origin, so followed): ``--verbose`` logs the URL
    without it."""
    monkeypatch.setenv("CF_PASSWORD", landscape.env["CF_PASSWORD"])
    password = landscape.env["CF_PASSWORD"]

    def script(method, path, body, headers):
        if method == "POST" and path == "/v3/service_instances":
            return 202, {"Location": f"{double.url}/v3/jobs/{password}"}, b""
        return None

    with LandscapeDouble(landscape.url, script) as double:
        with caplog.at_level(logging.DEBUG, logger="provisioner"):
            run = cli("run", landscape.playbook(cf__api=double.url), "--verbose")
    assert run.exit_code == 1
    assert "/v3/jobs/***" in caplog.text
    assert_nowhere([password], run.output, caplog.text)
