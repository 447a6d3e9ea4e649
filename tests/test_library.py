"""The library API: ``provisioner.load_playbook``, ``plan``, ``run``, ``Simulator``; a cheap ``import provisioner``
that never loads the simulator; the README's "Use from Python" example, run as it stands."""

from __future__ import annotations

import importlib
import logging
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import provisioner

ROOT = Path(__file__).resolve().parent.parent


def readme_example() -> str:
    section = (ROOT / "README.md").read_text().split("## Use from Python", 1)[1]
    found = re.search(r"```python\n(.*?)```", section, re.S)
    assert found, "README: no python block under 'Use from Python'"
    return found.group(1)


def test_the_readme_example_runs(tmp_path):
    (tmp_path / "playbooks").mkdir()
    shutil.copy(ROOT / "playbooks" / "demo.yaml", tmp_path / "playbooks" / "demo.yaml")
    proc = subprocess.run([sys.executable, "-c", readme_example()], cwd=tmp_path, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("acme-cloudalm ok [('space', 'created'), ('entitlement', 'created')"), proc.stdout
    assert (tmp_path / ".demo" / "keys" / "acme-cloudalm.json").exists()


def test_import_is_cheap_and_never_loads_the_simulator():
    code = ("import sys, provisioner; print(sorted(m for m in sys.modules if m.split('.')[0] in "
            "('requests', 'pydantic', 'urllib3', 'yaml', 'rich', 'jsonschema') or m.startswith('provisioner.')))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "['provisioner.errors']"


def test_the_api_is_declared_and_resolves():
    assert set(provisioner.__all__) >= {"load_playbook", "run", "plan", "Simulator", "BadInput", "RunResult"}
    for name in provisioner.__all__:
        assert getattr(provisioner, name) is not None, name
    with pytest.raises(AttributeError):
        _ = provisioner.nothing_here  # type: ignore[attr-defined]
    # the first module that logs gives the package logger its handler
    importlib.import_module("provisioner.clients.http")
    assert any(isinstance(h, logging.NullHandler) for h in logging.getLogger("provisioner").handlers)
    assert (ROOT / "provisioner" / "py.typed").exists()


def test_load_plan_and_run_from_python(landscape):
    pbs = provisioner.load_playbook(landscape.playbook())
    assert [pb.tenant.subdomain for pb in pbs] == ["acme-cloudalm"]
    planned = provisioner.plan(pbs[0])
    assert planned[0].has_changes and landscape.writes() == []
    done = provisioner.run(str(landscape.playbook()))
    assert done[0].ok and [s.action for s in done[0].steps][:5] == ["created"] * 5
    assert not provisioner.plan(pbs)[0].has_changes


def test_bad_input_is_raised_before_anything_runs(landscape, monkeypatch):
    with pytest.raises(provisioner.BadInput, match=r"steps\.instance\.name"):
        provisioner.load_playbook(landscape.playbook(**{"steps.instance.name": "no spaces allowed"}))
    monkeypatch.delenv("CF_PASSWORD")
    with pytest.raises(provisioner.BadInput, match="CF_PASSWORD"):
        provisioner.run(landscape.playbook())
    assert landscape.writes() == []


def test_help_and_version_load_no_http_stack_and_no_simulator():
    """`provisioner --help` / `--version` / `run --help` stay fast: commands import what they need when they run
    (typer itself brings pydantic for a command's help, so that one is not counted)."""
    code = ("import sys\nfrom provisioner.cli.app import app\n"
            "for args in (['--help'], ['--version'], ['run', '--help'], ['schema', '--help']):\n"
            "    try:\n        app(args, prog_name='provisioner')\n    except SystemExit:\n        pass\n"
            "print(sorted({m.split('.')[0] if not m.startswith('provisioner.') else m for m in sys.modules} & "
            "{'requests', 'urllib3', 'jsonschema', 'yaml', 'werkzeug', 'provisioner.sim', 'provisioner.engine.runner', "
            "'provisioner.fleet.reports', 'provisioner.playbook.load'}), file=sys.stderr)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert proc.stderr.strip().splitlines()[-1] == "[]", proc.stderr
