"""Typed reading of answers (issue 18, item 5), end to end over HTTP: a malformed 200 answer of each endpoint the
client reads (truncated or empty JSON, a list or a string where an object belongs, wrong field types, deep nesting)
is one line naming the request and the field, exit code 1 (README "Exit codes"), never "unexpected <Error>";
``expires_in`` out of range is clamped (no token storm); key files of the wrong field types are one line, exit 2."""

from __future__ import annotations

import json
import re

import pytest
from conftest import cli
from hostile import LandscapeDouble

DEEP = b"[" * 100_000 + b"]" * 100_000

# (id, route: cf | subaccount, command: run | plan (after a converged run) | key-test, method, path pattern,
#  status of the malformed answer, its body, what the line must name)
CASES = [
    ("cf-root", "cf", "run", "GET", r"/$", 200, b"[]", "answered a malformed CF root document: the answer: not an"),
    ("cf-uaa-token", "cf", "run", "POST", r"/uaa/oauth/token$", 200, b'{"access_token": 5}',
     "/uaa/oauth/token answered a malformed token answer: access_token: not a string"),
    ("cf-uaa-token-truncated", "cf", "run", "POST", r"/uaa/oauth/token$", 200, b'{"access_token": "eyJ',
     "/uaa/oauth/token answered a malformed token answer: not JSON"),
    ("cf-uaa-token-empty", "cf", "run", "POST", r"/uaa/oauth/token$", 200, b"",
     "/uaa/oauth/token answered a malformed token answer: empty, not JSON"),
    ("cf-uaa-expires-soon", "cf", "run", "POST", r"/uaa/oauth/token$", 200,
     b'{"access_token": "x", "expires_in": "soon"}', "token answer: expires_in: not a number"),
    ("cf-uaa-expires-list", "cf", "run", "POST", r"/uaa/oauth/token$", 200,
     b'{"access_token": "x", "expires_in": [3600]}', "token answer: expires_in: not a number"),
    ("organizations", "cf", "run", "GET", r"/v3/organizations\?", 200, b'{"resources": [{"guid": ["x"]}]}',
     "/v3/organizations answered a malformed organization list: resources.0.guid: not a string"),
    ("organizations-deep", "cf", "run", "GET", r"/v3/organizations\?", 200, DEEP,
     "/v3/organizations answered a malformed organization list: nested too deep"),
    ("spaces", "cf", "run", "GET", r"/v3/spaces\?", 200, b'{"resources": "cloudalm"}',
     "/v3/spaces answered a malformed space list: resources: not a list"),
    ("space-created", "cf", "run", "POST", r"/v3/spaces$", 201, b'{"guid": null, "name": "cloudalm"}',
     "/v3/spaces answered a malformed space: guid: not a string"),
    ("plans", "cf", "run", "GET", r"/v3/service_plans\?", 200, b'{"resources": [{"name": "standard"}]}',
     "/v3/service_plans answered a malformed service plan list: resources.0.guid: missing"),
    ("instances", "cf", "run", "GET", r"/v3/service_instances\?", 200, b'{"pagination": {"next": 5}}',
     "/v3/service_instances answered a malformed service instance list: pagination.next: not an object"),
    ("jobs", "cf", "run", "GET", r"/v3/jobs/", 200, b'{"state": 5}', "answered a malformed job: state: not a string"),
    ("details", "cf", "run", "GET", r"/details$", 200, b'{"credentials": {"uaa": {"uaadomain": ["x"]}}}',
     "/details answered a malformed service key's details: credentials.uaa.uaadomain: not a string"),
    ("key-token", "cf", "run", "POST", r"/xsuaa/acme-cloudalm/oauth/token$", 200, b'"a token"',
     "/xsuaa/acme-cloudalm/oauth/token answered a malformed token answer: the answer: not an object"),
    ("cis-token", "cf", "run", "POST", r"/xsuaa/acme-ga/oauth/token$", 200, b'{"access_token": ""}',
     "/xsuaa/acme-ga/oauth/token answered a malformed token answer: access_token: empty"),
    ("subaccounts", "cf", "run", "GET", r"/accounts/v1/subaccounts$", 200, b'{"value": {"guid": "x"}}',
     "/accounts/v1/subaccounts answered a malformed subaccount list: value: not a list"),
    ("assignments", "cf", "run", "GET", r"/entitlements/v1/assignments\?", 200,
     b'{"assignedServices": [{"servicePlans": [{"assignmentInfo": [{"entityState": 1}]}]}]}',
     "answered a malformed entitlement assignment list: assignedServices.0.servicePlans.0.assignmentInfo.0.entit"),
    ("roles", "cf", "plan", "GET", r"/v3/roles\?", 200, b'{"included": {"users": [{"username": 7}]}}',
     "/v3/roles answered a malformed role list: included.users.0.username: not a string"),
    ("keys", "cf", "plan", "GET", r"/v3/service_credential_bindings\?", 200, b'{"resources": [{"guid": "../x"}]}',
     "/v3/service_credential_bindings answered a malformed service key list: resources.0.guid: not an id"),
    ("sm-binding", "subaccount", "run", "GET", r"/serviceManagerBindings/provisioner$", 200,
     b'{"clientid": "x", "url": "https://x"}',
     "/serviceManagerBindings/provisioner answered a malformed Service Manager binding: clientsecret: missing"),
    ("sm-offerings", "subaccount", "run", "GET", r"/sm/v1/service_offerings\?", 200, b'{"items": [{"id": 5}]}',
     "/sm/v1/service_offerings answered a malformed service offering list: items.0.id: not a string"),
    ("sm-plans", "subaccount", "run", "GET", r"/sm/v1/service_plans\?", 200, b'{"items": [{}], "token": 1}',
     "/sm/v1/service_plans answered a malformed service plan list: items.0.id: missing; token: not a string"),
    ("sm-instances", "subaccount", "run", "GET", r"/sm/v1/service_instances\?", 200,
     b'{"items": [{"id": "a b"}]}', "answered a malformed service instance list: items.0.id: not an id"),
    ("sm-operation", "subaccount", "run", "GET", r"/sm/v1/service_instances/[^/]+/operations/", 200,
     b'{"state": ["failed"]}', "answered a malformed operation: state: not a string"),
    ("sm-binding-credentials", "subaccount", "run", "GET", r"/sm/v1/service_bindings/[^/?]+$", 200,
     b'{"id": "x", "credentials": []}', "answered a malformed service binding: credentials: not an object"),
    ("calm-api", "cf", "key-test", "GET", r"/calm-projects/v1/projects", 200, b'"projects"',
     "/calm-projects/v1/projects answered a malformed Cloud ALM API answer: the answer: not an object or not a list"),
]


