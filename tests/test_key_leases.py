"""One writer per key file: two runs (two processes) of two tenants with one key path, two tenants of one run,
revoke during rotate, and a lease path that cannot be used (issue 18: "Outputs clobber inputs", "Races in key
life")."""

from __future__ import annotations

import os
import subprocess
import sys
import threading

from conftest import cli, steps_of
from hostile import ScriptedServer, _forward
from test_converge import admin_cf, the_instance
from test_eras import tenant_playbook
from test_subaccount_route import admin_sm, our_instances, subaccount_playbook

from provisioner.keylife import lifecycle
from provisioner.keylife import rotation as rotating
from provisioner.playbook import load as playbook


def _one_line(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    assert len(lines) == 1, text
    return lines[0]


def test_two_runs_of_two_tenants_with_one_key_path_the_second_fails_naming_the_holder(landscape):
    """A run (another process) of acme holds keys/shared.json while it creates its key; a run of globex with the
    same download path fails at once with one line naming the path and the holder, sends nothing; acme's run ends
    with its own complete key in the file, which `key check` passes."""
    shared = landscape.dir / "keys" / "shared.json"
    reached, release = threading.Event(), threading.Event()

    def script(method, path, body, headers):  # a transparent double that holds acme's key create until released
        if method == "POST" and path.startswith("/v3/service_credential_bindings"):
            reached.set()
            release.wait(60)
        status, hdrs, data = _forward(method, landscape.url + path, headers, body)
        return status, {k: v.replace(landscape.url, double.url) for k, v in hdrs.items()}, \
            data.replace(landscape.url.encode(), double.url.encode())

    with ScriptedServer(landscape.url, script) as double:
        acme = landscape.playbook("acme.yaml", **{"cf.api": double.url, "steps.download.path": str(shared)})
        globex = tenant_playbook(landscape, "globex-cloudalm", "2023-03-01", ["monitoring"], "cloudalm-api",
                                 "cloudalm-api-key", **{"steps.download.path": str(shared)})
        first = subprocess.Popen([sys.executable, "-m", "provisioner", "run", str(acme)],
                                 env={**os.environ, **landscape.env}, stdout=subprocess.PIPE,
                                 stderr=subprocess.STDOUT, text=True)
        try:
            assert reached.wait(60), "the first run never created its key"
            before = len(landscape.journal())
            second = cli("run", globex)
            assert len(landscape.journal()) == before  # the second run sent nothing
        finally:
            release.set()
            out = first.communicate(timeout=120)[0]
    assert second.exit_code == 1, second.output
    failed = [line for line in second.stdout.splitlines() if " run " in line and "failed" in line]
    assert len(failed) == 1 and f"{shared}: this key file is being written for another tenant by pid {first.pid} " \
                                 "on host " in failed[0], second.stdout
    assert "(`provisioner run " in failed[0] and "/acme.yaml`, tenant acme-cloudalm, since " in failed[0]
    assert "give each tenant its own steps.download.path" in failed[0]
    assert first.returncode == 0, out
    assert cli("key", "check", shared, "--tenant", "acme-cloudalm").exit_code == 0


def test_two_tenants_with_one_key_file_in_one_run_are_refused_before_any_request(landscape):
    """Two playbooks of one run whose download paths differ as spelled but are one file (a folder linked to
    another): one line, exit 2 (plan: 1), nothing requested."""
    (landscape.dir / "keys").mkdir()
    os.symlink(landscape.dir / "keys", landscape.dir / "alias")
    acme = landscape.playbook("acme.yaml", **{"steps.download.path": str(landscape.dir / "keys" / "k.json")})
    globex = tenant_playbook(landscape, "globex-cloudalm", "2023-03-01", ["monitoring"], "cloudalm-api",
                             "cloudalm-api-key", **{"steps.download.path": str(landscape.dir / "alias" / "k.json")})
    landscape.clear_journal()
    for command, code in (("run", 2), ("plan", 1)):
        out = cli(command, acme, globex)
        assert out.exit_code == code and out.stdout == "", out.output
        assert "steps.download.path of tenant globex-cloudalm is also that of tenant acme-cloudalm" in \
            _one_line(out.stderr)
    assert landscape.journal() == []


def test_revoke_during_a_rotation_waits_for_its_lease_and_then_revokes_the_new_key(landscape):
    """Subaccount route (binding-secret): revoke while a rotation holds the key file's lease waits, saying who
    holds it, then deletes the key the rotation made; "can no longer sign in" is then true of the file."""
    path = subaccount_playbook(landscape)
    assert cli("run", path).exit_code == 0
    pb = playbook.load(path)
    inside, waiting, go = threading.Event(), threading.Event(), threading.Event()
    rotated: list[str] = []
    revoked: list[str] = []
    errors: list[BaseException] = []

    def rotation_say(line: str) -> None:
        rotated.append(line)
        if line.startswith("create service key"):
            inside.set()
            assert go.wait(60)

    def revoke_say(line: str) -> None:
        revoked.append(line)
        if "lease is held by" in line:
            waiting.set()

    def rotate() -> None:
        try:
            rotating.rotate(pb, rotation_say)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    def revoke() -> None:
        try:
            lifecycle.revoke(pb, lambda names: True, revoke_say)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    rotation = threading.Thread(target=rotate)
    rotation.start()
    assert inside.wait(60)
    revocation = threading.Thread(target=revoke)
    revocation.start()
    try:
        assert waiting.wait(60), revoked
    finally:
        go.set()
        rotation.join(60)
        revocation.join(60)
    assert errors == []
    assert revoked[0].startswith(f"{pb.download_path}: the key file's lease is held by pid {os.getpid()} on host ")
    assert "(`provisioner key rotate " in revoked[0] and "/playbook.yaml`, tenant acme-cloudalm, since " in revoked[0]
    assert revoked[0].endswith("; waiting for it at most 1800 s")
    new = next(line.split()[-1] for line in rotated if line.startswith("create service key "))
    assert f"delete service key {new}" in revoked  # what the rotation made is revoked too
    assert any("can no longer sign in" in line for line in revoked)
    sm = admin_sm(landscape)
    assert [b for i in our_instances(sm) for b in sm.bindings(i["id"])] == []
    assert cli("key", "test", pb.download_path).exit_code == 1  # true: the file's key no longer signs in


def test_a_held_lease_is_waited_for_at_most_the_timeout_then_one_line_names_the_holder(landscape):
    path = landscape.playbook()
    assert cli("run", path).exit_code == 0
    pb = playbook.load(path)
    inside, go = threading.Event(), threading.Event()

    def hold(line: str) -> None:
        if line.startswith("create service key"):
            inside.set()
            assert go.wait(60)

    rotation = threading.Thread(target=lambda: rotating.rotate(pb, hold))
    rotation.start()
    try:
        assert inside.wait(60)
        out = cli("revoke", path, "--yes", "--timeout", "0.2")
    finally:
        go.set()
        rotation.join(60)
    assert out.exit_code == 1, out.output
    assert f"the key file's lease is held by pid {os.getpid()}" in out.stdout  # the line said while waiting
    assert _one_line(out.stderr).startswith(f"error: {pb.download_path}: the key file's lease is still held by pid ")
    assert "after 0.2 s; retry when it ends (or raise --timeout)" in out.stderr
    assert len(admin_cf(landscape).list_keys(the_instance(admin_cf(landscape))["guid"])) == 2  # old + new: none revoked


def test_a_lease_path_that_is_a_directory_is_one_line(landscape):
    path = landscape.playbook()
    assert cli("run", path).exit_code == 0
    lease = landscape.key_path.parent / f".{landscape.key_path.name}.lease"
    lease.unlink()
    lease.mkdir()
    landscape.clear_journal()
    for args in (("key", "rotate", path), ("revoke", path, "--yes")):
        out = cli(*args)
        assert (out.exit_code, out.stdout) == (2, ""), out.output
        assert _one_line(out.stderr) == f"error: {lease}: the lease file of {landscape.key_path} is a directory; " \
                                        f"remove it (it only records who holds the lease of {landscape.key_path}) " \
                                        "or choose another steps.download.path"
    run = cli("run", path)
    assert (run.exit_code, run.stdout) == (2, ""), run.output
    assert f"{lease} (the lease file of {landscape.key_path}) is not a regular file; remove it" in \
        _one_line(run.stderr)
    assert landscape.journal() == []
    assert lease.is_dir()
    lease.rmdir()
    again = cli("run", path)
    assert again.exit_code == 0 and steps_of(again.stdout)["download"] == "unchanged"
