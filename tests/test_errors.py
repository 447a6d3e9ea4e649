"""Errors a person can act on: API refusals become one line with the fix (roles, entitlements, quotas)."""

from __future__ import annotations

from conftest import cli, steps_of

from provisioner.sim.generate import default_landscape


def test_missing_org_manager_role_names_the_role(make_landscape):
    data = default_landscape()
    data["subaccounts"][0]["cf_org"]["roles"] = {"organization_user": ["admin@example.com"]}
    land = make_landscape(data)
    out = cli("run", land.playbook())
    assert out.exit_code == 1
    assert steps_of(out.stdout)["space"] == "failed"
    assert "CF-NotAuthorized" in out.stdout and "lacks the Org Manager role in the org" in out.stdout


def test_global_account_without_the_plan(make_landscape):
    data = default_landscape()
    data["global_account"]["entitlements"] = []
    data["subaccounts"] = data["subaccounts"][:1]  # only the tenant with nothing assigned
    land = make_landscape(data)
    out = cli("plan", land.playbook())
    assert out.exit_code == 1
    assert "the global account has no entitlement for SAPCloudALMAPIs/standard (BTP 30015)" in out.stdout


def test_quota_used_up_says_where_to_free_it(make_landscape):
    data = default_landscape()
    data["global_account"]["entitlements"][0]["amount"] = 2  # the era tenants hold both
    land = make_landscape(data)
    out = cli("run", land.playbook())
    assert out.exit_code == 1
    assert steps_of(out.stdout)["entitlement"] == "failed"
    assert "30009" in out.stdout and "quota for this plan is used up" in out.stdout


def test_enable_type_plan_is_assigned_with_enable(make_landscape):
    data = default_landscape()
    data["global_account"]["entitlements"][0]["category"] = "ELASTIC_SERVICE"
    land = make_landscape(data)
    out = cli("run", land.playbook())
    assert out.exit_code == 0, out.output
    assert steps_of(out.stdout)["entitlement"] == "created"
    # the category decided enable up front: one PUT, accepted (an amount would have met 12003 first)
    assert [e["status"] for e in land.journal() if e["method"] == "PUT"] == [202]

