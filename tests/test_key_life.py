"""The key's life: rotate and revoke."""

from __future__ import annotations

import json

from conftest import cli
from test_converge import admin_cf, the_instance


def test_rotate_creates_tests_and_replaces_then_deletes_the_old_key(landscape):
    pb = landscape.playbook()
    assert cli("run", pb).exit_code == 0
    out = cli("key", "rotate", pb, "--retire", "--yes")
    assert out.exit_code == 0, out.output
    assert "test service key cloudalm-api-key-" in out.stdout
    assert "delete service key cloudalm-api-key\n" in out.stdout
    assert "Landscape Management" in out.stdout

    cf = admin_cf(landscape)
    names = [k["name"] for k in cf.list_keys(the_instance(cf)["guid"])]
    assert len(names) == 1 and names[0].startswith("cloudalm-api-key-")
    # binding-secret: the new key has its own secret; the file holds it (the old one kept as .bak), and the old
    # secret died with its key
    assert "(updated; the old file is kept as .bak)" in out.stdout
    assert "the client secret does not change" not in out.stdout
    assert cli("key", "check", landscape.key_path, "--tenant", "acme-cloudalm").exit_code == 0
    (old,) = landscape.key_path.parent.glob("acme-cloudalm.json.*.bak")
    assert cli("key", "test", old).exit_code == 1 and cli("key", "test", landscape.key_path).exit_code == 0

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
    assert "can no longer sign in; delete it" in out.stdout  # binding-secret: the secret died with its key
    assert cli("key", "test", landscape.key_path).exit_code == 1
    assert secret not in out.output
    cf = admin_cf(landscape)
    assert cf.list_keys(the_instance(cf)["guid"]) == []
