"""Hostile input and impatient users, class by class (issue 11), as the user sees it: hangs (FIFOs, devices), bad
input that must exit 2 with one line, secrets written where a reference belongs, fleet mistakes, Ctrl-C and
SIGTERM, sign-in under transient faults. The property test (test_hostile_properties.py) covers the rest."""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from conftest import cli, steps_of

SECRET = "Hunter2-is-my-password"


def one_error_line(out, code: int = 2) -> str:
    assert out.exit_code == code, out.output
    assert "Traceback" not in out.output and "unexpected" not in out.stderr, out.output
    lines = out.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), out.stderr
    assert len(lines[0]) <= 300, lines[0]
    return lines[0]


# -- class 1: nothing hangs ------------------------------------------------------------------------------------

def test_a_fifo_as_playbook_key_file_secret_or_cf_config_is_refused_at_once(landscape, tmp_path, monkeypatch):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    assert "is a FIFO (named pipe), expected a playbook" in one_error_line(cli("validate", fifo))
    assert "is a FIFO (named pipe)" in one_error_line(cli("key", "check", fifo, "--tenant", "acme-cloudalm"))
    # a {file:} secret may be a FIFO (a shell's <(pass show cf)): without a writer it reads as empty
    pb = landscape.playbook(**{"cf.password": {"file": str(fifo)}})
    assert f"secret file {fifo} is empty" in one_error_line(cli("run", pb))
    monkeypatch.setenv("CF_HOME", str(tmp_path))
    (tmp_path / ".cf").mkdir()
    os.mkfifo(tmp_path / ".cf" / "config.json")
    pb = landscape.playbook(**{"cf.login": "cf-cli", "cf.username": None, "cf.password": None})
    assert "config.json: is a FIFO (named pipe), expected a cf CLI config" in one_error_line(cli("run", pb))


def test_a_secret_from_a_process_substitution_is_read(landscape, tmp_path):
    """``{file: /dev/fd/N}`` of ``<(...)``: a FIFO with a writer is read to its end."""
    fifo = tmp_path / "password-pipe"
    os.mkfifo(fifo)
    pb = landscape.playbook(**{"cf.password": {"file": str(fifo)}})
    reader = subprocess.Popen([sys.executable, "-m", "provisioner", "plan", str(pb)], stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True, env={**os.environ, **landscape.env})
    with open(fifo, "w") as writer:  # blocks until the plan opens the FIFO, as the shell's writer would
        writer.write(landscape.env["CF_PASSWORD"] + "\n")
    out, _ = reader.communicate(timeout=30)
    assert reader.returncode == 2, out  # changes pending: the sign-in with the piped password worked
    assert "sign-in" not in steps_of(out)


# -- class 2 and 3: bad input is one line, exit 2 (plan: 1) ------------------------------------------------------

@pytest.mark.parametrize(("api", "says"), [
    ("http://127.0.0.1:-1", "is not a valid URL"),
    ("https://[::1", "is not a valid URL"),
    ("http://example.com", "refusing plain http:// to 'example.com'"),
    ("javascript:alert(1)", "is not an https:// URL"),
    (" ", "is not an https:// URL"),
    ("https://api.cf.eu10.hana.ondemand.com/v3", "cf.api is the API root, without /v3: write "
                                                 "https://api.cf.eu10.hana.ondemand.com"),
    ("https://uaa.cf.eu10.hana.ondemand.com", "is not a CF API"),
])
def test_bad_cf_api_urls_are_refused_by_validate(landscape, api, says):
    line = one_error_line(cli("validate", landscape.playbook(**{"cf.api": api})))
    assert "cf.api: " in line and says in line


@pytest.mark.parametrize(("overrides", "says"), [
    ({"tenants": [{"tenant": "x"}]}, "tenant: expected a mapping, got the string 'x'"),
    ({"steps": [1], "tenants": [{"tenant": {"subdomain": "b", "provisioned": "2023-03-01"}}]},
     "steps: expected a mapping, got a list"),
    ({"cf.org": "\ud800"}, "cf.org: holds a lone surrogate"),
    ({"http.connect_timeout": 31536000000}, "http.connect_timeout: 31536000000 is over the maximum 300"),
    ({"timeouts.instance": 10**12}, "is over the maximum 604800"),
])
def test_wrong_types_and_values_are_one_line(landscape, tmp_path, overrides, says):
    path = landscape.playbook(**{k: v for k, v in overrides.items() if k != "tenants"})
    if "tenants" in overrides:
        data = json.loads(json.dumps(__import__("yaml").safe_load(path.read_text())))
        data["tenants"] = overrides["tenants"]
        path.write_text(json.dumps(data))
    elif "\ud800" in str(overrides):
        path.write_text(path.read_text().replace("org: \"\\uD800\"", "org: \"\\uD800\""))
    assert says in one_error_line(cli("validate", path))


