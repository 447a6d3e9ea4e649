"""``key rotate`` with a grace period, ``key retire`` and ``rotation.grace``: the new key is made, tested and
downloaded beside the old one, both sign in until the old one is retired; SAP's generated binding is rotated only
when ``--include-foreign`` names it; an instance-secret key changes nothing."""

from __future__ import annotations

import json
import shutil

import pytest
import requests
from conftest import cli, steps_of
from test_subaccount_eras import generated_binding, initech, sm_state
from test_subaccount_route import subaccount_playbook

GENERATED_INSTANCE = "SAP Cloud ALM API"


def signs_in(path) -> bool:
    return cli("key", "test", path).exit_code == 0


def age(landscape, days: float, names: list[str] | None = None) -> None:
    body = {"days": days, **({"names": names} if names is not None else {})}
    requests.post(landscape.url + "/_sim/age", json=body, timeout=10).raise_for_status()


def test_the_generated_binding_is_rotated_only_when_named_and_both_sign_in_until_retired(landscape):
    pb = initech(landscape)
    key_file = landscape.dir / "keys" / "initech-cloudalm.json"
    assert cli("run", pb).exit_code == 0
    binding = generated_binding(landscape)
    old_copy = landscape.dir / "old.json"
    shutil.copy(key_file, old_copy)

    status = cli("key", "status", pb)
    assert status.exit_code == 0, status.output
    assert binding in status.stdout and "generated with the tenant" in status.stdout

    landscape.clear_journal()
    out = cli("key", "rotate", pb)
    assert out.exit_code == 1
    assert f"--include-foreign {binding}" in out.output and "nothing was changed" in out.output
    assert "instance cloudalm-api not found" not in out.output
    assert landscape.writes() == []

    out = cli("key", "rotate", pb, "--include-foreign", binding)
    assert out.exit_code == 0, out.output
    assert f"plan: create {binding}-" in out.stdout and "test service key" in out.stdout
    assert f"kept {binding}" in out.stdout and "key retire" in out.stdout
    assert "upload" in out.stdout and "delete the old key" not in out.stdout  # nothing was deleted yet
    names = sm_state(landscape)[GENERATED_INSTANCE]
    new = next(n for n in names if n.startswith(binding + "-"))
    assert {binding, new, "S4H_100_00"} == set(names)
    assert json.loads(key_file.read_text()) != json.loads(old_copy.read_text())
    assert signs_in(key_file) and signs_in(old_copy)

    again = cli("run", pb)  # a plain run finds the new binding, keeps the old one (no rotation.grace)
    assert again.exit_code == 0, again.output
    assert steps_of(again.stdout)["key"] == "unchanged" and f"keeps {binding}" in again.stdout
    assert signs_in(old_copy)

    assert cli("key", "retire", pb).exit_code == 2  # no terminal, no --yes
    out = cli("key", "retire", pb, "--yes")
    assert out.exit_code == 0, out.output
    assert f"retire {binding}: replaced by {new}" in out.stdout
    assert set(sm_state(landscape)[GENERATED_INSTANCE]) == {new, "S4H_100_00"}
    assert signs_in(key_file) and not signs_in(old_copy)
    final = cli("run", pb)
    assert final.exit_code == 0, final.output
    assert "S4H_100_00" in sm_state(landscape)[GENERATED_INSTANCE]


def test_rotate_keeps_the_old_key_and_a_run_retires_it_after_the_grace_period(landscape):
    pb = landscape.playbook(**{"rotation": {"grace": "7d"}})
    assert cli("run", pb).exit_code == 0
    old_copy = landscape.dir / "old.json"
    shutil.copy(landscape.key_path, old_copy)
    out = cli("key", "rotate", pb)
    assert out.exit_code == 0, out.output
    assert "rotation.grace (7d)" in out.stdout
    assert signs_in(landscape.key_path) and signs_in(old_copy)
    landscape.clear_journal()
    before = cli("run", pb)
    assert before.exit_code == 0 and steps_of(before.stdout)["key"] == "unchanged"
    assert "(rotation.grace)" in before.stdout and landscape.writes() == []
    age(landscape, 8)
    after = cli("run", pb)
    assert after.exit_code == 0, after.output
    assert steps_of(after.stdout)["key"] == "updated" and "rotation.grace has passed" in after.stdout
    assert signs_in(landscape.key_path) and not signs_in(old_copy)


def test_rotate_retire_deletes_the_old_key_after_the_new_one_works(landscape):
    pb = subaccount_playbook(landscape)
    assert cli("run", pb).exit_code == 0
    old_copy = landscape.dir / "old.json"
    shutil.copy(landscape.key_path, old_copy)
    landscape.clear_journal()
    no_tty = cli("key", "rotate", pb, "--retire")  # asks first: without a terminal, refused before any write
    assert no_tty.exit_code == 2 and "pass --yes" in no_tty.output and landscape.writes() == []
    out = cli("key", "rotate", pb, "--retire", "--yes")
    assert out.exit_code == 0, out.output
    assert "delete service key cloudalm-api-key" in out.stdout and "delete the old key" in out.stdout
    assert signs_in(landscape.key_path) and not signs_in(old_copy)


def test_rotate_on_an_instance_secret_key_changes_nothing_and_offers_migration(landscape):
    landscape.config(instance_secret_cutoff="2999-01-01")
    pb = landscape.playbook(**{"service.credential_type": "instance-secret"})
    assert cli("run", pb).exit_code == 0
    landscape.clear_journal()
    out = cli("key", "rotate", pb)
    assert out.exit_code == 0, out.output
    assert "nothing was created or deleted" in out.stdout and "key migrate" in out.stdout
    assert landscape.writes() == []


@pytest.mark.parametrize("name", ["SAP Cloud ALM API"])
def test_a_name_with_spaces_pins_the_generated_instance_but_is_never_created(landscape, name):
    pb = initech(landscape, **{"steps.instance.name": name})
    out = cli("run", pb)
    assert out.exit_code == 0, out.output
    assert cli("key", "status", pb).exit_code == 0
    made = landscape.playbook("made.yaml", **{"steps.instance.name": name})
    out = cli("validate", made)
    assert out.exit_code == 2
    assert "contains spaces" in out.output and "would create it" in out.output
