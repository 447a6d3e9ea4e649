"""Key files as Landscape Management takes them: the corpus of files it refuses (tests/corpus/keys/landscape-
management/, each with its one line), `key export` turning every accepted form into a file that passes `key check`,
and the safety of the files written (regular files only, unique backups, no stale temporaries, mode 0600)."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import cli

from provisioner import safefile
from provisioner.errors import BadInput, StepFailed, cap
from provisioner.keys.keyfile import existing_key, read_key_file, write_key_file

ROOT = Path(__file__).resolve().parent.parent
LM = Path("tests/corpus/keys/landscape-management")
EXPECTED: dict[str, str] = yaml.safe_load((ROOT / LM / "expected.yaml").read_text("utf-8"))
FILES = sorted(p.name for p in (ROOT / LM).iterdir() if p.suffix != ".yaml")
SECRET = "corpus-not-a-real-secret-4f1c"
ACCEPTED = sorted(name for name, line in EXPECTED.items() if line.startswith("FAIL"))


def check(path: Path | str) -> object:
    return cli("key", "check", str(path), "--tenant", "acme-cloudalm")


def test_every_file_has_its_line():
    assert FILES == sorted(EXPECTED)
    assert all(line.startswith(("error: ", "FAIL  ")) and "\n" not in line for line in EXPECTED.values())
    assert set(ACCEPTED) >= {"wrapper-credentials.json", "cf-service-key-output.txt", "bom.json"}


@pytest.mark.parametrize("name", FILES)
def test_landscape_management_would_refuse(name, monkeypatch):
    monkeypatch.chdir(ROOT)
    out = check(LM / name)
    assert "Traceback" not in out.output and SECRET not in out.output
    line = EXPECTED[name]
    if line.startswith("error: "):  # not strict JSON: one line on stderr, nothing else
        assert (out.exit_code, out.stdout, out.stderr) == (2, "", line + "\n")
    else:  # strict JSON but not the bare object: that one check fails
        assert out.exit_code == 1 and out.stderr == ""
        assert [x for x in out.stdout.splitlines() if x.startswith("FAIL")] == [line]
        assert out.stdout.splitlines()[-1] == f"{LM / name}: 3/4 checks passed"


def test_the_bare_object_passes(tmp_path):
    key = read_key_file(ROOT / LM / "wrapper-credentials.json")
    f = tmp_path / "key.txt"
    f.write_text(json.dumps(key, indent=2))
    out = check(f)
    assert out.exit_code == 0, out.output
    assert out.stdout.splitlines()[0] == "pass  valid JSON: one bare JSON object"


@pytest.mark.parametrize("name", ACCEPTED)
def test_export_writes_a_file_that_passes(name, tmp_path):
    out_file = tmp_path / "out" / "key.txt"
    out = cli("key", "export", str(ROOT / LM / name), "--for", "landscape-management", "-o", str(out_file))
    assert out.exit_code == 0, out.output
    assert out.stdout.startswith(f"{out_file}: created (the bare key object, mode 0600)")
    assert SECRET not in out.output
    assert stat.S_IMODE(out_file.stat().st_mode) == 0o600
    passed = check(out_file)
    assert passed.exit_code == 0, passed.output
    assert passed.stdout.splitlines()[-1] == f"{out_file}: 4/4 checks passed"
    again = cli("key", "export", str(ROOT / LM / name), "-o", str(out_file))
    assert again.exit_code == 0 and again.stdout.startswith(f"{out_file}: unchanged")


@pytest.mark.parametrize("name", sorted(set(FILES) - set(ACCEPTED)))
def test_export_refuses_what_is_not_strict_json(name, tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    out = cli("key", "export", str(LM / name), "-o", str(tmp_path / "key.txt"))
    assert (out.exit_code, out.stdout, out.stderr) == (2, "", EXPECTED[name] + "\n")
    assert not (tmp_path / "key.txt").exists()


def test_export_needs_an_output_file_and_never_prints_the_key():
    out = cli("key", "export", str(ROOT / LM / "bom.json"))
    assert out.exit_code == 2
    assert out.stderr == "error: -o OUT is required: the bare key holds the client secret and is never printed\n"
    assert SECRET not in out.output


def test_export_never_overwrites_silently(tmp_path):
    src = ROOT / LM / "wrapper-credentials.json"
    out_file = tmp_path / "key.txt"
    out_file.write_text('{"uaa": {"identityzone": "older"}}\n')
    refused = cli("key", "export", str(src), "-o", str(out_file))
    assert refused.exit_code == 1
    assert "differs" in refused.stderr and "--force" in refused.stderr
    assert json.loads(out_file.read_text()) == {"uaa": {"identityzone": "older"}}
    forced = cli("key", "export", str(src), "-o", str(out_file), "--force")
    assert forced.exit_code == 0, forced.output
    assert forced.stdout.startswith(f"{out_file}: updated")
    backups = list(tmp_path.glob("key.txt.*.bak"))
    assert len(backups) == 1 and json.loads(backups[0].read_text()) == {"uaa": {"identityzone": "older"}}


def test_export_for_alm_setup_prints_the_fields_not_the_secret():
    out = cli("key", "export", str(ROOT / LM / "cf-service-key-output.txt"), "--for", "alm-setup")
    assert out.exit_code == 0, out.output
    assert out.stdout.splitlines() == [
        "token endpoint: https://acme-cloudalm.authentication.eu10.hana.ondemand.com/oauth/token",
        "root URL: https://eu10.alm.cloud.sap",
        "client ID: sb-cloudalm-api!b1004|sapcloudalm!b1",
        f"client secret: in {ROOT / LM / 'cf-service-key-output.txt'} (uaa.clientsecret)",
    ]


def test_export_for_an_unknown_target():
    out = cli("key", "export", str(ROOT / LM / "bom.json"), "--for", "landscape", "-o", "x")
    assert (out.exit_code, out.stderr) == (2, "error: --for 'landscape': use landscape-management or alm-setup\n")


# -- file safety ---------------------------------------------------------------------------------------------------

KEY = {"uaa": {"clientid": "sb-x", "clientsecret": SECRET, "identityzone": "acme-cloudalm",
               "credential-type": "instance-secret", "url": "https://acme-cloudalm.example"}}


def test_a_fifo_is_refused_without_reading(tmp_path):
    fifo = tmp_path / "key.json"
    os.mkfifo(fifo)
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    # no writer ever opens the FIFO: a blocking read would hang, and the timeout would kill it
    proc = subprocess.run([sys.executable, "-m", "provisioner", "key", "check", str(fifo), "--tenant", "t"],
                          capture_output=True, text=True, timeout=120, env=env)
    assert proc.returncode == 2
    assert proc.stderr == f"error: {fifo}: is a FIFO (named pipe), expected a key file (a regular file); save it " \
                          "to a file\n"


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/null"])
def test_a_device_is_refused(device):
    out = cli("key", "check", device, "--tenant", "t")
    assert out.exit_code == 2
    assert out.stderr == f"error: {device}: is a character device, expected a key file (a regular file); save it " \
                         "to a file\n"


def bad_paths(tmp: Path) -> dict[str, tuple[str, str]]:
    """name -> (path, the line export -o PATH prints)"""
    (tmp / "a-dir").mkdir()
    os.mkfifo(tmp / "fifo")
    (tmp / "plain").write_text("x")
    os.symlink("/dev/null", tmp / "to-null")
    os.symlink(tmp / "loop-b", tmp / "loop-a")
    os.symlink(tmp / "loop-a", tmp / "loop-b")
    long = tmp / ("k" * 256)
    return {
        "directory": (f"{tmp}/a-dir", f"{tmp}/a-dir: is a directory, not a regular file; write the key file to a "
                                      "regular file"),
        "fifo": (f"{tmp}/fifo", f"{tmp}/fifo: is a FIFO (named pipe), not a regular file; write the key file to a "
                                "regular file"),
        "device": ("/dev/null", "/dev/null: is a system path (/dev, /proc, /sys), not a regular file; write the key "
                                "file to a regular file"),
        "stdout": ("/dev/stdout", "/dev/stdout: is a system path (/dev, /proc, /sys), not a regular file; write the "
                                  "key file to a regular file"),
        "link-to-device": (f"{tmp}/to-null", f"{tmp}/to-null: is a symbolic link to /dev/null, which is a system "
                                             "path (/dev, /proc, /sys), not a regular file; write the key file to a "
                                             "regular file"),
        "parent-is-a-file": (f"{tmp}/plain/key.json", f"{tmp}/plain/key.json: cannot use this path for the key "
                                                      "file (Not a directory)"),
        "symlink-loop": (f"{tmp}/loop-a", f"{tmp}/loop-a: cannot use this path for the key file (too many levels "
                                          "of symbolic links (a loop?); fix the link)"),
        "name-too-long": (str(long), f"{long}: cannot use this path for the key file (a name in the path is over "
                                     "255 bytes; use a shorter name)"),
    }


@pytest.mark.parametrize("case", ["directory", "fifo", "device", "stdout", "link-to-device", "parent-is-a-file",
                                  "symlink-loop", "name-too-long"])
def test_a_bad_download_path_is_one_line_and_never_replaced(case, tmp_path):
    path, line = bad_paths(tmp_path)[case]
    before = os.lstat(path) if os.path.lexists(path) else None
    out = cli("key", "export", str(ROOT / LM / "bom.json"), "-o", path, "--force")
    assert (out.exit_code, out.stdout, out.stderr) == (2, "", f"error: {cap(line)}\n")  # a huge name: cut
    if before is not None:
        assert os.lstat(path).st_mode == before.st_mode
    with pytest.raises(BadInput):
        write_key_file(path, KEY, force=True, key_name="k")


def test_a_nul_in_the_path_is_one_line(tmp_path):
    with pytest.raises(BadInput, match=r"the path contains a NUL character; check it"):
        write_key_file(f"{tmp_path}/a\x00b.json", KEY, force=True, key_name="k")
    with pytest.raises(BadInput, match=r"the path contains a NUL character; check it"):
        read_key_file(f"{tmp_path}/a\x00b.json")


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into any folder")
def test_a_read_only_folder_is_one_line(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    out = cli("key", "export", str(ROOT / LM / "bom.json"), "-o", str(folder / "key.json"))
    assert out.exit_code == 2
    assert out.stderr == f"error: {folder / 'key.json'}: cannot write in {folder} (permission denied); choose " \
                         "another folder\n"


def test_a_link_is_never_written_through_force_replaces_the_link_itself(tmp_path):
    real = tmp_path / "real.json"
    write_key_file(real, {"uaa": {}}, force=False, key_name="k")
    os.symlink(real, tmp_path / "link.json")
    with pytest.raises(StepFailed, match=r"link.json: is a symbolic link to .*real.json, not a key file this tool "
                                         r"wrote; kept it. Re-run with --force to replace the link itself"):
        write_key_file(tmp_path / "link.json", KEY, force=False, key_name="k")
    assert (tmp_path / "link.json").is_symlink()
    assert write_key_file(tmp_path / "link.json", KEY, force=True, key_name="k") == "updated"
    assert not (tmp_path / "link.json").is_symlink() and json.loads((tmp_path / "link.json").read_text()) == KEY
    assert json.loads(real.read_text()) == {"uaa": {}}  # what it pointed to: untouched
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.json", "real.json"]  # no .bak: nothing was lost
    os.symlink(tmp_path / "gone.json", tmp_path / "dangling.json")  # a link to a missing file: the same
    with pytest.raises(StepFailed, match="is a symbolic link to"):
        write_key_file(tmp_path / "dangling.json", KEY, force=False, key_name="k")
    assert write_key_file(tmp_path / "dangling.json", KEY, force=True, key_name="k") == "updated"
    assert not (tmp_path / "gone.json").exists()


def test_backups_in_the_same_second_never_overwrite_each_other(tmp_path, monkeypatch):
    class SameSecond:  # every backup is named for the same second
        @staticmethod
        def gmtime():
            return (2026, 11, 30, 6, 0, 0, 0, 334, 0)

        @staticmethod
        def strftime(fmt: str, t: object) -> str:
            return "20261130T060000Z"

    monkeypatch.setattr(safefile, "time", SameSecond)
    path = tmp_path / "key.json"
    for n in range(4):
        write_key_file(path, {"uaa": {"n": n}}, force=True, key_name="k")
    backups = sorted(tmp_path.glob("key.json.*.bak*"))
    assert [b.name for b in backups] == ["key.json.20261130T060000Z.bak", "key.json.20261130T060000Z.bak.1",
                                         "key.json.20261130T060000Z.bak.2"]
    assert [json.loads(b.read_text())["uaa"]["n"] for b in backups] == [0, 1, 2]
    assert all(stat.S_IMODE(b.stat().st_mode) == 0o600 for b in backups)


def test_a_temporary_file_left_by_a_kill_is_removed_by_the_next_write(tmp_path):
    stale = tmp_path / ".key.json.k2x_9a0b.tmp"  # as mkstemp names it, left between write and rename
    stale.write_text('{"partial": ')
    other = tmp_path / ".other.json.k2x_9a0b.tmp"  # another file's: kept
    other.write_text("{}")
    assert write_key_file(tmp_path / "key.json", KEY, force=False, key_name="k") == "created"
    assert not stale.exists() and other.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == [".other.json.k2x_9a0b.tmp", "key.json"]


def test_a_matching_key_file_of_mode_0644_is_tightened_on_read(tmp_path):
    path = tmp_path / "key.json"
    write_key_file(path, KEY, force=False, key_name="k")
    path.chmod(0o644)
    assert existing_key(path) == KEY
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    path.chmod(0o644)
    assert write_key_file(path, KEY, force=False, key_name="k") == "unchanged"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_a_wrapped_key_on_disk_differs_from_the_bare_key(tmp_path):
    path = tmp_path / "key.json"
    path.write_text(json.dumps({"credentials": KEY}))
    assert existing_key(path) == {}
    assert write_key_file(path, KEY, force=True, key_name="k") == "updated"
    assert existing_key(path) == KEY


def test_tilde_is_expanded(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    assert write_key_file("~/keys/key.json", KEY, force=False, key_name="k") == "created"
    assert read_key_file("~/keys/key.json") == KEY
    assert stat.S_IMODE((tmp_path / "keys").stat().st_mode) == 0o700


def test_a_folder_we_may_not_write_in_is_one_line(tmp_path, monkeypatch):
    """As root every folder is writable: the refusal the kernel gives others is made here."""
    def refuse(*args: object, **kwargs: object) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(safefile.tempfile, "mkstemp", refuse)
    out = cli("key", "export", str(ROOT / LM / "bom.json"), "-o", str(tmp_path / "key.json"))
    assert (out.exit_code, out.stdout) == (2, "")
    assert out.stderr == f"error: {tmp_path / 'key.json'}: cannot write in {tmp_path} (permission denied); " \
                         "choose another folder\n"


def test_a_long_name_still_gets_a_temporary_file_and_its_stale_one_removed(tmp_path):
    name = "k" * 250 + ".json"  # 255 bytes: the temporary file's name is cut to fit
    stale = tmp_path / (safefile._tmp_prefix(name) + "abcd1234.tmp")
    stale.write_text("{")
    assert len(stale.name.encode()) <= 255
    assert write_key_file(tmp_path / name, KEY, force=False, key_name="k") == "created"
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]


def test_the_cis_key_and_every_other_key_text_is_read_strictly():
    from provisioner.keys.keyfile import parse_key_text

    with pytest.raises(BadInput, match=r"^cis:1:19: clientid: duplicate name \(first at line 1\); keep one"):
        parse_key_text('{"clientid": "a", "clientid": "b"}', "cis")
    with pytest.raises(BadInput, match=r"^cis:1:15: a: NaN is not valid JSON"):
        parse_key_text('{"x": 1, "a": NaN}', "cis")
    assert parse_key_text('\ufeff{"uaa": {}}', "cis") == {"uaa": {}}  # one BOM: tolerated when reading


def test_run_refuses_a_download_path_that_is_a_directory(landscape):
    folder = landscape.dir / "keys" / "acme-cloudalm.json"
    folder.mkdir(parents=True)
    out = cli("run", landscape.playbook(**{"steps.download.path": str(folder)}))
    assert out.exit_code != 0, out.output  # the run reports the tenant failed; the folder is left as it is
    assert f"{folder}: is a directory, not a regular file; write the key file to a regular file" in out.output
    assert "Traceback" not in out.output
    assert folder.is_dir() and list(folder.iterdir()) == []


def test_concurrent_writers_of_one_path_never_lose_each_others_temporaries(tmp_path):
    """Two runs downloading the same key at once: each write completes; the file holds one whole write."""
    from concurrent.futures import ThreadPoolExecutor

    from provisioner.safefile import atomic_write

    path = tmp_path / "keys" / "k.json"
    texts = [json.dumps({"n": i, "pad": "x" * 2000}) for i in range(8)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda t: [atomic_write(path, t, what="key file") for _ in range(15)], texts))
    assert path.read_text() in texts
    assert [p.name for p in path.parent.iterdir()] == ["k.json"]