def _converged(landscape, route: str):
    pb = landscape.playbook(**({"cf": None} if route == "subaccount" else {}))
    assert cli("run", pb).exit_code == 0
    return pb


def through(landscape, route: str, script):
    """A double answering ``script``; → (the double, the playbook naming it)."""
    double = LandscapeDouble(landscape.url, script)
    cis = landscape.dir / "cis-double.json"
    cis.write_text(json.dumps(double.cis_key(landscape.sim.info())))
    extra = {"cf": None} if route == "subaccount" else {"cf__api": double.url}
    return double, landscape.playbook("double.yaml", btp__cis_key={"file": str(cis)}, **extra)


def error_lines(output: str, names: str) -> list[str]:
    """The lines saying which answer was malformed (``names`` in it): one, or one per step that needed the answer,
    all the same error; none says "unexpected"."""
    assert "unexpected" not in output and "Traceback" not in output, output
    found = [line for line in output.splitlines() if "answered a malformed" in line]
    assert found, output
    assert len({line[line.index("answered a malformed"):] for line in found}) == 1, output
    assert all(names in line and len(line) < 500 for line in found), (names, found)
    return found


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_a_malformed_answer_is_one_line_and_exit_1(landscape, case):
    _, route, command, method, pattern, status, body, names = case
    if command in ("plan", "key-test"):
        _converged(landscape, route)
    hits: list[str] = []

    def script(m, path, data, headers):
        if m == method and re.search(pattern, path):
            hits.append(path)
            return status, {"Content-Type": "application/json"}, body
        return None

    double, pb = through(landscape, route, script)
    with double:
        if command == "key-test":
            key = json.loads(landscape.key_path.read_text())
            text = json.dumps(key).replace(landscape.url, double.url)
            (landscape.dir / "key-double.json").write_text(text)
            out = cli("key", "test", landscape.dir / "key-double.json", "--api")
        else:
            out = cli(command, pb)
    assert hits, f"the command never asked {method} {pattern}"
    assert out.exit_code == 1, out.output
    error_lines(out.output, names)


