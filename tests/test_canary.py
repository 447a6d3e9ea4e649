"""Canary secrets: a landscape whose every secret is a planted canary string (the CF user's password, the cis key's
client secret, a UAA client's secret, an existing instance's secret), and every command run against it: validate,
plan, run (with --report and --junit, -o json, --verbose, again, --dry-run, --force), doctor, key check, key test,
key rotate, revoke --yes, a run with a wrong password, a run with a wrong cis secret and runs whose steps fail.

No canary, no client secret the simulator issued and no access or refresh token may appear in any output, in any
log record, or in any file under the test's directory except the downloaded key file and its .bak copies.
(`provisioner sim` is left out: it is the test double, and printing its test credentials is its job.)
"""

from __future__ import annotations

import json
import logging
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
import requests
import yaml
from conftest import cli

import provisioner.sim
from provisioner.sim import Simulator

ROOT = Path(__file__).resolve().parent.parent
TAG = secrets.token_hex(6)
CANARY = {
    "cf-password": f"CANARY-cf-password-{TAG}",
    "cis-secret": f"CANARY-cis-client-secret-{TAG}",
    "cf-client-secret": f"CANARY-cf-client-secret-{TAG}",
    "instance-secret": f"CANARY-existing-instance-secret-{TAG}",
    "other-user-password": f"CANARY-other-user-password-{TAG}",
    "wrong-password": f"CANARY-wrong-password-{TAG}",
    "wrong-cis-secret": f"CANARY-wrong-cis-secret-{TAG}",
    "wrong-key-secret": f"CANARY-wrong-key-secret-{TAG}",
}
JWT = re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}")  # header.payload of any JWT


def canary_landscape() -> dict:
    """The default landscape with canary secrets everywhere, a UAA client and an existing instance elsewhere."""
    path = Path(provisioner.sim.__file__).parent / "landscapes" / "default.yaml"
    land = yaml.safe_load(path.read_text("utf-8"))
    land["users"][0]["password"] = CANARY["cf-password"]
    land["users"].append({"username": "someone@example.com", "password": CANARY["other-user-password"]})
    land["global_account"]["cis_key"]["clientsecret"] = CANARY["cis-secret"]
    land["cf_clients"] = [{"client_id": "canary-deployer", "client_secret": CANARY["cf-client-secret"],
                           "cf_admin": True}]
    org = land["subaccounts"][0]["cf_org"]
    org["spaces"] = [{"name": "elsewhere", "roles": {"space_developer": ["admin@example.com"]},
                      "service_instances": [{"name": "older-api", "offering": "SAPCloudALMAPIs", "plan": "standard",
                                             "clientsecret": CANARY["instance-secret"],
                                             "keys": [{"name": "older-key"}]}]}]
    return land


class Transcript:
    """Everything the commands printed, and the secrets the landscape issued along the way."""

    def __init__(self) -> None:
        self.outputs: list[tuple[str, str]] = []
        self.issued: set[str] = set()

    def add(self, label: str, text: str) -> None:
        self.outputs.append((label, text))

    def run(self, *args, code: int | tuple[int, ...] | None = None):
        out = cli(*args)
        self.add(" ".join(map(str, args)), out.output)
        codes = (code,) if isinstance(code, int) else code
        assert codes is None or out.exit_code in codes, (args, out.output)
        return out

    def run_process(self, cwd: Path, *args, code: int | None = None) -> str:
        """`python -m provisioner ARGS` in a real process, so that --verbose logging goes where it goes for users."""
        env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
        proc = subprocess.run([sys.executable, "-m", "provisioner", *map(str, args)], cwd=cwd, env=env,
                              capture_output=True, text=True, timeout=120)
        self.add("process " + " ".join(map(str, args)), proc.stdout + proc.stderr)
        assert code is None or proc.returncode == code, (args, proc.stdout, proc.stderr)
        return proc.stderr

    def collect_key(self, path: Path) -> dict:
        creds = json.loads(path.read_text())
        self.issued.add(creds["uaa"]["clientsecret"])
        return creds


