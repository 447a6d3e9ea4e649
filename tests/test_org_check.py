"""The org of another subaccount: before anything is written, the run checks that cf.org is the org of
btp.subaccount's Cloud Foundry environment (Provisioning service), and a converged re-run pays nothing for it."""

from __future__ import annotations

import json

from conftest import cli, steps_of

GLOBEX_ORG = "globex-cloudalm"  # the org of another subaccount of the same global account


def provisioning_reads(landscape) -> list[dict]:
    return [e for e in landscape.journal() if e["path"].endswith("/provisioning/v1/environments")]


def test_org_of_another_subaccount_fails_before_any_write(landscape):
    pb = landscape.playbook(**{"cf.org": GLOBEX_ORG})
    landscape.clear_journal()
    out = cli("run", pb)
    assert out.exit_code == 1, out.output
    line = next(ln for ln in out.output.splitlines() if "belongs to subaccount" in ln)
    assert f"cf.org '{GLOBEX_ORG}' belongs to subaccount 2ec4dc02-36a7-4541-ab83-dd839530c369" in line
    assert "not to btp.subaccount 'acme-cloudalm'" in line and "fix cf.org or btp.subaccount" in line
    assert landscape.writes() == []
    assert not landscape.key_path.exists()
    got = steps_of(out.stdout)
    # the first step that would write fails (on a first run the entitlement), those after it are skipped
    assert "failed" in got.values() and got["key"] == got["download"] == "skipped"


def test_plan_with_changes_says_so_too(landscape):
    pb = landscape.playbook(**{"cf.org": GLOBEX_ORG})
    out = cli("plan", pb)
    assert out.exit_code == 1, out.output
    assert "belongs to subaccount" in out.output
    assert landscape.writes() == []


def test_right_org_passes_and_converged_rerun_reads_no_environment(landscape):
    pb = landscape.playbook()
    landscape.clear_journal()
    assert cli("run", pb).exit_code == 0
    assert len(provisioning_reads(landscape)) == 1
    landscape.clear_journal()
    again = cli("run", pb)
    assert again.exit_code == 0, again.output
    assert provisioning_reads(landscape) == []


def test_refused_token_leaves_a_note_or_fails_when_required(landscape):
    landscape.config(central_reads_environments=False)
    pb = landscape.playbook(**{"cf.org": GLOBEX_ORG, "btp.org_check": "required"})
    out = cli("run", pb)
    assert out.exit_code == 1, out.output
    assert "HTTP 403" in out.output
    assert landscape.writes() == []

    pb = landscape.playbook()  # auto: the run goes on and says what it could not check
    out = cli("run", pb, "-o", "json")
    assert out.exit_code == 0, out.output
    reasons = [r for s in json.loads(out.stdout)["tenants"][0]["steps"] for r in s["reasons"]]
    assert any("not checked that cf.org belongs to btp.subaccount" in r and "plan local" in r for r in reasons)


def test_off_skips_the_check(landscape):
    pb = landscape.playbook(**{"btp.org_check": "off"})
    landscape.clear_journal()
    assert cli("run", pb).exit_code == 0
    assert provisioning_reads(landscape) == []


def test_doctor_names_the_mismatch(landscape):
    out = cli("doctor", landscape.playbook(**{"cf.org": GLOBEX_ORG}))
    assert out.exit_code == 1, out.output
    assert "belongs to subaccount" in out.output
    good = cli("doctor", landscape.playbook())
    assert "cf.org is the org of the subaccount's Cloud Foundry environment" in good.output



def test_subaccount_by_guid_is_read_once_by_the_check_and_the_entitlement(landscape):
    acme = "4c493a34-7e8f-4587-87f3-bb54f4a19389"
    pb = landscape.playbook(**{"btp.subaccount": acme})
    landscape.clear_journal()
    assert cli("run", pb).exit_code == 0
    reads = [e for e in landscape.journal() if e["path"].endswith(f"/accounts/v1/subaccounts/{acme}")]
    assert len(reads) == 1