@pytest.mark.parametrize("expires_in", [10, -5, 0, 10**400, 1e308, "3600"])
def test_expires_in_out_of_range_is_clamped(landscape, expires_in):
    """A token endpoint saying its tokens live 10 s, -5 s or 10**400 s: the run asks once per client, not on
    every request (the floor is 60 s, the ceiling a day: provisioner/answers/uaa.py)."""
    def rewrite(method, path, answer):
        status, headers, data = answer
        if path.endswith("/oauth/token") and status == 200:
            text = data.decode().replace('"expires_in"', '"was"')
            return status, headers, text.replace("{", '{"expires_in": ' + json.dumps(expires_in) + ", ", 1).encode()
        return None

    double = LandscapeDouble(landscape.url, rewrite=rewrite)
    cis = landscape.dir / "cis-double.json"
    cis.write_text(json.dumps(double.cis_key(landscape.sim.info())))
    with double:
        out = cli("run", landscape.playbook(cf__api=double.url, btp__cis_key={"file": str(cis)}))
    assert out.exit_code == 0, out.output
    tokens = [p for m, p in double.seen if p.endswith("/oauth/token")]
    assert len(tokens) <= 3, tokens  # CF, the cis key, the downloaded key: once each
    assert len(double.seen) > 15


def test_a_key_file_with_a_field_of_the_wrong_type_is_one_line(landscape, tmp_path):
    """``uaa.uaadomain`` a list (key test), a 100 kB ``uaa.url`` (key test, key export), ``uaa.identityzone`` an
    object (key check): one line each, exit 2, never the whole value."""
    key = {"uaa": {"clientid": "sb-x!b1", "clientsecret": "s3cret-value", "identityzone": "acme-cloudalm",
                   "credential-type": "instance-secret", "url": "https://x.example.com", "uaadomain": ["a", "b"]},
           "endpoints": {"Api": "https://x.example.com/api"}}
    path = tmp_path / "key.json"
    path.write_text(json.dumps(key))
    out = cli("key", "test", path)
    assert out.exit_code == 2 and out.stderr.count("\n") == 1, out.output
    assert out.stderr.startswith(f"error: {path}: uaa.uaadomain: not a string;"), out.stderr
    key["uaa"].update(uaadomain="x.example.com", url="https://x.example.com/" + "u" * 100_000)
    path.write_text(json.dumps(key))
    for args in (("key", "test", path), ("key", "export", path, "--for", "alm-setup"),
                 ("key", "export", path, "-o", tmp_path / "out.json")):
        out = cli(*args)
        assert out.exit_code == 2, out.output
        assert out.stderr.startswith(f"error: {path}: uaa.url: longer than 4096 characters;"), out.stderr
        assert len(out.output) < 400
    key["uaa"].update(url="https://x.example.com", identityzone={"zone": "acme-cloudalm"})
    path.write_text(json.dumps(key))
    out = cli("key", "check", path, "--tenant", "acme-cloudalm")
    assert out.exit_code == 2 and "uaa.identityzone: not a string" in out.stderr, out.output
    assert "s3cret-value" not in out.output


def test_an_error_answer_nested_too_deep_is_one_line(landscape):
    """A 400 whose JSON body nests 100,000 deep: the error is read as text (one line), never a crash."""
    def script(method, path, data, headers):
        if path.startswith("/v3/organizations"):
            return 400, {"Content-Type": "application/json"}, DEEP
        return None

    double, pb = through(landscape, "cf", script)
    with double:
        out = cli("run", pb)
    assert out.exit_code == 1
    assert "unexpected" not in out.output
    lines = [line for line in out.output.splitlines() if "/v3/organizations -> HTTP 400" in line]
    assert lines and all(len(line) < 500 for line in lines), out.output
