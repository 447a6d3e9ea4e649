"""Credential types as XSUAA issues them since 2026-01-19 (docs/sap-facts.md §6): binding-secret requested on both
routes; instance-secret where the cut-off is not yet in force (the simulator's `instance_secret_cutoff`) and
refused after it; instance secrets valid while the instance exists (revoke), binding secrets dying with their key."""

from __future__ import annotations

import json
import shutil

from conftest import cli, steps_of
from test_converge import admin_cf, the_instance

FUTURE = "2999-01-01"


def test_with_the_cut_off_in_the_future_the_cloud_foundry_route_still_works_with_instance_secret(landscape):
    landscape.config(instance_secret_cutoff=FUTURE)
    pb = landscape.playbook(**{"service.credential_type": "instance-secret"})
    out = cli("run", pb)
    assert out.exit_code == 0, out.output
    creds = json.loads(landscape.key_path.read_text())
    assert creds["uaa"]["credential-type"] == "instance-secret"
    params = admin_cf(landscape).instance_parameters(the_instance(admin_cf(landscape))["guid"])
    assert "oauth2-configuration" not in params["xs-security"]  # as SAP's 2023 Cloud Foundry page
    assert cli("key", "check", landscape.key_path, "--tenant", "acme-cloudalm").exit_code == 0
    assert cli("key", "test", landscape.key_path).exit_code == 0
    landscape.clear_journal()
    assert cli("run", pb).exit_code == 0 and landscape.writes() == []


def test_after_the_cut_off_an_instance_secret_key_is_refused_with_the_reason(landscape):
    pb = landscape.playbook(**{"service.credential_type": "instance-secret"})
    out = cli("run", pb)
    assert out.exit_code == 1
    got = steps_of(out.stdout)
    assert got["instance"] == "created" and got["key"] == "failed"
    assert "the instance-secret credential type isn't supported anymore for new bindings and service keys" \
        in out.stdout


def test_the_check_insists_on_the_type_the_playbook_names(landscape):
    landscape.config(instance_secret_cutoff=FUTURE)
    assert cli("run", landscape.playbook(**{"service.credential_type": "instance-secret"})).exit_code == 0
    out = cli("run", landscape.playbook(**{"service.credential_type": "binding-secret"}))
    assert out.exit_code == 1
    assert "uaa.credential-type: FAILED ('instance-secret' (expected binding-secret)" in out.stdout
    # the instance still issues instance secrets: plan names SAP's migration instead of dropping them
    assert "`provisioner key migrate" in out.stdout


def test_revoke_on_an_instance_secret_instance_leaves_the_old_file_signing_in_until_recreate(landscape):
    landscape.config(instance_secret_cutoff=FUTURE)
    pb = landscape.playbook(**{"service.credential_type": "instance-secret"})
    assert cli("run", pb).exit_code == 0
    old = landscape.dir / "old.json"
    shutil.copy(landscape.key_path, old)
    out = cli("revoke", pb, "--yes")
    assert out.exit_code == 0, out.output
    assert "the secret stays valid while instance cloudalm-api exists" in out.stdout
    assert "revoke --recreate-instance" in out.stdout
    # as on BTP: the instance secret signs in while the instance exists, with no key left
    assert admin_cf(landscape).list_keys(the_instance(admin_cf(landscape))["guid"]) == []
    still = cli("key", "test", old)
    assert still.exit_code == 0, still.output
    recreated = cli("revoke", pb, "--recreate-instance", "--yes")
    assert recreated.exit_code == 0, recreated.output
    gone = cli("key", "test", old)
    assert gone.exit_code == 1 and "FAIL  sign in" in gone.stdout
    assert cli("key", "test", landscape.key_path).exit_code == 0


def test_rotating_a_binding_secret_key_kills_the_old_secret(landscape):
    pb = landscape.playbook()
    assert cli("run", pb).exit_code == 0
    old = landscape.dir / "old.json"
    shutil.copy(landscape.key_path, old)
    out = cli("key", "rotate", pb, "--retire", "--yes")
    assert out.exit_code == 0, out.output
    assert cli("key", "test", old).exit_code == 1 and cli("key", "test", landscape.key_path).exit_code == 0
