"""The main job end to end: a playbook takes the default tenant from nothing to a checked, tested service key,
over HTTP against the simulator; a second run changes nothing."""

from __future__ import annotations

import json
import stat

from conftest import cli, steps_of

ALL = ("space", "entitlement", "instance", "key", "download", "check", "test")


def test_fresh_tenant_then_converged_rerun(landscape):
    pb = landscape.playbook()
    first = cli("run", pb)
    assert first.exit_code == 0, first.output
    got = steps_of(first.stdout)
    assert [got[s] for s in ALL] == ["created", "created", "created", "created", "created", "passed",
                                     "passed"]
    assert "create space cloudalm in org acme-cloudalm" in first.stdout
    assert "4/4 passed" in first.stdout

    key = landscape.key_path
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    creds = json.loads(key.read_text())
    assert creds["uaa"]["identityzone"] == "acme-cloudalm"
    # XSUAA's cut-off (2026-01-19) is in force: the Cloud Foundry route asks for and gets binding-secret
    assert creds["uaa"]["credential-type"] == "binding-secret"

    landscape.clear_journal()
    second = cli("run", pb)
    assert second.exit_code == 0, second.output
    got = steps_of(second.stdout)
    assert {got[s] for s in ALL[:5]} == {"unchanged"} and got["check"] == got["test"] == "passed"
    assert landscape.writes() == []
    assert creds["uaa"]["clientsecret"] not in first.output + second.output


def test_key_file_passes_key_check_and_key_test(landscape):
    pb = landscape.playbook()
    assert cli("run", pb).exit_code == 0
    check = cli("key", "check", landscape.key_path, "--tenant", "acme-cloudalm")
    assert check.exit_code == 0, check.output
    assert "4/4 checks passed" in check.stdout
    test = cli("key", "test", landscape.key_path)
    assert test.exit_code == 0, test.output
    assert "scope imp-cdm-feature-display-ui" in test.stdout
    assert "scope imp-cdm-feature-manage-ui" in test.stdout


def test_existing_space_is_reused_and_developer_role_added(landscape):
    # a first run with nobody listed creates the space with the signed-in user only
    pb = landscape.playbook(**{"steps.space.developers": []})
    assert cli("run", pb).exit_code == 0
    pb = landscape.playbook(**{"steps.space.developers": ["admin@example.com"]})
    landscape.clear_journal()
    again = cli("run", pb)
    assert again.exit_code == 0, again.output
    assert steps_of(again.stdout)["space"] == "unchanged"
    assert landscape.writes() == []


def test_local_key_file_that_differs_is_kept_unless_force(landscape):
    pb = landscape.playbook()
    assert cli("run", pb).exit_code == 0
    key = landscape.key_path
    key.write_text('{"uaa": {"clientid": "someone-else"}}\n')
    refused = cli("run", pb)
    assert refused.exit_code == 1
    assert steps_of(refused.stdout)["download"] == "failed"
    assert "differs from service key 'cloudalm-api-key'" in refused.stdout
    assert "--force" in refused.stdout
    assert json.loads(key.read_text()) == {"uaa": {"clientid": "someone-else"}}

    forced = cli("run", pb, "--force")
    assert forced.exit_code == 0, forced.output
    assert steps_of(forced.stdout)["download"] == "updated"
    assert json.loads(key.read_text())["uaa"]["identityzone"] == "acme-cloudalm"
    backups = list(key.parent.glob("acme-cloudalm.json.*.bak"))
    assert len(backups) == 1 and "someone-else" in backups[0].read_text()
    assert stat.S_IMODE(backups[0].stat().st_mode) == 0o600


def test_plan_on_fresh_tenant_writes_nothing_and_exits_2(landscape):
    pb = landscape.playbook()
    out = cli("plan", pb)
    assert out.exit_code == 2, out.output
    plan = steps_of(out.stdout)
    assert plan["space"] == "create" and plan["entitlement"] == "create" and plan["instance"] == "create"
    assert landscape.writes() == []
    assert not landscape.key_path.exists()


def test_plan_on_converged_tenant_exits_0(landscape):
    pb = landscape.playbook()
    assert cli("run", pb).exit_code == 0
    landscape.clear_journal()
    out = cli("plan", pb)
    assert out.exit_code == 0, out.output
    assert landscape.writes() == []


def test_wrong_cf_password_fails_with_one_line_and_no_secret(landscape, monkeypatch):
    monkeypatch.setenv("CF_PASSWORD", "not-the-password-canary")
    out = cli("run", landscape.playbook())
    assert out.exit_code == 1
    assert "refused the credentials" in out.stdout
    assert "not-the-password-canary" not in out.output


def test_unset_secret_variable_is_bad_input_before_any_call(landscape, monkeypatch):
    monkeypatch.delenv("CF_PASSWORD")
    landscape.clear_journal()
    out = cli("run", landscape.playbook())
    assert out.exit_code == 2
    assert "environment variable CF_PASSWORD is not set" in out.stderr
    assert landscape.journal() == []
