"""Fitting the tools people already use: --version, shell completion, PROVISIONER_* variables for the common flags,
-o as a choice, `provisioner schema`, JUnit that validates against junit-10.xsd (failures versus errors), the
versioned JSON report, the editor modelines and the sign-in origin with a message naming the refused credential."""

from __future__ import annotations

import importlib.metadata
import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import yaml
from conftest import cli
from jsonschema import Draft202012Validator
from reportcheck import check_junit, check_report
from typer.testing import CliRunner

from provisioner.cli.app import app

ROOT = Path(__file__).resolve().parent.parent


def test_version_is_the_distributions():
    out = cli("--version")
    assert out.exit_code == 0
    assert out.stdout == f"provisioner {importlib.metadata.version('cloudalm-provisioner')}\n"


def test_completion_script_and_completions():
    runner = CliRunner()
    script = runner.invoke(app, [], prog_name="provisioner", env={"_PROVISIONER_COMPLETE": "source_bash"})
    assert script.exit_code == 0
    assert "_provisioner_completion" in script.stdout and "complete " in script.stdout
    words = runner.invoke(app, [], prog_name="provisioner", env={
        "_PROVISIONER_COMPLETE": "complete_bash", "COMP_WORDS": "provisioner schema ", "COMP_CWORD": "2"})
    assert words.stdout.split() == ["playbook", "report"]
    # --show-completion detects the shell from the process tree (shellingham), which a test run may lack: the
    # shell is named instead, as typer allows with shell detection off
    env = {**os.environ, "_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION": "1"}
    shown = subprocess.run([sys.executable, "-m", "provisioner", "--show-completion", "bash"], capture_output=True,
                           text=True, env=env, timeout=60)
    assert shown.returncode == 0 and "complete " in shown.stdout, shown.stderr
    assert "--install-completion" in cli("--help").stdout


def test_environment_variables_set_the_common_flags(landscape):
    pb = landscape.playbook()
    report, junit = landscape.dir / "env-report.json", landscape.dir / "env-junit.xml"
    env = {"PROVISIONER_OUTPUT": "json", "PROVISIONER_REPORT": str(report), "PROVISIONER_JUNIT": str(junit),
           "PROVISIONER_PARALLEL": "2", "PROVISIONER_TIMEOUT": "60"}
    out = cli("run", pb, env=env)
    assert out.exit_code == 0, out.output
    assert json.loads(out.stdout)["ok"] is True  # -o json from PROVISIONER_OUTPUT
    assert json.loads(report.read_text())["tenants"][0]["tenant"] == "acme-cloudalm"
    assert ET.parse(junit).getroot().get("tests") == "7"

    text = cli("plan", pb, "-o", "text", env=env)  # a flag on the command line wins
    assert text.exit_code == 0 and not text.stdout.lstrip().startswith("{")
    bad = cli("plan", pb, env={"PROVISIONER_PARALLEL": "0"})
    assert bad.exit_code == 2 and "PROVISIONER_PARALLEL" in bad.output  # click's usage error names the variable
    timeout = cli("run", pb, env={"PROVISIONER_TIMEOUT": "-1"})
    assert timeout.exit_code == 2 and "--timeout -1: must be a number of seconds above 0" in timeout.output


def test_output_is_a_choice(landscape):
    pb = landscape.playbook()
    out = cli("run", pb, "-o", "xml")
    assert out.exit_code == 2 and "'xml' is not one of 'text', 'json'" in out.output
    assert "text|json" in cli("run", "--help").stdout.replace(" ", "")
    assert landscape.writes() == []


def test_schema_command_prints_either_schema():
    playbook = cli("schema", "playbook")
    assert playbook.exit_code == 0
    assert playbook.stdout == (ROOT / "provisioner" / "data" / "playbook.schema.json").read_text()
    assert json.loads(playbook.stdout)["$id"] == "urn:cloudalm-provisioner:schema:playbook:1"
    report = json.loads(cli("schema", "report").stdout)
    Draft202012Validator.check_schema(report)
    assert report["$id"] == "urn:cloudalm-provisioner:schema:report:1"
    assert cli("schema", "keys").exit_code == 2


