"""Start-up: `provisioner --help` and `provisioner validate` load only what they use (issue 12, item 4).

Each case runs the console entry point (:func:`provisioner.cli.app.main`) in a fresh interpreter, output to a pipe as
in CI, and lists the heavy modules it imported; no timing is asserted (`make bench` prints the times)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

#: what neither path needs: the HTTP stack, token checks, retries, terminal rendering, the simulator, the runner,
#: and jsonschema for a valid playbook (provisioner.playbook.schemacheck recognises it; jsonschema words errors)
NEVER = ("requests", "urllib3", "rich", "tenacity", "jwt", "cryptography", "werkzeug", "jsonschema", "referencing",
         "provisioner.sim", "provisioner.engine.runner", "provisioner.fleet.tenants", "provisioner.clients.http",
         "provisioner.steps", "provisioner.engine.eras")
#: what --help needs neither (validate reads the playbook with them)
NOT_FOR_HELP = ("pydantic", "yaml", "provisioner.playbook.load", "provisioner.playbook.model")

_PROBE = """
import json, sys
heavy = json.loads(sys.argv[2])
sys.argv = ["provisioner", *json.loads(sys.argv[1])]
from provisioner.cli.app import main
try:
    main()
except SystemExit as exc:
    code = exc.code
print(json.dumps({"code": code, "loaded": sorted({m for m in sys.modules for h in heavy
                                                   if m == h or m.startswith(h + ".")} & set(heavy))}),
      file=sys.stderr)
"""


def loaded_by(*args: str, env: dict[str, str] | None = None) -> tuple[int, list[str], str]:
    """Exit code, the modules of :data:`NEVER` and :data:`NOT_FOR_HELP` that ``provisioner ARGS`` imported, and
    its stdout."""
    heavy = [*NEVER, *NOT_FOR_HELP]
    proc = subprocess.run([sys.executable, "-c", _PROBE, json.dumps(args), json.dumps(heavy)], capture_output=True,
                          text=True, timeout=60, cwd=ROOT, env=env)
    result = json.loads(proc.stderr.strip().splitlines()[-1])
    return result["code"], result["loaded"], proc.stdout


@pytest.mark.parametrize("args", [["--help"], [], ["--version"]])
def test_help_loads_no_playbook_stack(args: list[str]) -> None:
    code, loaded, out = loaded_by(*args)
    assert code in (0, None, 2), out
    assert loaded == [], f"`provisioner {' '.join(args)}` imported {loaded}"


def test_validate_loads_only_what_reading_a_playbook_needs() -> None:
    env = {**os.environ, "CF_API": "https://api.cf.eu10.hana.ondemand.com"}
    code, loaded, out = loaded_by("validate", "playbooks/demo.yaml", env=env)
    assert code == 0 and out.startswith("playbooks/demo.yaml: valid (tenant acme-cloudalm"), out
    assert not set(loaded) & set(NEVER), f"`provisioner validate` imported {sorted(set(loaded) & set(NEVER))}"


HELP_CASES = [["--help"], [], ["--version"], ["run", "--help"], ["validate", "--help"], ["key"], ["key", "--help"],
              ["key", "check", "--help"], ["fleet", "matrix", "--help"], ["revoke", "--help"], ["nope"], ["valdate"],
              ["key", "nope"], ["schema", "nope"]]


@pytest.mark.parametrize("rich", ["0", "1"])
def test_the_lazy_command_shows_what_typer_shows(rich: str) -> None:
    """The command built on first use (provisioner.cli.lazy) prints typer's help and usage errors byte for byte,
    plain and with rich's boxes (at a terminal)."""
    code = f"""
import os, json
os.environ["TYPER_USE_RICH"] = {rich!r}
import typer, typer.testing
from provisioner.cli.app import app
from provisioner.cli.lazy import LazyGroup, build
runner = typer.testing.CliRunner()
def shown(command, args):
    typer.testing._get_command = lambda _app: command
    res = runner.invoke(app, args, prog_name="provisioner", terminal_width=100)
    return [res.exit_code, res.output]
lazy = build(app)
assert isinstance(lazy, LazyGroup)
print(json.dumps([[shown(typer.main.get_command(app), a), shown(lazy, a)] for a in {HELP_CASES!r}]))
"""
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    for args, (eager, lazy) in zip(HELP_CASES, json.loads(proc.stdout), strict=True):
        assert lazy == eager, args
        assert "Usage: provisioner" in lazy[1] or lazy[1].startswith("provisioner "), args
