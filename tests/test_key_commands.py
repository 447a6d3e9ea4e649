"""`provisioner key check` and `key test` on the formats users have: the cockpit's download (bare JSON),
``{"credentials": ...}`` and the text `cf service-key` prints."""

from __future__ import annotations

import json

import pytest
from conftest import cli


@pytest.fixture
def key(landscape):
    assert cli("run", landscape.playbook()).exit_code == 0
    return json.loads(landscape.key_path.read_text())


@pytest.mark.parametrize("shape", ["bare", "credentials", "cf-service-key"])
def test_key_check_accepts_each_format(landscape, key, tmp_path, shape):
    text = {
        "bare": json.dumps(key),
        "credentials": json.dumps({"credentials": key}),
        "cf-service-key": "Getting key cloudalm-api-key for service instance cloudalm-api as admin...\n\n"
                          + json.dumps({"credentials": key}, indent=2) + "\n",
    }[shape]
    f = tmp_path / f"{shape}.txt"
    f.write_text(text)
    out = cli("key", "check", f, "--tenant", "acme-cloudalm")
    assert out.exit_code == 0, out.output
    assert [line[:4] for line in out.stdout.splitlines()[:4]] == ["pass"] * 4


def test_key_check_reports_each_failure(key, tmp_path):
    bad = json.loads(json.dumps(key))
    bad["uaa"]["credential-type"] = "binding-secret"
    del bad["uaa"]["clientsecret"]
    f = tmp_path / "bad.json"
    f.write_text(json.dumps(bad))
    out = cli("key", "check", f, "--tenant", "other-tenant")
    assert out.exit_code == 1
    assert "FAIL  uaa.identityzone is the tenant's: uaa.identityzone is 'acme-cloudalm', expected 'other-tenant'" \
        in out.stdout
    assert "FAIL  uaa.clientid and uaa.clientsecret present: missing: uaa.clientsecret" in out.stdout
    assert "FAIL  uaa.credential-type: 'binding-secret' (expected instance-secret)" in out.stdout
    assert "1/4 checks passed" in out.stdout


def test_binding_secret_accepted_when_asked(key, tmp_path):
    k = json.loads(json.dumps(key))
    k["uaa"]["credential-type"] = "binding-secret"
    f = tmp_path / "k.json"
    f.write_text(json.dumps(k))
    out = cli("key", "check", f, "--tenant", "acme-cloudalm", "--credential-type", "binding-secret")
    assert out.exit_code == 0, out.output


def test_malformed_key_file_is_bad_input(tmp_path):
    f = tmp_path / "k.json"
    f.write_text('{"uaa": {"clientid": "x",}}')
    out = cli("key", "check", f, "--tenant", "t")
    assert out.exit_code == 2
    assert out.stderr.startswith(f"error: {f}:1:")
    assert "not valid JSON" in out.stderr


def test_key_test_with_a_wrong_secret_fails_without_printing_it(key, tmp_path):
    k = json.loads(json.dumps(key))
    k["uaa"]["clientsecret"] = "wrong-secret-canary"
    f = tmp_path / "k.json"
    f.write_text(json.dumps(k))
    out = cli("key", "test", f)
    assert out.exit_code == 1
    assert "FAIL  sign in" in out.stdout
    assert "wrong-secret-canary" not in out.output
    assert key["uaa"]["clientsecret"] not in out.output
