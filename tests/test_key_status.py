"""``provisioner key status``: per tenant and purpose, the keys' names, types, ages, expiry and use, read only;
thresholds give exit 1 naming the tenants over them, in text, JSON and JUnit (a nightly CI job)."""

from __future__ import annotations

import copy
import datetime as dt
import json
import uuid
import xml.etree.ElementTree as ET

import yaml
from conftest import cli
from hypothesis import given
from hypothesis import strategies as st
from test_key_rotation import age

from provisioner.playbook.durations import UNITS, format_age, parse_duration
from provisioner.sim.generate import default_landscape

FLEET, OLD = 20, (3, 7, 12, 18)


def generated_fleet() -> dict:
    """20 tenants provisioned after 2023-10-16, each with SAP's generated instance and binding; the bindings of
    the tenants in OLD were made 400 days ago, the others 20 days ago."""
    land = default_landscape()
    template = next(s for s in land["subaccounts"] if s["subdomain"] == "initech-cloudalm")
    today = dt.datetime.now(dt.UTC).date()
    land["subaccounts"] = []
    for i in range(1, FLEET + 1):
        name = f"gen-{i:03d}"
        sub = copy.deepcopy(template)
        sub.update(guid=str(uuid.uuid5(uuid.NAMESPACE_DNS, f"{name}.sub")), display_name=name, subdomain=name)
        inst = sub["service_manager"]["instances"][0]
        inst["guid"] = str(uuid.uuid5(uuid.NAMESPACE_DNS, f"{name}.inst"))
        inst["parameters"]["xs-security"]["xsappname"] = inst["guid"]
        made = today - dt.timedelta(days=400 if i in OLD else 20)
        inst["bindings"] = [{"guid": str(uuid.uuid5(uuid.NAMESPACE_DNS, f"{name}.bind")),
                             "name": f"binding-key-{i:08d}", "created_at": made.isoformat()}]
        land["subaccounts"].append(sub)
    for ent in land["global_account"]["entitlements"]:
        ent["amount"] = max(int(ent.get("amount", 1)), FLEET)
    return land


def fleet_playbook(landscape) -> str:
    path = landscape.dir / "fleet.yaml"
    path.write_text(yaml.safe_dump({
        "version": 1, "tenant": {"provisioned": "2023-11-20", "purposes": ["monitoring"]},
        "btp": {"cis_key": {"file": str(landscape.dir / "cis-key.json")}},
        "steps": {"download": {"path": str(landscape.dir / "keys" / "{tenant}.json")}},
        "tenants": [{"tenant": {"subdomain": f"gen-{i:03d}"}, "btp": {"subaccount": f"gen-{i:03d}"}}
                    for i in range(1, FLEET + 1)]}))
    return str(path)


def test_nightly_ci_key_status_over_a_fleet_names_the_tenants_over_the_age_threshold(make_landscape):
    landscape = make_landscape(generated_fleet())
    pb = fleet_playbook(landscape)
    assert cli("run", pb, "--parallel", "8").exit_code == 0
    landscape.clear_journal()
    junit = landscape.dir / "key-status.xml"
    out = cli("key", "status", pb, "--parallel", "8", "--warn-age", "180d", "--junit", junit)
    assert out.exit_code == 1, out.output
    over = [f"gen-{i:03d}" for i in OLD]
    assert f"4 over a threshold: {', '.join(over)}" in out.stdout
    assert all(f"over: {t} monitoring key binding-key-" in out.stdout for t in over)
    assert landscape.writes() == []  # read only
    suites = ET.parse(junit).getroot()
    assert suites.get("tests") == str(FLEET) and suites.get("failures") == str(len(OLD))
    failed = sorted(c.get("classname") for c in suites.iter("testcase") if c.find("failure") is not None)
    assert failed == over
    assert "over --warn-age 180d" in suites.find(".//failure").get("message")
    doc = json.loads(cli("key", "status", pb, "--warn-age", "180d", "--output", "json").stdout)
    assert doc["over"] == over and doc["ok"] is False and len(doc["tenants"]) == FLEET
    assert cli("key", "status", pb, "--warn-age", "500d").exit_code == 0
    assert landscape.writes() == []


def test_status_shows_both_keys_during_the_grace_period_and_the_age_the_platform_gives(landscape):
    pb = landscape.playbook(**{"rotation": {"grace": "7d"}})
    assert cli("run", pb).exit_code == 0
    assert cli("key", "rotate", pb).exit_code == 0
    age(landscape, 3)
    landscape.clear_journal()
    out = cli("key", "status", pb, "--warn-age", "2d")
    assert out.exit_code == 1, out.output
    lines = [line for line in out.stdout.splitlines() if line.startswith("acme-cloudalm")]
    assert len(lines) == 2
    assert "replaced by cloudalm-api-key-" in lines[0] and "in use" in lines[1] and "3d" in lines[1]
    assert landscape.writes() == []


def test_status_of_a_tenant_not_provisioned_says_so_and_exits_1(landscape):
    out = cli("key", "status", landscape.playbook())
    assert out.exit_code == 1 and "not read" in out.stdout


def test_bad_thresholds_are_bad_input(landscape):
    pb = landscape.playbook()
    for flag, value in (("--warn-age", "180"), ("--warn-age", "-1d"), ("--warn-expiry", "1.5d"),
                        ("--warn-age", "999999w")):
        out = cli("key", "status", pb, flag, value)
        assert out.exit_code == 2, (flag, value, out.output)
        assert out.output.count("\n") == 1 and flag in out.output


@given(st.integers(min_value=0, max_value=99999), st.sampled_from(sorted(UNITS)))
def test_a_duration_reads_back_as_written(number, unit):
    text = f"{number}{unit}"
    seconds = number * UNITS[unit]
    assert parse_duration(text) == seconds
    if seconds < 100000 * UNITS["d"]:  # a table shows days
        assert parse_duration(format_age(seconds)) <= seconds


@given(st.text(max_size=12))
def test_anything_else_is_refused_with_the_form(text):
    try:
        seconds = parse_duration(text)
    except ValueError as exc:
        assert "whole number of at most 5 digits and a unit" in str(exc)
    else:
        assert text[-1] in UNITS and text[:-1].isdigit() and 0 <= seconds <= 99999 * UNITS["w"]


def test_an_x509_key_expiring_within_warn_expiry_is_named_with_its_date(landscape):
    from test_x509_keys import x509_playbook

    pb = x509_playbook(landscape)  # a 2-day certificate
    assert cli("run", pb).exit_code == 0
    landscape.clear_journal()
    out = cli("key", "status", pb, "--warn-expiry", "30d")
    assert out.exit_code == 1, out.output
    assert "x509" in out.stdout and "within --warn-expiry 30d" in out.stdout and "1 over a threshold" in out.stdout
    doc = json.loads(cli("key", "status", pb, "--output", "json").stdout)
    (key,) = doc["tenants"][0]["keys"]
    assert key["credential_type"] == "x509" and key["last_used"] is None
    expires = dt.datetime.fromisoformat(key["expires"].replace("Z", "+00:00"))
    assert dt.timedelta(days=1) < expires - dt.datetime.now(dt.UTC) <= dt.timedelta(days=2)
    assert doc["ok"] is True and key["over"] == []
    assert cli("key", "status", pb, "--warn-expiry", "1h").exit_code == 0
    assert landscape.writes() == []
