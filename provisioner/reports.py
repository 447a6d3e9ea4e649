"""Machine-readable reports of a run: JSON (``--report``, ``--output json``) and JUnit XML (``--junit``).

JSON: ``{"ok": bool, "tenants": [{"playbook", "tenant", "era", "dry_run", "ok", "seconds", "requests", "writes",
"steps": [{"step", "action", "reasons", "seconds", "requests", "error", "checks": [{"name", "passed",
"message"}]}]}]}``; ``action`` is the run or plan word (:mod:`provisioner.runner`: a verification ``passed`` or
``failed``); seconds are wall time. Built from
results only, which hold no secret. Files are written atomically.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

from provisioner.keyfile import atomic_write
from provisioner.runner import RunResult


def to_json(results: list[RunResult]) -> str:
    return json.dumps({"ok": all(r.ok for r in results), "tenants": [r.to_json() for r in results]}, indent=2) + "\n"


def write_json(results: list[RunResult], path: str | Path) -> None:
    atomic_write(Path(path), to_json(results), mode=0o644)


def to_junit(results: list[RunResult]) -> str:
    """One ``testsuite`` per tenant, one ``testcase`` per step; failed steps (a failed check or test included)
    carry ``failure``, skipped ones ``skipped``."""
    suites = ET.Element("testsuites", name="provisioner")
    total = failures = 0
    for r in results:
        failed = [s for s in r.steps if s.action in ("failed", "error")]
        suite = ET.SubElement(suites, "testsuite", name=r.tenant, tests=str(len(r.steps)), failures=str(len(failed)),
                              time=f"{r.seconds:.3f}")
        ET.SubElement(ET.SubElement(suite, "properties"), "property", name="playbook", value=r.playbook)
        for s in r.steps:
            case = ET.SubElement(suite, "testcase", classname=r.tenant, name=s.step, time=f"{s.seconds:.3f}")
            if s.action in ("failed", "error"):
                ET.SubElement(case, "failure", message=s.error or s.action, type=s.action).text = s.error
            elif s.action in ("skipped", "skip"):
                ET.SubElement(case, "skipped", message="; ".join(s.reasons))
            else:
                ET.SubElement(case, "system-out").text = f"{s.action}: {'; '.join(s.reasons)}"
        total += len(r.steps)
        failures += len(failed)
    suites.set("tests", str(total))
    suites.set("failures", str(failures))
    ET.indent(suites)
    return ET.tostring(suites, encoding="unicode", xml_declaration=True) + "\n"


def write_junit(results: list[RunResult], path: str | Path) -> None:
    atomic_write(Path(path), to_junit(results), mode=0o644)
