"""Independent chains side by side in one tenant's run: the entitlement (BTP) beside the space (CF). What the user
sees stays the same: steps in the declared order, the same words, the steps that need a failed one skipped."""

from __future__ import annotations

import json
import threading

import pytest
import requests
from conftest import cli, steps_of
from hostile import ScriptedServer, _forward

ALL = ["space", "entitlement", "instance", "key", "download", "check", "test"]
PUT_ENTITLEMENT = "/entitlements/v1/subaccountServicePlans"


def _steps(out) -> list[dict]:
    return json.loads(out.stdout)["tenants"][0]["steps"]


def test_the_space_is_created_while_the_entitlement_is_assigned(landscape):
    """The space's POST is held until the simulator has seen the entitlement's PUT: it goes through only because
    the two chains run side by side (one after the other, the PUT would come after the space)."""
    held: list[bool] = []

    def put_seen() -> bool:
        journal = requests.get(landscape.url + "/_sim/requests", timeout=10).json()
        return any(e["method"] == "PUT" and e["path"].endswith(PUT_ENTITLEMENT) for e in journal)

    def script(method, path, body, headers):
        if method == "POST" and path == "/v3/spaces":
            pause = threading.Event()
            for _ in range(3000):  # driven by the simulator's journal (at most a minute), not by time
                if put_seen():
                    break
                pause.wait(0.02)
            held.append(put_seen())
        status, hdrs, data = _forward(method, landscape.url + path, headers, body)  # a transparent double
        data = data.replace(landscape.url.encode(), double.url.encode())
        return status, {k: v.replace(landscape.url, double.url) for k, v in hdrs.items()}, data

    with ScriptedServer(landscape.url, script) as double:
        out = cli("run", landscape.playbook(cf__api=double.url), "--output", "json")
    assert out.exit_code == 0, out.output
    assert held == [True]
    steps = _steps(out)
    assert [s["step"] for s in steps] == ALL  # reported in the declared order
    assert [s["action"] for s in steps] == ["created"] * 5 + ["passed"] * 2
    assert all(s["requests"] >= 0 for s in steps) and sum(s["requests"] for s in steps) <= \
        json.loads(out.stdout)["tenants"][0]["requests"]


def test_a_failed_space_skips_what_needs_it_and_not_the_entitlement(landscape):
    out = cli("run", landscape.playbook(**{"cf.org": "no-such-org"}), "--output", "json")
    assert out.exit_code == 1
    steps = {s["step"]: s for s in _steps(out)}
    assert list(steps) == ALL
    assert steps["space"]["action"] == "failed" and "no-such-org" in steps["space"]["error"]
    assert steps["entitlement"]["action"] == "created"  # independent of the org: assigned all the same
    for name in ALL[2:]:
        assert steps[name]["action"] == "skipped" and steps[name]["reasons"] == ["an earlier step failed"]


def test_a_converged_rerun_counts_the_same_requests_per_step_each_time(landscape):
    pb = landscape.playbook()
    assert cli("run", pb).exit_code == 0
    counts = []
    for _ in range(2):
        landscape.clear_journal()
        out = cli("run", pb, "--output", "json")
        assert out.exit_code == 0, out.output
        assert landscape.writes() == []
        counts.append({s["step"]: s["requests"] for s in _steps(out)})
        # + the CF sign-in (GET /, token) and the org both chains read, looked up before they start
        assert sum(counts[-1].values()) + 3 == len(landscape.journal())
    assert counts[0] == counts[1]


def test_ctrl_c_in_a_library_caller_stops_the_steps_and_a_next_run_goes_on(landscape):
    """KeyboardInterrupt on the caller's thread (no CLI signal handler) while the entitlement waits: the steps
    running beside are stopped, the interrupt propagates, and the process is not left cancelled."""
    from provisioner import clock
    from provisioner.engine.runner import run
    from provisioner.playbook import load as playbook

    requests.patch(landscape.url + "/_sim/faults", json={"entitlements_stuck": True}, timeout=10).raise_for_status()
    pb = playbook.load(landscape.playbook())

    def on_step(result, step) -> None:
        if step.step == "space":
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run(pb, on_step=on_step)
    assert not clock.cancelled()
    requests.delete(landscape.url + "/_sim/faults", timeout=10).raise_for_status()
    assert run(pb).ok


def test_a_failed_entitlement_job_is_named_and_a_rerun_assigns_again(landscape):
    """The assignment's state is polled (not the job); on PROCESSING_FAILED the job's own failure is shown."""
    faults = landscape.url + "/_sim/faults"
    requests.patch(faults, json={"job_failures": {"entitlements.assign": "quota service unavailable"}},
                   timeout=10).raise_for_status()
    pb = landscape.playbook()
    out = cli("run", pb, "--output", "json")
    assert out.exit_code == 1
    steps = {s["step"]: s for s in _steps(out)}
    assert steps["entitlement"]["action"] == "failed"
    assert steps["entitlement"]["error"].startswith("entitlement job failed: quota service unavailable")
    assert steps["space"]["action"] == "created" and steps["instance"]["action"] == "skipped"

    requests.delete(faults, timeout=10).raise_for_status()
    again = cli("run", pb, "--output", "json")
    assert again.exit_code == 0, again.output
    steps = {s["step"]: s for s in _steps(again)}
    assert steps["entitlement"]["action"] == "updated"
    assert "the last assignment failed (quota service unavailable); assign again" in steps["entitlement"]["reasons"][0]


def test_first_run_falls_back_to_the_marketplace_when_btp_refuses(landscape):
    """A first run reads the BTP assignment (not the marketplace) before its PUT; when BTP refuses that read
    (here a 422 on every assignments read), a plan visible in the org still proves the entitlement."""
    pb = landscape.playbook()
    assert cli("run", pb).exit_code == 0
    landscape.key_path.unlink()  # a first run again: no key file
    requests.patch(landscape.url + "/_sim/faults", json={"failures": [
        {"paths": ["*/entitlements/v1/assignments"], "kinds": ["422"]}]}, timeout=10).raise_for_status()
    again = cli("run", pb)
    assert again.exit_code == 0, again.output
    assert steps_of(again.stdout)["entitlement"] == "unchanged"
    assert "is in the org's marketplace" in again.stdout
