"""Server text is data, not control (issue 18, item 4): a CF 422 ``detail``, a failed job's ``detail``, a BTP
``error.message``, a Service Manager operation's ``description``, instance and binding names in ``inventory`` and the
fields of a key in ``key export --for alm-setup`` carrying ESC/OSC sequences (screen clear, window title, OSC 52
clipboard write), CR, newlines starting ``::error``/``::add-mask`` lines, a bidi override, a C1 CSI, a lone surrogate
and rich markup: the output shows them escaped, no line starts with ``::``, the JSON report holds no control
character, and the JUnit file parses and validates against tests/schemas/junit.xsd."""

from __future__ import annotations

import io
import json
import logging
import xml.etree.ElementTree as ET
from typing import Any

from conftest import cli
from hostile import LandscapeDouble
from reportcheck import check_junit

from provisioner.cli.output import LivePrinter
from provisioner.engine.runner import RunResult, StepResult

INJ = ("\x1b]52;c;cHduZWQ=\x07\x1b[2J\x1b]0;owned\x07\rfake ok\n::error::owned\n  ::add-mask::x\u202etxt "
       "[bold red]markup[/bold red] [link=https://evil.example]here[/link] \x9b31m \ud800 \x00end")
RAW = ("\x1b", "\x07", "\r", "\x9b", "\u202e", "\x00", "\ud800")


def assert_inert(text: str) -> None:
    """Nothing in ``text`` can act on a terminal or a CI log."""
    for char in RAW:
        assert char not in text, (repr(char), text[:3000])
    for line in text.splitlines():
        assert not line.lstrip().startswith("::"), line


def assert_shown_escaped(text: str) -> None:
    assert "\\x1b]52;c;cHduZWQ=\\x07" in text and "\\n" in text and "\\r" in text and "\\u202e" in text, text[:3000]
    assert ":\\x3aerror:\\x3aowned" in text, text[:3000]


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in [k, *_strings(v)]]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def assert_reports_inert(report, junit) -> None:
    data = json.loads(report.read_text("utf-8"))
    for text in _strings(data):
        assert_inert(text)
    text = junit.read_text("utf-8")
    ET.fromstring(text.encode("utf-8"))  # well-formed XML 1.0
    check_junit(text)
    assert_inert(text)


def _json(status: int, data: Any, headers: dict[str, str] | None = None):
    return status, {"Content-Type": "application/json", **(headers or {})}, json.dumps(data).encode()


def run_through(landscape, script, *args, subaccount: bool = False, caplog=None):
    """``run`` of the acme tenant through a double answering ``script``; → (outcome, report, junit)."""
    report, junit = landscape.dir / "report.json", landscape.dir / "junit.xml"
    with LandscapeDouble(landscape.url, script) as double:
        cis = landscape.dir / "cis-double.json"
        cis.write_text(json.dumps(double.cis_key(landscape.sim.info())))
        extra = {"cf": None} if subaccount else {"cf__api": double.url}
        pb = landscape.playbook(btp__cis_key={"file": str(cis)}, **extra)
        if caplog is not None:
            with caplog.at_level(logging.DEBUG, logger="provisioner"):
                out = cli("run", pb, "--report", report, "--junit", junit, "--verbose", *args)
        else:
            out = cli("run", pb, "--report", report, "--junit", junit, *args)
    return out, report, junit


def test_a_cf_422_detail(landscape, caplog):
    def script(method, path, body, headers):
        if method == "POST" and path == "/v3/spaces":
            return _json(422, {"errors": [{"code": 10008, "title": "CF-UnprocessableEntity", "detail": INJ}]})
        return None

    out, report, junit = run_through(landscape, script, caplog=caplog)
    assert out.exit_code == 1
    assert_inert(out.output + caplog.text)
    assert_shown_escaped(out.stdout)
    assert_reports_inert(report, junit)


def test_a_failed_job_detail(landscape):
    def script(method, path, body, headers):
        if method == "GET" and path.startswith("/v3/jobs/"):
            return _json(200, {"guid": "x", "state": "FAILED", "operation": "service_instance.create",
                               "errors": [{"code": 10001, "title": "CF-Failed", "detail": INJ}]})
        return None

    out, report, junit = run_through(landscape, script)
    assert out.exit_code == 1
    assert "job service_instance.create failed: \\x1b]52" in out.stdout
    assert_inert(out.output)
    assert_shown_escaped(out.stdout)
    assert_reports_inert(report, junit)


