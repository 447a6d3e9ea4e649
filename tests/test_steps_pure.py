"""Each step's ``compare`` is a pure function: built from a real read against the simulator, called twice on the
same inputs it gives equal changes and leaves the inputs as they were; and in a plan later steps learn from the
earlier steps' changes (the typed ``Upstream``), not from shared state."""

from __future__ import annotations

import copy

import pytest
from conftest import cli

from provisioner.clients.http import RequestStats
from provisioner.engine.eras import select_steps
from provisioner.engine.runner import connect, pool_for, resolve_secrets
from provisioner.platform.cloudfoundry import CloudFoundryPlatform
from provisioner.playbook import load as pbmod
from provisioner.steps.base import Action, Change, Done, Env, Planned, Step, Upstream, VerifyStep


def env_for(landscape, *, dry_run: bool = True) -> Env:
    pb = pbmod.load(landscape.playbook())
    resolve_secrets(pb)
    cf, btp = connect(pb, pool_for(pb), RequestStats(), need_btp=True)
    return Env(pb, cf, btp, CloudFoundryPlatform(cf), dry_run=dry_run)


def plan_by_hand(env: Env) -> dict[str, Change]:
    """Read and compare every change step in order, each twice, handing on Done/Planned as the runner does."""
    upstream = Upstream()
    changes: dict[str, Change] = {}
    for step, skip in select_steps(env.settings)[1]:
        if skip is not None or isinstance(step, VerifyStep):
            continue
        assert isinstance(step, Step)
        observation = step.read(env, upstream)
        before = copy.deepcopy((env.settings, observation, upstream))
        first = step.compare(env.settings, observation, upstream)
        second = step.compare(env.settings, observation, upstream)
        assert first == second, step.name
        assert (env.settings, observation, upstream) == before, f"{step.name}: compare changed its inputs"
        changes[step.name] = first
        result = Done(step.current(observation)) if first.action is Action.NONE else \
            Planned(first, step.current(observation))
        upstream = upstream.with_result(step.name, result)
    return changes


def test_compare_is_pure_and_later_steps_learn_from_earlier_changes(landscape):
    changes = plan_by_hand(env_for(landscape))
    assert {name: c.action for name, c in changes.items()} == {
        "space": Action.CREATE, "entitlement": Action.CREATE, "instance": Action.CREATE, "key": Action.CREATE,
        "download": Action.CREATE}
    assert changes["instance"].reasons == ("create instance cloudalm-api of SAPCloudALMAPIs/standard "
                                           "(in the new space)",)
    assert changes["key"].reasons == ("create service key cloudalm-api-key (on the new instance)",)
    assert changes["download"].reasons[0].startswith("download the new service key to ")


def test_compare_is_pure_on_a_converged_tenant(landscape):
    assert cli("run", landscape.playbook()).exit_code == 0
    changes = plan_by_hand(env_for(landscape, dry_run=False))
    assert {c.action for c in changes.values()} == {Action.NONE}


def test_the_plan_of_a_fresh_tenant_names_what_later_steps_depend_on(landscape):
    out = cli("plan", landscape.playbook())
    assert out.exit_code == 2, out.output
    assert "(in the new space)" in out.stdout and "(on the new instance)" in out.stdout


@pytest.mark.parametrize("name", ["space", "entitlement", "instance", "key", "download"])
def test_changes_and_results_are_frozen(landscape, name):
    import dataclasses

    change = plan_by_hand(env_for(landscape))[name]
    with pytest.raises(dataclasses.FrozenInstanceError):
        change.action = Action.NONE  # type: ignore[misc]
    assert isinstance(change.reasons, tuple)
