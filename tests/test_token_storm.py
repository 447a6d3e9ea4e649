"""Issue 22: tokens that expire every 0.25 s together with 30 % injected faults. A 401 on a token just issued is a
new expiry, not a refusal: the run signs in again (a few times, with a pause) and converges; refused credentials are
reported only when the token endpoint says so. On the skip clock: every backoff of 0.25 s or more outlives the
token (the simulator revokes them on its clock, which the skip clock moves)."""

from __future__ import annotations

import pytest
import requests
from conftest import cli

STORM_RUNS = 20


@pytest.mark.parametrize("seed", range(STORM_RUNS))
def test_token_storm_with_30_percent_faults_converges(make_landscape, seed):
    land = make_landscape(job_seconds=0.0, faults={"seed": 1000 + seed, "fail_rate": 0.3, "retry_after": 0,
                                                   "tokens_expire_every": 0.25})
    out = cli("run", land.playbook())
    assert out.exit_code == 0, out.output
    journal = land.journal()
    assert any(e.get("fault") for e in journal), "no fault was injected"


def test_refused_credentials_are_reported_only_by_the_token_endpoint(landscape, monkeypatch):
    """A wrong password: the token endpoint's 401 names the user, at once (no renewal loop)."""
    requests.patch(landscape.url + "/_sim/faults", json={"tokens_expire_every": 0.25}, timeout=10)
    monkeypatch.setenv("CF_PASSWORD", "wrong")
    out = cli("run", landscape.playbook())
    assert out.exit_code == 1
    assert "refused the credentials of the CF user 'admin@example.com'" in out.output
    tokens = [e for e in landscape.journal() if e["path"] == "/uaa/oauth/token"]
    assert 1 <= len(tokens) <= 8


def test_the_simulator_revokes_tokens_every_period_of_its_clock(landscape, skip_clock):
    from provisioner.clients.cf import CloudFoundry
    from provisioner.secret import Secret

    cf = CloudFoundry(landscape.url)
    cf.login_password(landscape.env["CF_USERNAME"], Secret(landscape.env["CF_PASSWORD"]))
    requests.patch(landscape.url + "/_sim/faults", json={"tokens_expire_every": 0.25}, timeout=10)
    landscape.clear_journal()
    cf.find_org("acme-cloudalm")  # starts the period
    skip_clock.sleep(0.3)
    assert cf.find_org("acme-cloudalm")["name"] == "acme-cloudalm"  # a new token, at once
    assert [(e["path"], e["status"]) for e in landscape.journal()] == [
        ("/v3/organizations", 200), ("/v3/organizations", 401), ("/uaa/oauth/token", 200),
        ("/v3/organizations", 200)]
