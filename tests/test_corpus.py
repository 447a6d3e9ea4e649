"""The bad-input corpus (tests/corpus/): every bad playbook and key file fails with exit code 2 and exactly the one
line of tests/corpus/expected.yaml on stderr; nothing on stdout, never a traceback.

Playbooks go through `provisioner validate`, except ``run-*.yaml`` (secret references are resolved by `run`, before
any API call: the simulator must see no request); key files through `provisioner key check FILE --tenant
acme-cloudalm`. Cases that are binary, not UTF-8, too big, too deep, directories or missing are created here, in a
temporary directory at the same relative path, instead of being committed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import cli

ROOT = Path(__file__).resolve().parent.parent
CORPUS = Path("tests/corpus")
PLAYBOOKS = CORPUS / "playbooks"
KEYS = CORPUS / "keys"
EXPECTED: dict[str, str] = yaml.safe_load((ROOT / CORPUS / "expected.yaml").read_text("utf-8"))

# a valid playbook (validate passes) that the generated cases spoil
BASE = """version: 1
tenant:
  subdomain: acme-cloudalm
  provisioned: 2023-03-01
  purposes: [monitoring]
btp:
  subaccount: acme-cloudalm
  cis_key: {file: keys/cis-key.json}
cf:
  api: https://api.cf.eu10.hana.ondemand.com
  org: acme-cloudalm
  username: {env: CF_USERNAME}
  password: {env: CF_PASSWORD}
steps:
  space:
    name: cloudalm
    developers: [admin@example.com]
  instance:
    name: cloudalm-api
  key:
    name: cloudalm-api-key
  download:
    path: keys/acme-cloudalm.json
