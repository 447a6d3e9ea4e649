"""The key's life: rotate and revoke."""

from __future__ import annotations

import json

from conftest import cli
from test_converge import admin_cf, the_instance


def test_rotate_creates_tests_and_replaces_then_deletes_the_old_key(landscape):
    pb = landscape.playbook()
    assert cli("run", pb).exit_code == 0
    out = cli("key", "rotate", pb)
    assert out.exit_code == 0, out.output
    assert "test service key cloudalm-api-key-" in out.stdout
    assert "delete service key cloudalm-api-key\n" in out.stdout
    assert "Landscape Management" in out.stdout

    cf = admin_cf(landscape)
    names = [k["name"] for k in cf.list_keys(the_instance(cf)["guid"])]
    assert len(names) == 1 and names[0].startswith("cloudalm-api-key-")
    # instance-secret: every key of the instance shares its secret, so the file's content stays the same
    assert "(unchanged)" in out.stdout and "the client secret does not change" in out.stdout
    assert cli("key", "check", landscape.key_path, "--tenant", "acme-cloudalm").exit_code == 0

    # the rotated key is the playbook's key from now on: a run changes nothing
    landscape.clear_journal()
    again = cli("run", pb)
    assert again.exit_code == 0, again.output
    assert landscape.writes() == []


def test_revoke_needs_yes_without_a_terminal(landscape):
    pb = landscape.playbook()
    assert cli("run", pb).exit_code == 0
    out = cli("revoke", pb)
    assert out.exit_code == 2
    assert "pass --yes" in out.stderr
    cf = admin_cf(landscape)
    assert len(cf.list_keys(the_instance(cf)["guid"])) == 1


def test_revoke_deletes_the_key_and_prints_the_caution(landscape):
    pb = landscape.playbook()
    assert cli("run", pb).exit_code == 0
    secret = json.loads(landscape.key_path.read_text())["uaa"]["clientsecret"]
    out = cli("revoke", pb, "--yes")
    assert out.exit_code == 0, out.output
    assert "delete service key cloudalm-api-key" in out.stdout
    assert "deleting it in BTP does not delete the copy uploaded there" in out.stdout
    assert "the secret stays valid while instance cloudalm-api exists" in out.stdout
    assert secret not in out.output
    cf = admin_cf(landscape)
    assert cf.list_keys(the_instance(cf)["guid"]) == []