def test_playbook_errors_point_to_the_schema_command(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("# nothing yet\n")
    out = cli("validate", bad)
    assert out.exit_code == 2 and "see `provisioner schema playbook`" in out.output
    assert "schemas/" not in out.output


def test_shipped_playbooks_carry_a_modeline_that_resolves():
    for path in [ROOT / "playbooks" / "demo.yaml", *sorted((ROOT / "playbooks" / "tenants").glob("*.yaml"))]:
        first = path.read_text().splitlines()[0]
        assert first.startswith("# yaml-language-server: $schema="), path
        target = (path.parent / first.split("$schema=", 1)[1]).resolve()
        assert json.loads(target.read_text())["$id"] == "urn:cloudalm-provisioner:schema:playbook:1", path


def _two_tenants(landscape, broken_org: str = "no-such-org") -> Path:
    """One playbook, two tenants: acme (converges) and a copy whose org does not exist (its space step fails)."""
    pb = landscape.playbook()
    data = yaml.safe_load(pb.read_text())
    data["tenants"] = [{"tenant": {"subdomain": "acme-cloudalm"}},
                       {"tenant": {"subdomain": "broken-cloudalm"}, "cf": {"org": broken_org},
                        "steps": {"download": {"path": str(landscape.dir / "keys" / "broken.json")}}}]
    pb.write_text(yaml.safe_dump(data, sort_keys=False))
    return pb


def test_junit_of_a_fleet_with_a_failing_tenant_validates_against_junit_10_xsd(landscape):
    pb = _two_tenants(landscape)
    junit = landscape.dir / "fleet.xml"
    out = cli("run", pb, "--junit", junit)
    assert out.exit_code == 1, out.output
    text = junit.read_text()
    check_junit(text, "fleet junit")
    root = ET.fromstring(text)
    suites = {s.get("name"): s for s in root.iter("testsuite")}
    assert set(suites) == {"acme-cloudalm", "broken-cloudalm"}
    for suite in suites.values():
        assert {"errors", "failures", "skipped", "tests", "time", "timestamp", "hostname"} <= set(suite.keys())
        assert suite.get("file") == str(pb)
        assert {p.get("name"): p.get("value") for p in suite.iter("property")}["playbook"] == str(pb)
        assert [c.get("classname") for c in suite.iter("testcase")] == [suite.get("name")] * int(suite.get("tests"))
    broken = suites["broken-cloudalm"]
    # the space fails; the entitlement (independent of the org) runs; the five steps after them are skipped
    assert (broken.get("failures"), broken.get("errors"), broken.get("skipped")) == ("1", "0", "5")
    failed = [c for c in broken.iter("testcase") if c.find("failure") is not None]
    assert [c.get("name") for c in failed] == ["space"]
    assert "no-such-org" in failed[0].find("failure").get("message")
    assert suites["acme-cloudalm"].get("failures") == suites["acme-cloudalm"].get("errors") == "0"
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("14", "1", "0")


def test_a_plan_error_is_a_junit_error_not_a_failure(landscape):
    pb = landscape.playbook()
    junit = landscape.dir / "plan.xml"
    out = cli("plan", pb, "--junit", junit, env={"CF_PASSWORD": "wrong"})
    assert out.exit_code == 1
    root = ET.parse(junit).getroot()
    assert (root.get("failures"), root.get("errors")) == ("0", "1")
    error = next(c for c in root.iter("testcase") if c.find("error") is not None)
    assert error.get("name") == "sign-in" and "refused the credentials" in error.find("error").get("message")


def test_bad_input_writes_a_junit_error_and_runs_nothing(landscape):
    pb = landscape.playbook(**{"steps.instance.name": "not a valid name!"})
    junit = landscape.dir / "bad.xml"
    out = cli("run", pb, "--junit", junit)
    assert out.exit_code == 2
    root = ET.parse(junit).getroot()
    case = root.find("testsuite/testcase")
    assert (root.get("errors"), case.get("name")) == ("1", "validate")
    assert str(pb) in case.find("error").get("message")
    assert landscape.writes() == []


def test_json_report_is_versioned_with_one_vocabulary(landscape):
    pb = landscape.playbook()
    run = json.loads(cli("run", pb, "-o", "json").stdout)
    check_report(run)
    assert run["schema_version"] == "1.2"
    tenant = run["tenants"][0]
    assert tenant["era"]["code"] == "manual" and tenant["era"]["text"].startswith("provisioned before 2023-06-12")
    assert [s["action"] for s in tenant["steps"]] == ["created"] * 5 + ["passed", "passed"]
    plan = json.loads(cli("plan", pb, "-o", "json").stdout)
    check_report(plan)
    actions = {s["action"] for s in plan["tenants"][0]["steps"]}
    assert actions <= {"unchanged", "passed"} and "no change" not in actions


def test_era_codes():
    import datetime as dt

    from provisioner.engine.eras import era_code, era_of

    assert [era_code(era_of(dt.date.fromisoformat(d))) for d in ("2023-03-01", "2023-06-12", "2023-10-16")] == \
        ["manual", "monitoring-key", "automatic"]


def test_password_grant_signs_in_at_the_playbooks_origin(make_landscape):
    from provisioner.sim.landscape import DEFAULT_LANDSCAPE

    data = yaml.safe_load(DEFAULT_LANDSCAPE.read_text())
    data["users"].append({"username": "admin@example.com", "origin": "corp-idp", "password": "corp-password"})
    land = make_landscape(data)
    pb = land.playbook(**{"cf.origin": "corp-idp"})
    plan = cli("plan", pb, env={"CF_PASSWORD": "corp-password"})
    assert "refused" not in plan.output and "space" in plan.stdout, plan.output

    # the same user name at origin uaa has another password: sent to corp-idp, that one is refused
    wrong = cli("plan", pb)
    assert wrong.exit_code == 1
    assert "refused the credentials of the CF user 'admin@example.com' at origin 'corp-idp' (cf.username / " \
           "cf.password)" in wrong.output
    assert land.env["CF_PASSWORD"] not in wrong.output


def test_a_refused_cis_key_is_named(landscape):
    key = json.loads((landscape.dir / "cis-key.json").read_text())
    key["uaa"]["clientsecret"] = "not-the-secret"
    (landscape.dir / "cis-key.json").write_text(json.dumps(key))
    out = cli("run", landscape.playbook())
    assert out.exit_code == 1
    assert "refused the credentials of the cis key's client" in out.output and "not-the-secret" not in out.output


def test_the_playbooks_http_proxy_carries_every_request_and_wins_over_the_environment(make_landscape, monkeypatch):
    from hostile import ForwardProxy

    landscape = make_landscape(tls=False)  # the test proxy relays absolute http:// requests; it does not tunnel TLS

    for name in ("NO_PROXY", "no_proxy", "HTTPS_PROXY", "https_proxy", "http_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")  # nothing listens there: used, the run would fail
    with ForwardProxy() as proxy:
        out = cli("run", landscape.playbook(**{"http.proxy": proxy.url}))
        relayed = [url for _, url in proxy.seen if url.startswith(landscape.url)]
    monkeypatch.delenv("HTTP_PROXY")  # the test's own requests to the simulator's journal go direct
    assert out.exit_code == 0, out.output
    assert len(relayed) == len(landscape.journal()) > 10


def test_a_tenant_that_could_not_run_at_all_is_reported_in_both_formats():
    """fleet.run_many's last line of defence (an unexpected error in one tenant) yields valid reports too."""
    import datetime as dt

    from provisioner.engine.eras import era_of
    from provisioner.engine.runner import RunResult, StepResult
    from provisioner.fleet import reports

    result = RunResult("p.yaml", "t1", era_of(dt.date(2024, 1, 1)), False, seconds=0.12345)
    result.steps.append(StepResult("run", "failed", [], 0.12345, "unexpected KeyError (a bug; please report it)"))
    data = json.loads(reports.to_json([result]))
    check_report(data)
    assert data["tenants"][0]["era"]["code"] == "automatic" and data["tenants"][0]["seconds"] == 0.123
    root = ET.fromstring(reports.to_junit([result]))
    assert root.find("testsuite/testcase/failure").get("type") == "failed"
