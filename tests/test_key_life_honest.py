"""Honest key life: keys this tool did not make survive rotate and revoke; instance-secret revocation recreates the
instance; rotations under concurrency and after SIGKILL leave one working key."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import threading

import pytest
from conftest import cli, steps_of
from test_converge import admin_cf, the_instance
from test_eras import tenant_playbook
from test_subaccount_route import admin_sm, our_instances, subaccount_playbook

from provisioner.clients.cf import CloudFoundry
from provisioner.keylife import rotation
from provisioner.playbook import load as playbook


def keys_of(cf: CloudFoundry, org: str, instance: str) -> list[str]:
    space = cf.find_space(cf.find_org(org)["guid"], "cloudalm")
    return sorted(k["name"] for k in cf.list_keys(cf.find_instance(space["guid"], instance)["guid"]))


def test_the_generated_key_survives_rotate_and_revoke(landscape):
    pb = tenant_playbook(landscape, "globex-cloudalm", "2023-08-01", ["monitoring"], "cloudalm-monitoring",
                         "cloudalm-monitoring-key")
    assert cli("run", pb).exit_code == 0
    # SAP's key (2023) is instance-secret: a new key would not retire the instance's secret; nothing is written
    landscape.clear_journal()
    for extra in ((), ("--include-foreign", "cloudalm-monitoring-key")):
        rotated = cli("key", "rotate", pb, *extra)
        assert rotated.exit_code == 0, rotated.output
        assert "nothing was created or deleted" in rotated.stdout and "key migrate" in rotated.stdout
    assert landscape.writes() == []
    cf = admin_cf(landscape)
    assert keys_of(cf, "globex-cloudalm", "cloudalm-monitoring") == ["cloudalm-monitoring-key"]

    # nothing of this tool's is there: revoke deletes nothing, and never SAP's key without --include-foreign
    again = cli("revoke", pb, "--yes")
    assert again.exit_code == 0 and "nothing to revoke" in again.stdout
    recreate = cli("revoke", pb, "--yes", "--recreate-instance")
    assert recreate.exit_code == 1
    assert "instance cloudalm-monitoring was not made by this tool; --include-foreign" in recreate.stderr
    assert keys_of(cf, "globex-cloudalm", "cloudalm-monitoring") == ["cloudalm-monitoring-key"]


def test_revoke_recreate_instance_makes_the_old_file_fail_key_test(landscape):
    pb = landscape.playbook()
    assert cli("run", pb).exit_code == 0
    old = landscape.dir / "old.json"
    shutil.copy(landscape.key_path, old)
    assert cli("key", "test", old).exit_code == 0
    no_tty = cli("revoke", pb, "--recreate-instance")
    assert no_tty.exit_code == 2 and "pass --yes" in no_tty.stderr
    out = cli("revoke", pb, "--recreate-instance", "--yes")
    assert out.exit_code == 0, out.output
    assert out.stdout.startswith("plan: delete service key cloudalm-api-key and instance cloudalm-api (its secret")
    assert "created again with a new secret" in out.stdout
    failed = cli("key", "test", old)
    assert failed.exit_code == 1, failed.output
    assert cli("key", "test", landscape.key_path).exit_code == 0
    old_secret = json.loads(old.read_text())["uaa"]["clientsecret"]
    assert json.loads(landscape.key_path.read_text())["uaa"]["clientsecret"] != old_secret
    assert old_secret not in out.output


def test_eight_concurrent_rotations_leave_a_working_key_and_delete_no_key_of_another(landscape):
    path = landscape.playbook()
    assert cli("run", path).exit_code == 0
    pb = playbook.load(path)
    said: list[list[str]] = [[] for _ in range(8)]
    errors: list[BaseException] = []

    def rotate(i: int) -> None:
        try:
            rotation.rotate(pb, said[i].append, retire_old=True, confirm=lambda names: True)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=rotate, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    made = [line.split()[-1] for lines in said for line in lines if line.startswith("create service key ")]
    deleted = [line.split()[-1] for lines in said for line in lines if line.startswith("delete service key ")]
    assert len(set(made)) == 8 and len(deleted) == len(set(deleted)) == 8
    cf = admin_cf(landscape)
    left = [k["name"] for k in cf.list_keys(the_instance(cf)["guid"])]
    assert len(left) == 1 and left[0] in made and left[0] not in deleted
    # every key a rotation downloaded was deleted only by a later rotation, which had downloaded its own first
    assert set(deleted) == {"cloudalm-api-key", *made} - set(left)
    assert cli("key", "test", landscape.key_path).exit_code == 0


def count_keys(landscape, on_subaccount: bool) -> int:
    if on_subaccount:
        sm = admin_sm(landscape)
        return sum(len(sm.bindings(i["id"])) for i in our_instances(sm))
    cf = admin_cf(landscape)
    return len(cf.list_keys(the_instance(cf)["guid"]))


@pytest.mark.parametrize(("route", "lines_before_kill"), [("cloud-foundry", 2), ("subaccount", 4)])
def test_a_rotation_killed_midway_then_run_leaves_exactly_one_key(make_landscape, route, lines_before_kill):
    """A real ``key rotate`` process killed with SIGKILL after it printed its "create ..." or "download ..."
    line, then ``run`` and ``key retire``: one key, the one in the file, which signs in (``run`` removes a key the
    rotation made but never downloaded; the key a finished download replaced waits for ``key retire``)."""
    landscape = make_landscape()
    on_subaccount = route == "subaccount"
    pb = subaccount_playbook(landscape) if on_subaccount else landscape.playbook()
    assert cli("run", pb).exit_code == 0
    proc = subprocess.Popen([sys.executable, "-m", "provisioner", "key", "rotate", str(pb)],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert proc.stdout is not None
    for _ in range(lines_before_kill):
        proc.stdout.readline()
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    out = cli("run", pb)
    assert out.exit_code == 0, out.output
    assert cli("key", "retire", pb, "--yes").exit_code == 0
    assert count_keys(landscape, on_subaccount) == 1
    if steps_of(out.stdout)["key"] == "updated":
        assert "remove superseded generation(s)" in out.stdout and "made by this tool" in out.stdout
    assert cli("key", "test", landscape.key_path).exit_code == 0
