"""Machine-readable reports of a run: JSON (``--report``, ``--output json``) and JUnit XML (``--junit``).

JSON: a versioned format (:data:`SCHEMA_VERSION`), described in ``docs/report-format.md`` and by the JSON Schema
shipped as ``provisioner/data/report.schema.json`` (``provisioner schema report``)::

    {"schema_version": "1.2", "provisioner_version": str, "ok": bool,
     "tenants": [{"playbook": str, "tenant": str, "era": {"code": str, "text": str}, "dry_run": bool, "ok": bool,
                  "seconds": float, "requests": int, "writes": int,
                  "steps": [{"step": str, "action": str, "reasons": [str], "seconds": float, "requests": int,
                             "error": str | None, "checks": [{"name": str, "passed": bool, "message": str}]}]}],
     "resumed": {"report": str, "skipped": [{"playbook": str, "tenant": str}]}}   # with --resume only

``action`` is one word of one vocabulary (:data:`RUN_ACTIONS` for a run, :data:`PLAN_ACTIONS` for a plan);
``era.code`` is ``manual``, ``monitoring-key`` or ``automatic`` (:mod:`provisioner.engine.eras`); seconds are wall time
rounded to milliseconds. JUnit (:func:`to_junit`) follows the common ``junit-10.xsd`` (Jenkins xUnit, GitLab,
GitHub test reporters). Built from results only, which hold no secret; every string of either report is made
:func:`provisioner.safetext.shown` once more as it is written (no secret in play, no control character: the JUnit
file is always well-formed XML 1.0). Files are written atomically, mode 0644.
"""

from __future__ import annotations

import datetime as dt
import json
import socket
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any, NamedTuple

from provisioner.engine.eras import era_code
from provisioner.engine.results import RunResult, StepResult
from provisioner.keys.keyfile import atomic_write
from provisioner.safetext import deep, shown

SCHEMA_VERSION = "1.2"
"""The report format's version: the minor part grows when fields are added, the major part when one changes."""
RUN_ACTIONS = ("created", "updated", "waited", "unchanged", "passed", "failed", "skipped")
PLAN_ACTIONS = ("create", "update", "wait", "unchanged", "passed", "failed", "skipped", "error")
#: the plan's table words that the report spells as the run does (one word per meaning, no spaces)
_REPORT_WORD = {"no change": "unchanged", "skip": "skipped"}


def action_of(step: StepResult) -> str:
    """The step's word in the report vocabulary (``no change`` -> ``unchanged``, ``skip`` -> ``skipped``)."""
    return _REPORT_WORD.get(step.action, step.action)


def _seconds(value: float) -> float:
    return round(value, 3)


def _step(step: StepResult) -> dict[str, Any]:
    name, _, purpose = step.step.partition("[")  # key[api]: the step of one purpose's key
    out: dict[str, Any] = {"step": name, "action": action_of(step), "reasons": list(step.reasons),
                           "seconds": _seconds(step.seconds), "requests": step.requests, "error": step.error,
                           "checks": [dict(c) for c in step.checks]}
    if purpose:
        out["purpose"] = purpose.rstrip("]")
    return out


def _tenant(r: RunResult) -> dict[str, Any]:
    return {"playbook": r.playbook, "tenant": r.tenant, "era": {"code": era_code(r.era), "text": r.era},
            "dry_run": r.dry_run, "ok": r.ok, "seconds": _seconds(r.seconds), "requests": r.requests,
            "writes": r.writes, "steps": [_step(s) for s in r.steps], "keys": [dict(k) for k in r.keys],
            "notes": list(r.notes)}