def test_a_btp_error_message(landscape):
    def script(method, path, body, headers):
        if path.startswith("/btp/entitlements/entitlements/v1/assignments"):
            return _json(400, {"error": {"code": 11000, "message": INJ, "target": "/assignments"}})
        return None

    out, report, junit = run_through(landscape, script)
    assert out.exit_code == 1
    assert "entitlement" in out.stdout
    assert_inert(out.output)
    assert_shown_escaped(out.stdout)
    assert_reports_inert(report, junit)


def test_a_service_manager_operation_description(landscape):
    def script(method, path, body, headers):
        if method == "GET" and "/operations/" in path and path.startswith("/sm/v1/service_instances/"):
            return _json(200, {"id": "op", "type": "create", "state": "failed", "description": INJ,
                               "resource_id": "x", "errors": [{"error": "BrokerError", "description": INJ}]})
        return None

    out, report, junit = run_through(landscape, script, subaccount=True)
    assert out.exit_code == 1
    assert "create failed: \\x1b]52" in out.stdout
    assert_inert(out.output)
    assert_shown_escaped(out.stdout)
    assert_reports_inert(report, junit)


def test_instance_and_binding_names_in_inventory(landscape):
    assert cli("run", landscape.playbook(cf=None)).exit_code == 0

    def rename(method, path, answer):
        status, headers, data = answer
        if method == "GET" and path.startswith(("/sm/v1/service_instances?", "/sm/v1/service_bindings?")):
            page = json.loads(data)
            for item in page.get("items") or []:
                item["name"] = INJ
            return status, headers, json.dumps(page).encode()
        return None

    with LandscapeDouble(landscape.url, rewrite=rename) as double:
        cis = landscape.dir / "cis-double.json"
        cis.write_text(json.dumps(double.cis_key(landscape.sim.info())))
        pb = landscape.playbook("inv.yaml", cf=None, btp__cis_key={"file": str(cis)})
        text = cli("inventory", pb)
        as_json = cli("inventory", pb, "--output", "json")
    assert text.exit_code == 0 and as_json.exit_code == 0, text.output
    assert_inert(text.output)
    assert_shown_escaped(text.stdout)
    for value in _strings(json.loads(as_json.stdout)):
        assert_inert(value)


def test_fields_of_a_key_in_key_export_for_alm_setup(landscape):
    text = INJ.replace("\ud800", "")  # a key file is UTF-8 text: no lone surrogate
    key = {"uaa": {"url": "https://zone.example.com" + text, "clientid": "sb-x!b1\n::add-mask::\x1b[8m",
                   "clientsecret": "s3cret-value", "identityzone": "acme-cloudalm"},
           "endpoints": {"Api": "https://acme.example.com/api\r::error::x"}}
    path = landscape.dir / "key.json"
    path.write_text(json.dumps(key))
    out = cli("key", "export", path, "--for", "alm-setup")
    assert out.exit_code == 0, out.output
    assert_inert(out.output)
    assert "client ID: sb-x!b1\\n:\\x3aadd-mask:\\x3a\\x1b[8m" in out.stdout
    assert "s3cret-value" not in out.output


def test_the_live_display_prints_server_text_as_plain_text():
    """On a terminal (rich): markup in server text is shown as it is, never interpreted; control characters
    escaped; no line starts with ``::`` even where a long cell is folded."""
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    stream = Terminal()
    printer = LivePrinter(stream)
    result = RunResult("playbook.yaml", "acme-cloudalm", "era", False)
    folded = "x" * 57 + "::error::folded" + INJ
    result.steps = [StepResult("space", "failed", [], 0.1, error=INJ), StepResult("key", "failed", [], 0.1,
                                                                                   error=folded)]
    printer.start(result, "space")
    printer.step(result, result.steps[0])
    printer.done([result])
    text = stream.getvalue()
    assert "[bold red]markup[/bold red]" in text and "[link=https://evil.example]" in text
    final = text[text.index("run playbook.yaml"):]
    assert_inert(final.replace("\x1b[", "CSI["))  # rich's own colours aside
    assert "\\x1b]52" in final
