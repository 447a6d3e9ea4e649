"""A key that failed its check or its test is never handed off: no "next step (manual): upload" line and no
Landscape Management mark, in the text output, `--output json` and `--report`."""

from __future__ import annotations

import json

import requests
from conftest import cli, steps_of
from test_key_purposes import PURPOSES, globex

UPLOAD = "next step (manual): upload"


def test_the_wrong_org_with_the_check_off_downloads_a_key_that_fails_its_check_and_is_not_handed_off(landscape):
    """The finding of issue 18: cf.org of globex, btp.subaccount acme, org check off (written on purpose)."""
    pb = landscape.playbook(**{"cf.org": "globex-cloudalm", "btp.org_check": "off"})
    report = landscape.dir / "report.json"
    out = cli("run", pb, "--report", report)
    assert out.exit_code == 1, out.output
    assert steps_of(out.stdout)["check"] == "failed"
    assert UPLOAD not in out.output and "Landscape Management key:" not in out.output
    warning = f"warning: {landscape.key_path} (monitoring key) failed its check: it is not a key for Landscape " \
              "Management; do not upload it"
    assert warning in out.stdout
    tenant = json.loads(report.read_text())["tenants"][0]
    assert [k["landscape_management"] for k in tenant["keys"]] == [False]
    assert not any(n.startswith(UPLOAD) for n in tenant["notes"]) and any(warning in n for n in tenant["notes"])


def test_keys_that_failed_their_test_are_not_marked_in_text_or_json(landscape):
    requests.put(landscape.url + "/_sim/xsuaa/globex-cloudalm/signing-key", json={"key": "foreign"},
                 timeout=10).raise_for_status()  # every token of the tenant's zone fails its signature check
    out = cli("run", globex(landscape), "-o", "json")
    assert out.exit_code == 1, out.output
    tenant = json.loads(out.stdout)["tenants"][0]
    tests = {s["step"]: s["action"] for s in tenant["steps"] if s["step"].startswith("test")}
    assert set(tests.values()) == {"failed"}, tests
    assert [k["purpose"] for k in tenant["keys"]] == PURPOSES
    assert not any(k["landscape_management"] for k in tenant["keys"])
    assert not any(n.startswith(UPLOAD) for n in tenant["notes"])
    assert any("(monitoring key) failed its test" in n for n in tenant["notes"])

    text = cli("run", globex(landscape))
    assert text.exit_code == 1, text.output
    assert UPLOAD not in text.output and "Landscape Management key:" not in text.output