def _version() -> str:
    """The installed distribution's version (the package root is not imported here: it names the simulator)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("cloudalm-provisioner")
    except PackageNotFoundError:
        return "unknown"


def report(results: list[RunResult], resumed: dict[str, Any] | None = None) -> dict[str, Any]:
    """The JSON report as a dict (the shape in the module docstring); ``resumed`` (``--resume``: the report
    resumed from and the tenants skipped as converged, ``{"report", "skipped": [{"playbook", "tenant"}]}``) is
    carried as it is."""
    out = {"schema_version": SCHEMA_VERSION, "provisioner_version": _version(), "ok": all(r.ok for r in results),
           "tenants": [deep(_tenant(r), None) for r in results]}
    if resumed is not None:
        out["resumed"] = deep(resumed, None)
    return out


def to_json(results: list[RunResult], resumed: dict[str, Any] | None = None) -> str:
    """The JSON report as text: two-space indentation, final newline."""
    return json.dumps(report(results, resumed), indent=2) + "\n"


def write_json(results: list[RunResult], path: str | Path, resumed: dict[str, Any] | None = None) -> None:
    """Write :func:`to_json` to ``path`` atomically (mode 0644). Raises :class:`OSError` when it cannot."""
    atomic_write(Path(path), to_json(results, resumed), mode=0o644)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


class Case(NamedTuple):
    """One JUnit ``testcase``: ``kind`` is ``failure``, ``error``, ``skipped`` or ``ok``; ``type`` and
    ``message`` are the attributes of its ``failure``/``error``/``skipped`` element, ``text`` its body (for ``ok``
    the ``system-out``); ``seconds`` its time."""

    classname: str
    name: str
    seconds: float
    kind: str
    type: str
    message: str
    text: str


def _suite(parent: ET.Element, name: str, cases: list[Case], *, started: dt.datetime, seconds: float,
           playbook: str, properties: dict[str, str]) -> ET.Element:
    """A ``testsuite`` with every attribute ``junit-10.xsd`` knows of that applies (``timestamp`` in UTC)."""
    counts = {kind: sum(1 for c in cases if c.kind == kind) for kind in ("failure", "error", "skipped")}
    suite = ET.SubElement(parent, "testsuite", name=name, tests=str(len(cases)), failures=str(counts["failure"]),
                          errors=str(counts["error"]), skipped=str(counts["skipped"]), time=f"{seconds:.3f}",
                          timestamp=started.strftime("%Y-%m-%dT%H:%M:%S"), hostname=socket.gethostname(),
                          file=playbook)
    props = ET.SubElement(suite, "properties")
    for key, value in properties.items():
        ET.SubElement(props, "property", name=key, value=value)
    for c in cases:
        case = ET.SubElement(suite, "testcase", classname=c.classname, name=c.name, time=f"{c.seconds:.3f}")
        if c.kind == "ok":
            ET.SubElement(case, "system-out").text = c.text
        else:
            ET.SubElement(case, c.kind, type=c.type, message=c.message).text = c.text
    return suite


def _case(r: RunResult, s: StepResult) -> Case:
    """A step as a test case. A failed step or verification (a run's ``failed``) is a ``failure``; a plan that
    could not read (``error``) is an ``error``; ``skipped`` a skip; the rest pass, their word in system-out."""
    action = action_of(s)
    detail = s.error or "; ".join(s.reasons)
    kind = {"failed": "failure", "error": "error", "skipped": "skipped"}.get(action, "ok")
    text = f"{action}: {detail} (playbook {r.playbook}, tenant {r.tenant}, step {s.step})"
    return Case(r.tenant, s.step, s.seconds, kind, action, detail if kind == "skipped" else f"{action}: {detail}",
                text)


def to_junit(results: list[RunResult]) -> str:
    """One ``testsuite`` per tenant (``file`` and the ``playbook`` property name its playbook), one ``testcase``
    per step (classname the tenant, name the step); see :func:`_case` for failures versus errors."""
    suites = ET.Element("testsuites", name="provisioner")
    now = _now()
    for r in results:
        _suite(suites, r.tenant, [_case(r, s) for s in r.steps], seconds=r.seconds, playbook=r.playbook,
               started=now - dt.timedelta(seconds=r.seconds),
               properties={"playbook": r.playbook, "era": era_code(r.era), "dry_run": str(r.dry_run).lower()})
    return _finish(suites)


def bad_input_junit(message: str, playbooks: list[str]) -> str:
    """The JUnit report of a command that ran nothing because its input was bad (a playbook, a flag, an unset
    secret variable): one suite, one ``validate`` case with an ``error`` (CI systems read bad input as an error,
    not a test failure)."""
    suites = ET.Element("testsuites", name="provisioner")
    _suite(suites, "validate", [Case("provisioner", "validate", 0.0, "error", "bad input", f"bad input: {message}",
                                     message)],
           started=_now(), seconds=0.0, playbook=" ".join(playbooks), properties={"playbooks": " ".join(playbooks)})
    return _finish(suites)


def _finish(suites: ET.Element) -> str:
    for element in suites.iter():
        element.attrib = {k: shown(v, None) for k, v in element.attrib.items()}
        if element.text:
            element.text = shown(element.text, None)
    for attr in ("tests", "failures", "errors"):
        suites.set(attr, str(sum(int(s.get(attr, "0")) for s in suites.iter("testsuite"))))
    suites.set("time", f"{sum(float(s.get('time', '0')) for s in suites.iter('testsuite')):.3f}")
    ET.indent(suites)
    return ET.tostring(suites, encoding="unicode", xml_declaration=True) + "\n"


def write_junit(results: list[RunResult], path: str | Path) -> None:
    """Write :func:`to_junit` to ``path`` atomically (mode 0644). Raises :class:`OSError` when it cannot."""
    atomic_write(Path(path), to_junit(results), mode=0o644)


def write_text(text: str, path: str | Path) -> None:
    """Write a report already rendered (:func:`bad_input_junit`) atomically, mode 0644."""
    atomic_write(Path(path), text, mode=0o644)
