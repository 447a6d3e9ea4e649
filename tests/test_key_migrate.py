"""`provisioner key migrate`: an instance that still issues instance secrets moves to binding-secret as SAP's
"Migrate from Instance Secrets to Binding Secrets" describes; a migrated instance gets no write; never SAP's
generated credentials unless named."""

from __future__ import annotations

import json
import shutil

from conftest import cli, steps_of
from test_converge import admin_cf, the_instance
from test_eras import tenant_playbook

from provisioner.waits.wait import WaitSettings


def instance_secret_instance_with_two_keys(landscape):
    """Before XSUAA's cut-off: an instance-secret instance, its key in the file and a second key someone else made
    (an agent's); then the cut-off comes into force and the playbook asks for the default (binding-secret)."""
    landscape.config(instance_secret_cutoff="2999-01-01")
    assert cli("run", landscape.playbook(**{"service.credential_type": "instance-secret"})).exit_code == 0
    cf = admin_cf(landscape)
    guid = the_instance(cf)["guid"]
    cf.wait_job(cf.create_key(guid, "agent-key"), WaitSettings(timeout=60), "key")
    landscape.config(instance_secret_cutoff="2026-01-19")
    return landscape.playbook(), cf, guid


def test_migration_moves_an_instance_with_two_keys_to_one_tested_binding_secret_key(landscape):
    pb, cf, guid = instance_secret_instance_with_two_keys(landscape)
    old = landscape.dir / "old.json"
    shutil.copy(landscape.key_path, old)
    assert json.loads(old.read_text())["uaa"]["credential-type"] == "instance-secret"

    # plan (and run) leave the instance secret alone and say how to move off it
    plan = cli("plan", pb)
    assert plan.exit_code == 0, plan.output
    assert "still issues instance-secret credentials" in plan.stdout and "provisioner key migrate" in plan.stdout
    assert steps_of(plan.stdout)["instance"] == "no change"

    no_tty = cli("key", "migrate", pb, "--include-foreign", "agent-key")
    assert no_tty.exit_code == 2 and "pass --yes" in no_tty.stderr
    out = cli("key", "migrate", pb, "--yes", "--include-foreign", "agent-key")  # its users have new keys
    assert out.exit_code == 0, out.output
    lines = out.stdout.splitlines()
    for expected in ("  1. allow both types (credential-types [binding-secret, instance-secret])",
                     "allow binding-secret and instance-secret on instance cloudalm-api",
                     "delete service key cloudalm-api-key", "delete service key agent-key",
                     "drop instance-secret from instance cloudalm-api"):
        assert expected in lines, (expected, out.stdout)
    assert any(line.startswith("instanceSecretLastUsedAt: ") and "before the new key" in line for line in lines)
    assert "the old instance secret (and any copy of the old key file) no longer signs in" in out.stdout

    keys = cf.list_keys(guid)
    assert len(keys) == 1 and keys[0]["name"].startswith("cloudalm-api-key-2026")
    params = cf.instance_parameters(guid)
    assert params["xs-security"]["oauth2-configuration"] == {"credential-types": ["binding-secret"]}
    new = json.loads(landscape.key_path.read_text())
    assert new["uaa"]["credential-type"] == "binding-secret"
    assert cli("key", "test", landscape.key_path).exit_code == 0
    assert cli("key", "check", landscape.key_path, "--tenant", "acme-cloudalm").exit_code == 0
    failed = cli("key", "test", old)  # the instance secret stopped signing in
    assert failed.exit_code == 1 and "FAIL  sign in" in failed.stdout
    assert new["uaa"]["clientsecret"] not in out.output and json.loads(old.read_text())["uaa"]["clientsecret"] \
        not in out.output

    landscape.clear_journal()
    again = cli("key", "migrate", pb, "--yes")
    assert again.exit_code == 0, again.output
    assert "issues binding-secret credentials only: nothing to migrate" in again.stdout
    assert landscape.writes() == []
    converged = cli("run", pb)
    assert converged.exit_code == 0, converged.output
    assert landscape.writes() == []


def test_migration_never_touches_the_generated_credentials_unless_named(landscape):
    pb = tenant_playbook(landscape, "globex-cloudalm", "2023-08-01", ["monitoring"], "cloudalm-monitoring",
                         "cloudalm-monitoring-key")
    assert cli("run", pb).exit_code == 0
    landscape.clear_journal()
    out = cli("key", "migrate", pb, "--yes")
    assert out.exit_code == 1
    assert "instance cloudalm-monitoring was not made by this tool" in out.stderr
    assert "--include-foreign cloudalm-monitoring" in out.stderr
    assert landscape.writes() == []


def test_a_foreign_key_holding_the_instance_secret_stops_the_migration_before_any_write(landscape):
    pb, _, _ = instance_secret_instance_with_two_keys(landscape)
    landscape.clear_journal()
    out = cli("key", "migrate", pb, "--yes")
    assert out.exit_code == 1
    assert "also holds agent-key, not made by this tool" in out.stderr
    assert landscape.writes() == []
