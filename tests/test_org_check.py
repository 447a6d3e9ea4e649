"""The org of another subaccount: before anything is written, the run checks that cf.org is the org of
btp.subaccount's Cloud Foundry environment (Provisioning service), and a converged re-run pays nothing for it."""

from __future__ import annotations

import json

import pytest
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


CANNOT_CHECK = "cannot check that cf.org '{org}' belongs to btp.subaccount 'acme-cloudalm'"
WAYS_OUT = ("subaccount.environment.read", "btp.environments_key", "btp.org_check: off")
UPLOAD = "next step (manual): upload"


def only_sign_ins(landscape) -> None:
    """Nothing was written: the journal holds no POST/PUT/PATCH/DELETE but token requests (sign-ins)."""
    changes = [(e["method"], e["path"]) for e in landscape.journal()
               if e["method"] in ("POST", "PUT", "PATCH", "DELETE")]
    assert all(path.endswith("/oauth/token") for _, path in changes), changes


@pytest.mark.parametrize("org", [GLOBEX_ORG, "acme-cloudalm"])
@pytest.mark.parametrize("command", ["run", "plan"])
@pytest.mark.parametrize("setting", [None, "auto", "required"])
def test_a_refused_environments_read_stops_before_any_write(landscape, org, command, setting):
    """Fails closed: the org cannot be proven to be the subaccount's (the wrong one or the right one), so nothing
    is written; one line names the permission and the two ways out."""
    landscape.config(central_reads_environments=False)
    pb = landscape.playbook(**{"cf.org": org, "btp.org_check": setting})
    landscape.clear_journal()
    out = cli(command, pb)
    assert out.exit_code == 1, out.output
    lines = [ln for ln in out.output.splitlines() if CANNOT_CHECK.format(org=org) in ln]
    assert len(lines) == 1, out.output
    assert all(way in lines[0] for way in WAYS_OUT) and "HTTP 403" in lines[0] and "nothing was written" in lines[0]
    assert UPLOAD not in out.output
    only_sign_ins(landscape)
    assert not landscape.key_path.exists()


def test_org_check_off_written_in_the_playbook_proceeds_and_says_so(landscape):
    landscape.config(central_reads_environments=False)
    pb = landscape.playbook(**{"btp.org_check": "off"})
    landscape.clear_journal()
    out = cli("run", pb, "-o", "json")
    assert out.exit_code == 0, out.output
    assert provisioning_reads(landscape) == []
    reasons = [r for s in json.loads(out.stdout)["tenants"][0]["steps"] for r in s["reasons"]]
    assert "not checked that cf.org belongs to btp.subaccount (btp.org_check: off)" in reasons


def test_a_local_cis_key_reads_the_environments_when_the_central_one_may_not(landscape, tmp_path):
    landscape.config(central_reads_environments=False)
    local = tmp_path / "cis-local.json"
    local.write_text(json.dumps(landscape.sim.info()["cis_local_keys"]["acme-cloudalm"]))
    pb = landscape.playbook(**{"btp.environments_key": {"file": str(local)}})
    landscape.clear_journal()
    out = cli("run", pb)
    assert out.exit_code == 0, out.output
    assert len(provisioning_reads(landscape)) == 1
    wrong = landscape.playbook("wrong.yaml", **{"btp.environments_key": {"file": str(local)}, "cf.org": GLOBEX_ORG,
                                                "steps.download.path": str(tmp_path / "wrong.json")})
    landscape.clear_journal()
    out = cli("run", wrong)
    assert out.exit_code == 1, out.output
    assert f"cf.org '{GLOBEX_ORG}' is not the org of subaccount 'acme-cloudalm'" in out.output
    only_sign_ins(landscape)


def test_doctor_warns_when_it_cannot_check(landscape):
    landscape.config(central_reads_environments=False)
    out = cli("doctor", landscape.playbook())
    assert out.exit_code == 1, out.output  # a run would stop there
    [line] = [ln for ln in out.stdout.splitlines() if "org of the subaccount" in ln]
    assert line.startswith("warn  org of the subaccount: not checked: ")
    assert all(way in line for way in WAYS_OUT)
    assert "pass  org of the subaccount" not in out.stdout
    off = cli("doctor", landscape.playbook(**{"btp.org_check": "off"}))
    assert off.exit_code == 0, off.output  # the playbook chose so: warned, a run goes on
    assert "warn  org of the subaccount: not checked: btp.org_check is off in the playbook" in off.stdout


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


@pytest.mark.parametrize("command", [("key", "rotate"), ("revoke", "--yes")])
def test_rotate_and_revoke_write_only_in_an_org_proven_the_subaccounts(landscape, command):
    assert cli("run", landscape.playbook()).exit_code == 0
    landscape.config(central_reads_environments=False)
    landscape.clear_journal()
    out = cli(*command, landscape.playbook())
    assert out.exit_code == 1, out.output
    assert CANNOT_CHECK.format(org="acme-cloudalm") in out.output and all(w in out.output for w in WAYS_OUT)
    only_sign_ins(landscape)
