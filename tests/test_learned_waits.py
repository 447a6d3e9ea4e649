"""Waits that know how long a kind of job takes (a job-times cache from earlier runs): around the expected end they
read what the job makes (the plan in the org's marketplace, the key's credentials) instead of the job, so nothing
is read again after it; a job that fails is still told by its job."""

from __future__ import annotations

import json
from urllib.parse import urlsplit

import requests
from conftest import cli, steps_of

JOB = 2.0


def learned(landscape, monkeypatch) -> None:
    """A job-times cache saying that this landscape's jobs end about ``JOB`` seconds after their first read."""
    host = urlsplit(landscape.url).netloc
    kinds = (f"{host} btp entitlement assignment", f"{host} cf service_instance.create",
             f"{host} cf service_keys.create")
    store = landscape.dir / "job-times.json"
    store.write_text(json.dumps({kind: [[JOB - 0.005, JOB + 0.005]] for kind in kinds}))
    monkeypatch.setenv("PROVISIONER_JOB_TIMES", str(store))


def completed_by(landscape) -> dict[str, str]:
    """Each job's operation → the request whose arrival completed it (the simulator completes due jobs lazily)."""
    return {j["operation"]: f"{e['method']} {e['path']}" for e in landscape.journal() for j in e["jobs"]
            if j["event"] == "complete"}


def test_a_fresh_tenant_with_learned_job_times_reads_what_the_jobs_make(make_landscape, monkeypatch):
    landscape = make_landscape(job_seconds=JOB)
    learned(landscape, monkeypatch)
    out = cli("run", landscape.playbook())
    assert out.exit_code == 0, out.output
    assert landscape.key_path.exists()
    journal = landscape.journal()
    put = next(i for i, e in enumerate(journal) if e["method"] == "PUT")
    after_put = [(e["method"], e["path"]) for e in journal[put + 1:]]
    # the assignment read once right after its PUT, then the plan in the org's marketplace (which job a request
    # completes depends on when it arrives: the space chain runs beside this one)
    assert ("GET", "/v3/service_plans") in after_put
    assert len([p for m, p in after_put if m == "GET" and p.endswith("/assignments")]) <= 1
    assert completed_by(landscape)["service_keys.create"].endswith("/details")  # the key's credentials: no read after
    # the new space holds no instance: the instance step asks nothing before creating it
    assert not [e for e in journal if e["method"] == "GET" and e["path"] == "/v3/service_instances"]


def test_a_failed_key_job_is_told_though_the_wait_reads_the_credentials(make_landscape, monkeypatch):
    landscape = make_landscape(job_seconds=JOB)
    learned(landscape, monkeypatch)
    requests.patch(landscape.url + "/_sim/faults",
                   json={"job_failures": {"service_keys.create": "the broker refused the binding"}}, timeout=10)
    out = cli("run", landscape.playbook())
    assert out.exit_code == 1
    assert steps_of(out.stdout)["key"] == "failed"
    assert "the broker refused the binding" in out.stdout
    assert not landscape.key_path.exists()
