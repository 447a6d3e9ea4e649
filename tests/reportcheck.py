"""Every report the test suite produces is checked against its format: each JSON report (``--report``,
``--output json``, in-process or written by a subprocess into the test's directory) against the shipped
``provisioner/data/report.schema.json``, each JUnit file against ``tests/schemas/junit.xsd`` (the structure of the
common Jenkins xUnit ``junit-10.xsd``, written for this project). Used by ``conftest.py``."""

from __future__ import annotations

import json
import stat
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
import xmlschema
from jsonschema import Draft202012Validator

from provisioner.fleet import reports

JUNIT_XSD = Path(__file__).parent / "schemas" / "junit.xsd"


@lru_cache(maxsize=1)
def report_validator() -> Draft202012Validator:
    schema = json.loads(resources.files("provisioner").joinpath("data/report.schema.json").read_text("utf-8"))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


@lru_cache(maxsize=1)
def junit_schema() -> xmlschema.XMLSchema:
    return xmlschema.XMLSchema(str(JUNIT_XSD))


def check_report(data: Any, where: str = "report") -> None:
    """Fail unless ``data`` (a parsed JSON report) is valid and its seconds are rounded to milliseconds."""
    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in report_validator().iter_errors(data)]
    assert not errors, f"{where} does not match report.schema.json: {errors[:5]}"
    seconds = [t["seconds"] for t in data["tenants"]] + [s["seconds"] for t in data["tenants"] for s in t["steps"]]
    assert all(round(s, 3) == s for s in seconds), f"{where}: seconds not rounded to milliseconds: {seconds}"


def check_junit(text: str, where: str = "junit") -> None:
    errors = [str(e.reason) for e in junit_schema().iter_errors(text)]
    assert not errors, f"{where} does not validate against junit.xsd: {errors[:5]}"


checked: list[str] = []


def _regular(directory: Path, pattern: str) -> list[Path]:
    """Regular files only: tests leave FIFOs and devices named like key files (reading one would block)."""
    found = []
    for path in directory.rglob(pattern):
        try:
            if stat.S_ISREG(path.lstat().st_mode):
                found.append(path)
        except OSError:
            continue
    return found


def _scan(directory: Path) -> None:
    """Check report-shaped files a subprocess may have written under ``directory``."""
    for path in _regular(directory, "*.json"):
        try:
            data = json.loads(path.read_text("utf-8"))
        except (OSError, ValueError, RecursionError):  # hostile test inputs live here too
            continue
        if isinstance(data, dict) and "tenants" in data and "ok" in data:
            check_report(data, str(path))
            checked.append(str(path))
    for path in _regular(directory, "*.xml"):
        text = path.read_text("utf-8", errors="replace")
        if "<testsuites" in text:
            check_junit(text, str(path))
            checked.append(str(path))


@pytest.fixture(autouse=True)
def every_report_is_valid(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Wraps the writers in-process (``reports.report`` backs ``--report`` and ``-o json``, ``to_junit`` and
    ``bad_input_junit`` back ``--junit``); after the test, scans its ``tmp_path`` (the same directory the test
    gets) for files written by subprocesses."""
    report, to_junit, bad_input = reports.report, reports.to_junit, reports.bad_input_junit

    def checked_report(results, *args, **kwargs):
        data = report(results, *args, **kwargs)
        check_report(json.loads(json.dumps(data)))
        return data

    def checked_junit(*args):
        text = to_junit(*args)
        check_junit(text)
        return text

    def checked_bad_input(*args):
        text = bad_input(*args)
        check_junit(text)
        return text

    monkeypatch.setattr(reports, "report", checked_report)
    monkeypatch.setattr(reports, "to_junit", checked_junit)
    monkeypatch.setattr(reports, "bad_input_junit", checked_bad_input)
    yield
    _scan(tmp_path)
