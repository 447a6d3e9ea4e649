"""What is at the download path before the key is written (issue 22): a file this tool did not write for this
tenant is never replaced without --force, on a first run too; a symbolic link is never written through. (A file
holding an older key of this tenant, after the key was created again, is still replaced: test_subaccount_route's
test_a_binding_deleted_outside_is_created_again; a directory there: test_out_paths.)"""

from __future__ import annotations

import json
import os

from conftest import cli, steps_of

OTHER = {"uaa": {"clientid": "sb-other!b1", "clientsecret": "other-secret", "identityzone": "globex-cloudalm",
                 "credential-type": "instance-secret", "url": "http://127.0.0.1:9"}}


def download_line(out) -> str:
    lines = [line for line in out.stdout.splitlines() if " download " in f" {line} "]
    assert len(lines) == 1, out.stdout
    return lines[0]


def test_another_tenants_key_on_a_first_run_is_kept_unless_force(landscape):
    landscape.key_path.parent.mkdir(parents=True)
    landscape.key_path.write_text(json.dumps(OTHER))
    pb = landscape.playbook()
    out = cli("run", pb)
    assert out.exit_code == 1, out.output
    assert steps_of(out.stdout)["download"] == "failed"
    assert f"{landscape.key_path}: the file differs from service key 'cloudalm-api-key': it holds a key of identity " \
           "zone 'globex-cloudalm', not of tenant acme-cloudalm; kept it. Re-run with --force to replace it (the " \
           "old file is then kept as a .bak beside it)" in download_line(out)
    assert json.loads(landscape.key_path.read_text()) == OTHER

    forced = cli("run", pb, "--force")
    assert forced.exit_code == 0, forced.output
    assert steps_of(forced.stdout)["download"] == "updated"
    assert json.loads(landscape.key_path.read_text())["uaa"]["identityzone"] == "acme-cloudalm"
    backups = list(landscape.key_path.parent.glob("acme-cloudalm.json.*.bak"))
    assert len(backups) == 1 and json.loads(backups[0].read_text()) == OTHER


def test_a_file_that_is_no_key_is_kept_unless_force(landscape):
    landscape.key_path.parent.mkdir(parents=True)
    landscape.key_path.write_text("ssh-ed25519 AAAA... me@laptop\n")
    out = cli("run", landscape.playbook())
    assert out.exit_code == 1, out.output
    assert "differs from service key 'cloudalm-api-key': it holds no bare key object (not a key this tool wrote); " \
           "kept it. Re-run with --force" in download_line(out)
    assert landscape.key_path.read_text() == "ssh-ed25519 AAAA... me@laptop\n"


def test_a_symbolic_link_is_kept_unless_force_which_replaces_the_link_and_leaves_its_target(landscape):
    other = landscape.dir / "other.json"
    other.write_text(json.dumps(OTHER))
    landscape.key_path.parent.mkdir(parents=True)
    os.symlink(other, landscape.key_path)
    pb = landscape.playbook()
    plan = cli("plan", pb)
    assert f"{landscape.key_path} is a symbolic link to {other}, not a key file this tool wrote; --force replaces " \
           "the link itself (what it points to is left untouched), else it is kept" in download_line(plan)
    out = cli("run", pb)
    assert out.exit_code == 1, out.output
    assert f"{landscape.key_path}: is a symbolic link to {other}, not a key file this tool wrote; kept it. Re-run " \
           "with --force to replace the link itself with the key file (what it points to is left untouched)" \
           in download_line(out)
    assert landscape.key_path.is_symlink()

    forced = cli("run", pb, "--force")
    assert forced.exit_code == 0, forced.output
    steps = steps_of(forced.stdout)
    assert (steps["download"], steps["check"], steps["test"]) == ("updated", "passed", "passed")
    assert f"--force: replaced the symbolic link {landscape.key_path} with the key file; {other}, which it " \
           "pointed to, is left untouched" in download_line(forced)
    assert not landscape.key_path.is_symlink()
    assert json.loads(other.read_text()) == OTHER  # the link's target: never written
    assert not list(landscape.dir.rglob("*.bak"))  # nothing was lost, so nothing kept
    assert cli("key", "check", landscape.key_path, "--tenant", "acme-cloudalm").exit_code == 0
    again = cli("run", pb)
    assert again.exit_code == 0 and steps_of(again.stdout)["download"] == "unchanged"
