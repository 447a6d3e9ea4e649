"""Issue 18 item 1: links an API hands back (a CF job ``Location``, ``pagination.next.href``, a Service Manager
operation ``Location``) that urllib and urllib3 read differently (a backslash), or that carry userinfo: nothing is
sent to the other port (a second loopback server records every request), the run fails with one line naming the
way out. Also: ``--verbose`` logs the origin each request went to."""

from __future__ import annotations

import json
import logging

import pytest
from conftest import cli, steps_of
from hostile import Recorder
from hostile import Transparent as Double


def forms(evil: str, double: str) -> dict[str, str]:
    """The two link forms, both at the double's own host for urllib, one leading to the recorder for urllib3."""
    evil_port, double_port = evil.rsplit(":", 1)[1], double.rsplit(":", 1)[1]
    return {"backslash": f"http://127.0.0.1:{evil_port}\\@127.0.0.1:{double_port}",
            "userinfo": f"http://127.0.0.1:{double_port}@127.0.0.1:{evil_port}"}


def one_line(output: str, says: str) -> str:
    lines = [line for line in output.splitlines() if says in line]
    assert len(lines) == 1, output
    assert "Traceback" not in output and "unexpected" not in output
    return lines[0]


@pytest.mark.parametrize("form", ["backslash", "userinfo"])
def test_a_cf_job_location_to_another_port_is_refused(landscape, form):
    with Recorder() as evil:
        def rewrite(method, path, status, hdrs, data):
            if method == "POST" and path == "/v3/service_instances" and status == 202:
                hdrs["Location"] = forms(evil.url, double.url)[form] + "/v3/jobs/x"
                return status, hdrs, data
            return None

        with Double(landscape.url, rewrite) as double:
            out = cli("run", landscape.playbook(cf__api=double.url))
        assert evil.seen == []
    assert out.exit_code == 1
    assert steps_of(out.stdout)["instance"] == "failed"
    line = one_line(out.output, "no request was sent to it")
    assert ("has a backslash" if form == "backslash" else "has userinfo") in line
    assert "report it to its operator" in line


@pytest.mark.parametrize("form", ["backslash", "userinfo"])
def test_a_cf_next_page_to_another_port_is_refused(landscape, form):
    with Recorder() as evil:
        def rewrite(method, path, status, hdrs, data):
            if method == "GET" and path.startswith("/v3/service_instances?") and status == 200:
                page = json.loads(data)
                page["pagination"]["next"] = {"href": forms(evil.url, double.url)[form] + "/v3/service_instances"}
                return status, hdrs, json.dumps(page).encode()
            return None

        with Double(landscape.url, rewrite) as double:
            out = cli("run", landscape.playbook(cf__api=double.url))
        assert evil.seen == []
    assert out.exit_code == 1
    one_line(out.output, "no request was sent to it")


@pytest.mark.parametrize("form", ["backslash", "userinfo"])
def test_a_service_manager_operation_link_to_another_port_is_refused(landscape, form):
    with Recorder() as evil:
        def rewrite(method, path, status, hdrs, data):
            if method == "POST" and path.startswith("/sm/v1/service_instances") and status == 202:
                hdrs["Location"] = forms(evil.url, double.url)[form] + "/sm" + hdrs["Location"]
                return status, hdrs, data
            return None

        with Double(landscape.url, rewrite) as double:
            cis = landscape.dir / "cis-key.json"
            cis.write_text(cis.read_text().replace(landscape.url, double.url))
            out = cli("run", landscape.playbook(cf=None))
        assert evil.seen == []
    assert out.exit_code == 1
    assert steps_of(out.stdout)["instance"] == "failed"
    one_line(out.output, "no request was sent to it")


def test_verbose_logs_the_origin_each_request_went_to(landscape, caplog):
    with caplog.at_level(logging.DEBUG, logger="provisioner.http"):
        out = cli("run", landscape.playbook())
    assert out.exit_code == 0, out.output
    port = landscape.url.rsplit(":", 1)[1]
    lines = [r.getMessage() for r in caplog.records if r.name == "provisioner.http"]
    assert f"GET {landscape.url}/v3/organizations -> 200" in "\n".join(lines)
    assert all(f"127.0.0.1:{port}/" in line for line in lines)
