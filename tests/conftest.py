"""Test fixtures: a fresh landscape simulator per test, talked to over real HTTP, and helpers to write playbooks
and run the CLI in-process as a user would (output and exit code)."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
import typer.testing
import yaml
from hypothesis import settings as hypothesis_settings
from reportcheck import every_report_is_valid  # noqa: F401 - autouse: every report the suite writes is validated
from skipclock import SkipClock
from typer.testing import CliRunner

from provisioner import clock, secret
from provisioner.cli.app import _command, app
from provisioner.sim import Simulator
from provisioner.sim.core.tls import authority

WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")


@dataclass
class Landscape:
    """A running simulator plus the files and environment a playbook needs to reach it."""

    sim: Simulator
    dir: Path
    env: dict[str, str]

    @property
    def url(self) -> str:
        return self.sim.url

    def journal(self) -> list[dict]:
        return requests.get(self.url + "/_sim/requests", timeout=10).json()

    def clear_journal(self) -> None:
        requests.delete(self.url + "/_sim/requests", timeout=10)

    def writes(self) -> list[dict]:
        """Requests that change the landscape (token sign-ins are not writes)."""
        return [e for e in self.journal() if e["method"] in WRITE_METHODS and not e["path"].endswith("/oauth/token")]

    def config(self, **settings) -> None:
        requests.patch(self.url + "/_sim/config", json=settings, timeout=10).raise_for_status()

    def state(self) -> dict:
        return requests.get(self.url + "/_sim/state", timeout=10).json()

    def playbook(self, name: str = "playbook.yaml", **overrides) -> Path:
        """Write a playbook for the default tenant; ``overrides`` are dotted keys (``steps.instance.name``)."""
        data = {
            "version": 1,
            "tenant": {"subdomain": "acme-cloudalm", "provisioned": "2023-03-01", "purposes": ["monitoring"]},
            "btp": {"subaccount": "acme-cloudalm", "cis_key": {"file": str(self.dir / "cis-key.json")}},
            "cf": {"api": self.url, "org": "acme-cloudalm", "username": {"env": "CF_USERNAME"},
                   "password": {"env": "CF_PASSWORD"}},
            "steps": {"space": {"name": "cloudalm", "developers": ["admin@example.com"]},
                      "instance": {"name": "cloudalm-api"}, "key": {"name": "cloudalm-api-key"},
                      "download": {"path": str(self.dir / "keys" / "acme-cloudalm.json")}},
        }
        for dotted, value in overrides.items():
            node = data
            parts = dotted.split("__") if "__" in dotted else dotted.split(".")
            for p in parts[:-1]:
                node = node.setdefault(p, {})
            if value is None:
                node.pop(parts[-1], None)
            else:
                node[parts[-1]] = value
        path = self.dir / name
        path.write_text(yaml.safe_dump(data, sort_keys=False))
        return path

    @property
    def key_path(self) -> Path:
        return self.dir / "keys" / "acme-cloudalm.json"


@pytest.fixture(autouse=True)
def secrets_of_this_test():
    """The secrets in play (provisioner.secret's register) are those of this test: a password of one test (say
    "wrong") is not scrubbed from the output of the next."""
    yield
    secret.forget()


@pytest.fixture(autouse=True)
def skip_clock():
    """Every test runs on a :class:`SkipClock`: the tool's waits, retries and backoff, and the simulator's jobs
    and latency, skip ahead instead of sleeping."""
    with clock.use(SkipClock()) as current:
        yield current


def start_landscape(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, landscape=None, **sim_kwargs) -> Landscape:
    """Start a simulator (default landscape, jobs done at once unless ``job_seconds`` is given) on the test's
    clock, write its cis key and export CF_API, CF_USERNAME and CF_PASSWORD as a user's shell would have them."""
    sim_kwargs.setdefault("job_seconds", 0.0)
    sim_kwargs.setdefault("clock", clock.current())
    sim = Simulator(landscape=landscape, host="127.0.0.1", port=0, **sim_kwargs)
    sim.start()
    info = sim.info()
    (tmp_path / "cis-key.json").write_text(json.dumps(info["cis_key"]))
    env = {"CF_API": info["cf_api"], "CF_USERNAME": info["cf_username"], "CF_PASSWORD": info["cf_password"]}
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    return Landscape(sim, tmp_path, env)


@pytest.fixture
def make_landscape(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """``make_landscape(landscape_dict=None, **Simulator kwargs)``: a started landscape, stopped after the test."""
    started: list[Landscape] = []

    def make(landscape=None, **sim_kwargs) -> Landscape:
        started.append(start_landscape(tmp_path, monkeypatch, landscape, **sim_kwargs))
        return started[-1]

    try:
        yield make
    finally:
        for land in started:
            land.sim.stop()


@pytest.fixture
def landscape(make_landscape) -> Landscape:
    return make_landscape()


@dataclass
class Outcome:
    exit_code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


_typer_get_command = typer.testing._get_command


def _built_once(typer_app):
    """typer's CliRunner builds the click command on every invoke (about 40 ms of the suite per call): build the
    app's once per process, as ``provisioner.cli.app.main`` does."""
    return _command() if typer_app is app else _typer_get_command(typer_app)


typer.testing._get_command = _built_once


def cli(*args: str, env: dict[str, str] | None = None) -> Outcome:
    """Run ``provisioner ARGS`` in-process; return its exit code and what it printed. The click command is built
    once per process, as ``provisioner.cli.app.main`` does (typer would build it anew on every call)."""
    runner = CliRunner()
    result = runner.invoke(app, [str(a) for a in args], env=env, catch_exceptions=False)
    return Outcome(result.exit_code, result.stdout, result.stderr)


@pytest.fixture
def run_cli():
    return cli


def steps_of(output: str) -> dict[str, str]:
    """``{step: action}`` from the table a run or plan prints."""
    names = ("sign-in", "space", "entitlement", "instance", "key", "download", "check", "test")
    found = {}
    for line in output.splitlines():
        parts = line.split()
        if parts and parts[0][:4].isdigit() and "T" in parts[0]:  # timestamped CI lines: time, tenant, step, ...
            parts = parts[2:]
        if len(parts) >= 2 and parts[0].split("[")[0] in names:
            action = parts[1] if parts[1] != "no" else "no change"
            found[parts[0]] = action
    return found


os.environ.setdefault("NO_COLOR", "1")
# The simulator serves HTTPS with a certificate of its own CA (one per process): the tool (through the environment,
# as a user's shell would set it), requests, httpx (sap-xssec) and urllib trust it.
SIM_CA = str(authority().ca_file)
os.environ["REQUESTS_CA_BUNDLE"] = os.environ["SSL_CERT_FILE"] = SIM_CA
# no job durations kept between runs (the user's cache stays as it is; tests/test_job_store.py sets its own file)
os.environ["PROVISIONER_JOB_TIMES"] = "off"

# CI runs the property tests derandomized (the same examples each run); locally they explore new ones.
hypothesis_settings.register_profile("ci", derandomize=True, database=None)
if os.environ.get("CI"):
    hypothesis_settings.load_profile("ci")