"""
DIRECTORY, MISSING = "<directory>", "<missing>"

GENERATED: dict[str, bytes | str] = {
    # playbooks
    f"{PLAYBOOKS}/binary.yaml": b"version: 1\n\x00\x01\x02\x03 not text\n",
    f"{PLAYBOOKS}/utf-16.yaml": BASE.encode("utf-16"),
    f"{PLAYBOOKS}/not-utf-8.yaml": BASE.replace("admin@example.com", "j\u00f6rg@example.com").encode("latin-1"),
    f"{PLAYBOOKS}/oversized.yaml": (BASE + ("# padding\n" * 30_000)).encode(),
    f"{PLAYBOOKS}/control-character.yaml": BASE.replace("org: acme-cloudalm", "org: acme\x07cloudalm").encode(),
    f"{PLAYBOOKS}/nested-20000-levels.yaml": (BASE + "extra: " + "[" * 20_000 + "]" * 20_000 + "\n").encode(),
    f"{PLAYBOOKS}/a-directory.yaml": DIRECTORY,
    f"{PLAYBOOKS}/no-such-playbook.yaml": MISSING,
    # key files
    f"{KEYS}/binary.json": b'{"uaa": {"clientid": "sb-x\x00"}}\n',
    f"{KEYS}/not-utf-8.json": '{\n  "uaa": {\n    "identityzone": "m\u00fcnchen"\n  }\n}\n'.encode("latin-1"),
    f"{KEYS}/oversized.json": ('{"uaa": {"padding": "' + "x" * (1024 * 1024) + '"}}\n').encode(),
    f"{KEYS}/nested-20000-levels.json": ('{"a": ' * 20_000 + "1" + "}" * 20_000 + "\n").encode(),
    f"{KEYS}/a-directory.json": DIRECTORY,
    f"{KEYS}/no-such-key.json": MISSING,
    f"{KEYS}/plain-file": b"{}\n",
    f"{KEYS}/plain-file/key.json": MISSING,  # a path through a file: "Not a directory"
}


def committed() -> list[str]:
    files = sorted((ROOT / PLAYBOOKS).iterdir()) + sorted((ROOT / KEYS).iterdir())
    return [str(f.relative_to(ROOT)) for f in files if f.is_file()]


def command(rel: str) -> list[str]:
    if rel.startswith(str(KEYS) + "/"):
        return ["key", "check", rel, "--tenant", "acme-cloudalm"]
    return ["run" if Path(rel).name.startswith("run-") else "validate", rel]


def assert_bad_input(rel: str, out) -> None:
    assert "Traceback" not in out.output, out.output
    assert out.stdout == "", out.stdout
    assert out.stderr == EXPECTED[rel] + "\n"
    assert out.exit_code == 2


@pytest.fixture
def corpus_env(monkeypatch):
    for name in list(os.environ):
        if name.startswith("PROVISIONER_CORPUS_UNSET"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("PROVISIONER_CORPUS_EMPTY", "")


def test_every_case_has_its_expected_line():
    cases = set(committed()) | {rel for rel, content in GENERATED.items() if rel != f"{KEYS}/plain-file"}
    assert cases == set(EXPECTED)
    assert all(isinstance(v, str) and v.startswith("error: ") and "\n" not in v for v in EXPECTED.values())
    playbooks = [c for c in cases if c.startswith(str(PLAYBOOKS))]
    assert len(playbooks) >= 25 and len(cases) - len(playbooks) >= 8


@pytest.mark.parametrize("rel", [c for c in committed() if not Path(c).name.startswith("run-")])
def test_committed_case(rel, monkeypatch, corpus_env):
    monkeypatch.chdir(ROOT)
    assert_bad_input(rel, cli(*command(rel)))


@pytest.mark.parametrize("rel", [c for c in committed() if Path(c).name.startswith("run-")])
def test_unset_secret_stops_run_before_any_api_call(rel, landscape, monkeypatch, corpus_env):
    monkeypatch.chdir(ROOT)
    info = landscape.sim.info()
    monkeypatch.setenv("PROVISIONER_CORPUS_CF_API", landscape.url)
    monkeypatch.setenv("PROVISIONER_CORPUS_CIS_KEY", json.dumps(info["cis_key"]))
    monkeypatch.setenv("PROVISIONER_CORPUS_CF_USERNAME", info["cf_username"])
    monkeypatch.setenv("PROVISIONER_CORPUS_CF_PASSWORD", info["cf_password"])
    landscape.clear_journal()
    out = cli(*command(rel))
    assert_bad_input(rel, out)
    assert landscape.journal() == []
    assert info["cf_password"] not in out.output


def make_generated(base: Path) -> None:
    for rel, content in GENERATED.items():
        path = base / rel
        if content == MISSING:
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        if content == DIRECTORY:
            path.mkdir()
        elif isinstance(content, bytes):
            path.write_bytes(content)


@pytest.mark.parametrize("rel", [rel for rel in GENERATED if rel != f"{KEYS}/plain-file"])
def test_generated_case(rel, tmp_path, monkeypatch, corpus_env):
    make_generated(tmp_path)
    monkeypatch.chdir(tmp_path)
    assert_bad_input(rel, cli(*command(rel)))


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_unreadable_key_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    key = Path("key.json")
    key.write_text("{}")
    key.chmod(0)
    out = cli("key", "check", str(key), "--tenant", "acme-cloudalm")
    assert out.exit_code == 2
    assert out.stderr == "error: key.json: cannot read the key file (permission denied); check its mode\n"


@pytest.mark.parametrize("rel", [f"{PLAYBOOKS}/duplicate-key-nested.yaml", f"{PLAYBOOKS}/alias-bomb.yaml",
                                 f"{KEYS}/trailing-comma.json", f"{PLAYBOOKS}/nested-20000-levels.yaml"])
def test_same_line_from_the_real_entry_point(rel, tmp_path):
    """`python -m provisioner` (typer's own exception handling, a real process): the same single line."""
    make_generated(tmp_path)
    cwd = tmp_path if rel in GENERATED else ROOT
    env = {k: v for k, v in os.environ.items() if not k.startswith("PROVISIONER_CORPUS")}
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    proc = subprocess.run([sys.executable, "-m", "provisioner", *command(rel)], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2, proc.stderr
    assert proc.stdout == ""
    assert proc.stderr == EXPECTED[rel] + "\n"