@pytest.fixture
def log_records():
    """Every record of the provisioner's loggers (not the simulator's) and urllib3's, at DEBUG."""
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if not record.name.startswith("provisioner.sim"):
                records.append(record)

    handler = Keep(logging.DEBUG)
    loggers = [logging.getLogger("provisioner"), logging.getLogger("urllib3")]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.addHandler(handler)
        lg.setLevel(logging.DEBUG)
    yield records
    for lg, level in zip(loggers, levels, strict=True):
        lg.removeHandler(handler)
        lg.setLevel(level)


def test_no_secret_in_any_output_log_or_file(tmp_path, tmp_path_factory, monkeypatch, log_records):
    sim = Simulator(landscape=canary_landscape(), port=0, job_seconds=0.0).start()
    try:
        transcript = Transcript()
        work = tmp_path / "work"
        work.mkdir()
        monkeypatch.chdir(work)
        # secrets come from the environment, and one from a file outside the directory that is searched
        secret_dir = tmp_path_factory.mktemp("canary-secrets")
        (secret_dir / "cf-client-secret").write_text(CANARY["cf-client-secret"] + "\n")
        cis_key = sim.info()["cis_key"]
        assert cis_key["uaa"]["clientsecret"] == CANARY["cis-secret"]
        wrong_cis = json.loads(json.dumps(cis_key))
        wrong_cis["uaa"]["clientsecret"] = CANARY["wrong-cis-secret"]
        for name, value in {"CF_API": sim.url, "CF_USERNAME": "admin@example.com",
                            "CF_PASSWORD": CANARY["cf-password"], "WRONG_PASSWORD": CANARY["wrong-password"],
                            "CIS_KEY": json.dumps(cis_key), "WRONG_CIS_KEY": json.dumps(wrong_cis)}.items():
            monkeypatch.setenv(name, value)

        def playbook(name: str, **changes) -> str:
            data = {
                "version": 1,
                "tenant": {"subdomain": "acme-cloudalm", "provisioned": "2023-03-01"},
                "btp": {"subaccount": "acme-cloudalm", "cis_key": {"env": "CIS_KEY"}},
                "cf": {"api": "${CF_API}", "org": "acme-cloudalm", "username": {"env": "CF_USERNAME"},
                       "password": {"env": "CF_PASSWORD"}},
                "steps": {"space": {"name": "cloudalm", "developers": ["admin@example.com"]},
                          "instance": {"name": "cloudalm-api"}, "key": {"name": "cloudalm-api-key"},
                          "download": {"path": "keys/acme-cloudalm.json"}},
            }
            for dotted, value in changes.items():
                node = data
                *parents, last = dotted.split("__")
                for p in parents:
                    node = node[p]
                if value is None:
                    node.pop(last)
                else:
                    node[last] = value
            Path(name).write_text(yaml.safe_dump(data, sort_keys=False))
            return name

        pb = playbook("playbook.yaml")
        key = work / "keys" / "acme-cloudalm.json"
        t = transcript
        t.run("validate", pb, code=0)
        t.run("plan", pb, code=2)
        t.run("plan", pb, "-o", "json", "--report", "plan.json", code=2)
        t.run("doctor", pb)
        # failing steps and refused credentials before anything exists
        t.run("run", playbook("wrong-cis.yaml", btp__cis_key={"env": "WRONG_CIS_KEY"}), code=1)
        t.run("run", playbook("wrong-password.yaml", cf__password={"env": "WRONG_PASSWORD"}), code=1)
        t.run("run", playbook("no-such-org.yaml", cf__org="no-such-org"), code=1)
        # the main job, its reports, its re-runs
        t.run("run", pb, "--report", "report.json", "--junit", "junit.xml", code=0)
        creds = t.collect_key(key)
        t.run("run", pb, "-o", "json", code=0)
        t.run_process(work, "run", pb, "--verbose", code=0)
        verbose = t.run_process(work, "plan", pb, "--verbose", code=0)
        assert " GET " in verbose or "GET http" in verbose, verbose  # the request log is there, and was checked
        t.run("run", pb, "--dry-run", code=0)
        t.run("run", playbook("client.yaml", cf__username=None, cf__password=None, cf__client_id="canary-deployer",
                              cf__client_secret={"file": str(secret_dir / "cf-client-secret")}), code=0)
        # key commands
        t.run("key", "check", key, "--tenant", "acme-cloudalm", code=0)
        t.run("key", "check", key, "--tenant", "another-tenant", code=1)
        t.run("key", "test", key, code=0)
        t.run_process(work, "key", "test", key, "--verbose", code=0)
        wrong = json.loads(json.dumps(creds))
        wrong["uaa"]["clientsecret"] = CANARY["wrong-key-secret"]
        Path("wrong-key.json").write_text(json.dumps(wrong))
        t.run("key", "test", "wrong-key.json", code=1)
        Path("wrong-key.json").unlink()  # it holds a canary: it was input, not output
        # a local key file that differs: the download step fails, then --force keeps a .bak
        key.write_text(json.dumps({**creds, "edited": True}))
        t.run("run", pb, code=1)
        t.run("run", pb, "--force", code=0)
        t.run("key", "rotate", pb, code=0)
        t.collect_key(key)
        t.run_process(work, "run", pb, "--verbose", code=0)
        t.run("revoke", pb, code=2)  # no terminal to confirm on: refused, nothing deleted
        t.run("revoke", pb, "--yes", code=0)
        t.run_process(work, "run", pb, "--verbose", "--timeout", "30", code=0)  # a new key after the revoke
        t.collect_key(key)
        creds = json.loads(key.read_text())  # binding-secret: the earlier keys' secrets died with their keys

        # tokens the landscape issues for these credentials (each sign-in gets a fresh one; JWTs are also
        # matched by shape below)
        uaa = requests.get(sim.url + "/", timeout=10).json()["links"]["uaa"]["href"]
        tok = requests.post(uaa + "/oauth/token", auth=("cf", ""), timeout=10, data={
            "grant_type": "password", "username": "admin@example.com", "password": CANARY["cf-password"]}).json()
        key_tok = requests.post(creds["uaa"]["url"] + "/oauth/token", timeout=10,
                                auth=(creds["uaa"]["clientid"], creds["uaa"]["clientsecret"]),
                                data={"grant_type": "client_credentials"}).json()
        tokens = {tok["access_token"], tok["refresh_token"], key_tok["access_token"]}
    finally:
        sim.stop()

    forbidden = {**{f"canary {k}": v for k, v in CANARY.items()},
                 **{f"issued client secret {i}": s for i, s in enumerate(sorted(transcript.issued))},
                 **{f"token {i}": s for i, s in enumerate(sorted(tokens))}}
    assert transcript.issued and all(len(s) >= 8 for s in forbidden.values())
    assert CANARY["instance-secret"] not in transcript.issued  # that instance was never touched

    def leaks(text: str) -> list[str]:
        found = [name for name, value in forbidden.items() if value in text]
        if JWT.search(text):
            found.append("a JWT")
        return found

    # the search finds what it looks for: the key file holds the issued secret, and tokens are JWTs
    assert leaks(key.read_text()) and all(JWT.search(token) for token in tokens)
    for label, text in transcript.outputs:
        assert not leaks(text), (label, leaks(text), text)
    for record in log_records:
        text = record.getMessage()
        assert not leaks(text), (record.name, leaks(text), text)
    assert any(r.name == "provisioner.http" for r in log_records)

    allowed = {key} | set(key.parent.glob(key.name + ".*.bak*"))  # .bak, .bak.1 (two in one second)
    assert len(allowed) >= 2, "the --force run and the rotation keep .bak copies"
    searched = 0
    for path in tmp_path.rglob("*"):
        if path.is_file() and path not in allowed:
            searched += 1
            text = path.read_bytes().decode("utf-8", "replace")
            assert not leaks(text), (path, leaks(text))
    assert searched >= 5  # playbooks, report.json, junit.xml, ...
    assert (work / "report.json").exists() and (work / "junit.xml").exists()