def test_a_lone_surrogate_in_yaml_is_one_line(tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text('version: 1\ntenant: {subdomain: "a\\uD800", provisioned: 2023-03-01}\n')
    assert "tenant.subdomain: holds a lone surrogate" in one_error_line(cli("validate", path))


def test_timeout_nan_and_infinity_are_refused(landscape):
    for value in ("nan", "inf", "-1"):
        assert "--timeout" in one_error_line(cli("run", landscape.playbook(), "--timeout", value))


def test_login_sources_and_ca_bundle_that_do_not_resolve_exit_2_before_any_request(landscape, tmp_path,
                                                                                     monkeypatch):
    landscape.clear_journal()
    monkeypatch.setenv("CF_HOME", str(tmp_path / "nobody"))
    cli_login = landscape.playbook(**{"cf.login": "cf-cli", "cf.username": None, "cf.password": None})
    assert "no cf CLI login here; run `cf login`" in one_error_line(cli("run", cli_login))
    vcap = landscape.playbook(**{"cf.login": "vcap", "cf.vcap_service": "cf-user", "cf.username": None,
                                 "cf.password": None})
    monkeypatch.setenv("VCAP_SERVICES", "[]")
    assert "VCAP_SERVICES is not an object of service lists" in one_error_line(cli("run", vcap))
    monkeypatch.setenv("VCAP_SERVICES", json.dumps({"user-provided": [{"name": "other", "credentials": {}}]}))
    assert "no service 'cf-user' in VCAP_SERVICES (bound: 'other')" in one_error_line(cli("run", vcap))
    bundle = landscape.playbook(**{"http.ca_bundle": str(tmp_path / "missing.pem")})
    assert "http.ca_bundle" in one_error_line(cli("run", bundle))
    assert one_error_line(cli("plan", bundle), code=1)  # plan: bad input is 1 (2 means changes pending)
    assert landscape.journal() == []


def test_report_to_a_directory_or_a_playbook_is_refused_before_the_run(landscape, tmp_path):
    landscape.clear_journal()
    pb = landscape.playbook()
    assert "is a directory" in one_error_line(cli("run", pb, "--report", tmp_path))
    assert "is one of the playbooks given" in one_error_line(cli("run", pb, "--junit", pb))
    assert "system path" in one_error_line(cli("run", pb, "--report", "/dev/stdout"))
    assert landscape.journal() == []


# -- class 5: a secret written where its reference belongs is never echoed ---------------------------------------

@pytest.mark.parametrize("ref", [{"env": SECRET.replace("-", "_")}, {"file": SECRET}, {"env": SECRET}, 12345678,
                                 SECRET, {"env": SECRET, "file": SECRET}, {"vcap": 5}])
def test_a_secret_in_place_of_its_reference_is_never_printed(landscape, ref):
    pb = landscape.playbook(**{"cf.password": ref})
    for command in ("validate", "plan", "run", "doctor"):
        out = cli(command, pb)
        assert out.exit_code in ((0, 2) if command == "validate" else (1, 2)), out.output  # validate reads none
        assert SECRET not in out.output and SECRET.replace("-", "_") not in out.output, out.output
        assert "12345678" not in out.output, out.output
        assert "Traceback" not in out.output


# -- class 11: mistakes only the whole fleet shows ----------------------------------------------------------------

def _fleet(landscape, tenants: list[dict], path: str = "keys/{tenant}.json") -> Path:
    import yaml

    pb = landscape.playbook(**{"steps.download.path": str(landscape.dir / path)})
    data = yaml.safe_load(pb.read_text())
    data["tenants"] = tenants
    pb.write_text(yaml.safe_dump(data))
    return pb


def test_fleet_mistakes_are_refused_by_validate(landscape):
    era = {"provisioned": "2023-03-01"}
    twice = _fleet(landscape, [{"tenant": {"subdomain": "a", **era}}, {"tenant": {"subdomain": "a", **era}}])
    assert "tenant a is given twice" in one_error_line(cli("validate", twice))
    same_path = _fleet(landscape, [{"tenant": {"subdomain": "a", **era}}, {"tenant": {"subdomain": "b", **era}}],
                       path="keys/one.json")
    assert "steps.download.path of tenant b is also that of tenant a" in one_error_line(cli("validate", same_path))
    two_files = [landscape.playbook("one.yaml"), landscape.playbook("two.yaml")]
    assert "tenant acme-cloudalm is given twice" in one_error_line(cli("validate", *two_files))
    no_tenants = landscape.playbook(**{"steps.download.path": "keys/{tenant}.json"})  # replaced, never literal
    assert "-> keys/acme-cloudalm.json)" in cli("validate", no_tenants).stdout
    future = landscape.playbook(**{"tenant.provisioned": "2999-01-01"})
    assert "tenant.provisioned: 2999-01-01 is in the future" in one_error_line(cli("validate", future))


# -- class 8: sign-in is retried like a step ---------------------------------------------------------------------

def test_sign_in_survives_transient_failures_beyond_the_http_retries(landscape):
    requests.patch(landscape.url + "/_sim/faults", json={"failures": [
        {"paths": ["/"], "methods": ["GET"], "kinds": ["reset"], "times": 3}]}, timeout=10).raise_for_status()
    out = cli("run", landscape.playbook(**{"http.retries": 0}))
    assert out.exit_code == 0, out.output
    assert "sign-in" not in steps_of(out.stdout)
    assert requests.get(landscape.url + "/_sim/faults", timeout=10).json()["failures"][0]["times"] == 0


# -- class 10: Ctrl-C and SIGTERM --------------------------------------------------------------------------------

def _run_until_instance_wait(landscape) -> subprocess.Popen:
    pb = landscape.playbook()
    proc = subprocess.Popen([sys.executable, "-m", "provisioner", "run", str(pb), "--verbose"],
                            env={**os.environ, **landscape.env}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, bufsize=1)
    assert proc.stdout is not None
    seen: list[str] = []
    while proc.poll() is None:  # the request log: the instance POST, then its job read
        ready, _, _ = select.select([proc.stdout], [], [], 30)
        if not ready:
            proc.kill()
            raise AssertionError("".join(seen))
        line = proc.stdout.readline()
        assert line, "".join(seen)
        seen.append(line)
        if "GET" in line and "/v3/jobs/" in line and any("POST" in s and "/v3/service_instances ->" in s
                                                          for s in seen):
            return proc
    raise AssertionError("".join(seen))


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_stops_the_run_in_the_instance_wait_and_says_what_is_in_flight(make_landscape, signum):
    land = make_landscape(job_seconds=0.0, faults={"job_seconds_by_operation": {"service_instance.create": 3600}})
    proc = _run_until_instance_wait(land)
    proc.send_signal(signum)
    out, _ = proc.communicate(timeout=10)
    assert proc.returncode == 130, out
    assert "stopping: no new requests are sent" in out
    assert "interrupted: in flight: acme-cloudalm instance" in out and "re-run to converge" in out
    assert "Traceback" not in out
    journal = land.journal()
    assert not [e for e in journal if e["method"] == "POST" and e["path"] == "/v3/service_credential_bindings"]
    requests.delete(land.url + "/_sim/faults", timeout=10)  # the broker finishes now: a re-run adopts the instance
    again = cli("run", land.playbook())
    assert again.exit_code == 0, again.output
    assert steps_of(again.stdout)["instance"] in ("waited", "unchanged")


def test_a_second_signal_exits_at_once(make_landscape):
    land = make_landscape(job_seconds=0.0, faults={"job_seconds_by_operation": {"service_instance.create": 3600}})
    proc = _run_until_instance_wait(land)
    proc.send_signal(signal.SIGINT)
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=10)
    assert proc.returncode == 130, out
    assert "Traceback" not in out


# -- class 9: cf.api pointing at another service ------------------------------------------------------------------

def test_cf_api_at_another_service_says_what_is_wrong_and_the_fix(landscape):
    out = cli("run", landscape.playbook(**{"cf.api": landscape.url + "/btp"}))
    assert out.exit_code == 1, out.output
    assert "this is not a Cloud Foundry API root: set cf.api to the API endpoint" in out.stdout, out.output


def test_a_refused_sign_in_with_a_huge_username_stays_one_short_line(landscape):
    """A 5,000-character cf.username that the UAA refuses: the message names it, cut, and no line reaches 300
    characters (found by the mutated-playbook property test)."""
    out = cli("plan", landscape.playbook(**{"cf.username": "x" * 5000}))
    assert out.exit_code == 1
    assert "refused the credentials of the CF user 'xxxx" in out.stdout
    assert max(len(line) for line in (out.stdout + out.stderr).splitlines()) <= 300
