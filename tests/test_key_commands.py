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


FORMS = {
    "bare": lambda key: json.dumps(key),
    "credentials": lambda key: json.dumps({"credentials": key}),
    "cf-service-key": lambda key: "Getting key cloudalm-api-key for service instance cloudalm-api as admin...\n\n"
                                  + json.dumps({"credentials": key}, indent=2) + "\n",
}


def test_key_check_passes_the_downloaded_key(landscape, key):
    out = cli("key", "check", landscape.key_path, "--tenant", "acme-cloudalm")
    assert out.exit_code == 0, out.output
    assert [line[:4] for line in out.stdout.splitlines()[:4]] == ["pass"] * 4


@pytest.mark.parametrize("shape", ["credentials", "cf-service-key"])
def test_key_check_refuses_what_landscape_management_refuses(key, tmp_path, shape):
    """The wrapper and `cf service-key` text are read (key test, key export) but are not what Landscape
    Management uploads: the first check fails and says how to get the bare object."""
    f = tmp_path / f"{shape}.txt"
    f.write_text(FORMS[shape](key))
    out = cli("key", "check", f, "--tenant", "acme-cloudalm")
    assert out.exit_code == 1, out.output
    lines = out.stdout.splitlines()
    assert lines[0].startswith("FAIL  valid JSON: ")
    assert lines[0].endswith("; run `provisioner key export FILE --for landscape-management -o OUT` to write the "
                             "bare object")
    assert [line[:4] for line in lines[1:4]] == ["pass"] * 3
    exported = tmp_path / "bare.json"
    assert cli("key", "export", f, "-o", exported).exit_code == 0
    assert cli("key", "check", exported, "--tenant", "acme-cloudalm").exit_code == 0


@pytest.mark.parametrize("shape", sorted(FORMS))
def test_key_test_reads_each_format(key, tmp_path, shape):
    f = tmp_path / f"{shape}.txt"
    f.write_text(FORMS[shape](key))
    out = cli("key", "test", f)
    assert out.exit_code == 0, out.output
    assert key["uaa"]["clientsecret"] not in out.output


def test_key_check_reports_each_failure(key, tmp_path):
    bad = json.loads(json.dumps(key))
    bad["uaa"]["credential-type"] = "some-secret"
    del bad["uaa"]["clientsecret"]
    f = tmp_path / "bad.json"
    f.write_text(json.dumps(bad))
    out = cli("key", "check", f, "--tenant", "other-tenant")
    assert out.exit_code == 1
    assert "FAIL  uaa.identityzone is the tenant's: uaa.identityzone is 'acme-cloudalm', expected 'other-tenant'" \
        in out.stdout
    assert "FAIL  uaa.clientid and uaa.clientsecret present: missing: uaa.clientsecret" in out.stdout
    assert "FAIL  uaa.credential-type: 'some-secret' (expected binding-secret or instance-secret)" in out.stdout
    assert "1/4 checks passed" in out.stdout


def test_either_type_landscape_management_takes_passes_unless_one_is_insisted_on(key, tmp_path):
    for kind in ("binding-secret", "instance-secret"):
        k = json.loads(json.dumps(key))
        k["uaa"]["credential-type"] = kind
        f = tmp_path / f"{kind}.json"
        f.write_text(json.dumps(k))
        assert cli("key", "check", f, "--tenant", "acme-cloudalm").exit_code == 0
        assert cli("key", "check", f, "--tenant", "acme-cloudalm", "--credential-type", kind).exit_code == 0
        other = "instance-secret" if kind == "binding-secret" else "binding-secret"
        insisted = cli("key", "check", f, "--tenant", "acme-cloudalm", "--credential-type", other)
        assert insisted.exit_code == 1 and f"FAIL  uaa.credential-type: '{kind}' (expected {other})" in insisted.stdout
    bad = cli("key", "check", f, "--tenant", "acme-cloudalm", "--credential-type", "secret")
    assert bad.exit_code == 2 and "use binding-secret, instance-secret or x509" in bad.stderr


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
