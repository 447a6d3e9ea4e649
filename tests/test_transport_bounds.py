"""Issue 18 item 2: nothing a server does outlasts the bounds. Each hang (a 429 asking for a very long wait, as
seconds, an HTTP date or an ``X-RateLimit-Reset``; a body or headers dripping one byte every 0.5 s; a server that
never answers) ends within ``--timeout`` + 2 s (a hard bound: the run is watched from another thread) with one
line saying what happened; each pagination loop stops after a bounded number of requests, counted in the server;
a too large answer is refused with one line."""

from __future__ import annotations

import gzip
import json
import threading

import pytest
from conftest import cli, steps_of
from hostile import ScriptedServer, Transparent, drip, silent

TIMEOUT = 3
HANG_PATH = "/v3/service_plans"  # read by one step; the steps after it need it


def watched(*args: str):
    """``cli(*args)`` in a thread that must end within ``--timeout`` + 2 s (else the test fails)."""
    box: dict = {}
    thread = threading.Thread(target=lambda: box.setdefault("out", cli(*args)), daemon=True)
    thread.start()
    thread.join(TIMEOUT + 2)
    assert not thread.is_alive(), f"the run outlasted --timeout {TIMEOUT} + 2 s"
    return box["out"]


def one_line(output: str, says: str) -> str:
    lines = [line for line in output.splitlines() if says in line]
    assert len(lines) == 1, output
    assert "Traceback" not in output and "unexpected" not in output
    return lines[0]


def hostile_at(path: str, answer):
    """A double of the simulator (``cf.api``) that answers ``answer`` (a tuple or a Raw) to GET ``path?...``."""
    return lambda method, p, body, headers: answer if method == "GET" and p.split("?")[0] == path else None


JSON = {"Content-Type": "application/json"}
THROTTLED = b'{"errors": [{"code": 10013, "title": "CF-RateLimitExceeded", "detail": "Rate Limit Exceeded"}]}'


@pytest.mark.parametrize(("headers", "says"), [
    ({"Retry-After": "99999"}, "the API asked to wait 99999 s; giving up after"),
    ({"Retry-After": "Fri, 31 Dec 2099 23:59:59 GMT"}, "; giving up after"),
    ({"X-RateLimit-Reset": "4102444800"}, "; giving up after"),
    ({"Retry-After": "10"}, "the API asked to wait 10 s; giving up after"),
])
def test_a_429_asking_for_a_long_wait_is_not_waited_for(landscape, headers, says):
    with ScriptedServer(landscape.url, hostile_at(HANG_PATH, (429, {**JSON, **headers}, THROTTLED))) as double:
        out = watched("run", landscape.playbook(cf__api=double.url), "--timeout", str(TIMEOUT))
    assert out.exit_code == 1
    line = one_line(out.output, says)
    if headers.get("Retry-After") == "10":  # under the cap, past the run's time limit
        assert "the run's time limit of 3 s (--timeout, timeouts.run) ends before that" in line
    else:
        assert "http.max_retry_wait is 120 s: re-run later" in line


@pytest.mark.parametrize("answer", [
    drip(200, JSON, b'{"resources": [], "pagination": {"next": null}}'),
    drip(200, JSON, b'{"resources": []}', head_too=True),
    silent(),
], ids=["body dripping", "headers dripping", "never answers"])
def test_a_server_that_stalls_is_cut_off_at_the_runs_time_limit(landscape, answer):
    with ScriptedServer(landscape.url, hostile_at(HANG_PATH, answer)) as double:
        out = watched("run", landscape.playbook(cf__api=double.url), "--timeout", str(TIMEOUT))
    assert out.exit_code == 1
    line = one_line(out.output, "no complete answer after")
    assert "the run's time limit of 3 s (--timeout, timeouts.run) ran out" in line


@pytest.mark.parametrize("how", ["timeouts.run", "PROVISIONER_TIMEOUT"])
def test_the_runs_time_limit_from_the_playbook_or_the_environment(landscape, monkeypatch, how):
    with ScriptedServer(landscape.url, hostile_at(HANG_PATH, silent())) as double:
        if how == "PROVISIONER_TIMEOUT":
            monkeypatch.setenv(how, str(TIMEOUT))
            out = watched("run", landscape.playbook(cf__api=double.url))
        else:
            out = watched("run", landscape.playbook(cf__api=double.url, **{how: TIMEOUT}))
    assert out.exit_code == 1
    line = one_line(out.output, "no complete answer after")
    assert "the run's time limit of 3 s (--timeout, timeouts.run) ran out" in line


def test_a_dripping_body_is_cut_off_at_the_request_timeout(landscape):
    """No --timeout: http.request_timeout bounds one request, retries included."""
    with ScriptedServer(landscape.url, hostile_at(HANG_PATH, drip(200, JSON, b'{"resources": []}' * 10))) as double:
        out = watched("run", landscape.playbook(cf__api=double.url, **{"http.request_timeout": 1.5}))
    assert out.exit_code == 1
    assert "http.request_timeout is 1.5 s" in one_line(out.output, "no complete answer after")


def page_of(url: str, next_href: str | None) -> bytes:
    return json.dumps({"pagination": {"next": {"href": next_href} if next_href else None},
                       "resources": []}).encode()


def test_pagination_loops_stop_after_bounded_requests(landscape):
    seen: list[str] = []

    def script(method, path, body, headers):
        if method == "GET" and path.startswith("/v3/service_instances?"):
            seen.append(path)
            if "page=2" in path:
                return 200, JSON, page_of(double.url, f"{double.url}/v3/service_instances?page=1")  # back to 1
            if "page=1" in path:
                return 200, JSON, page_of(double.url, f"{double.url}/v3/service_instances?page=2")
            return 200, JSON, page_of(double.url, f"{double.url}/v3/service_instances?page=1")
        return None

    with ScriptedServer(landscape.url, script) as double:
        out = cli("run", landscape.playbook(cf__api=double.url))
    assert out.exit_code == 1
    assert "pagination loops" in one_line(out.output, "was read already in this list")
    assert len(seen) <= 4 * 8  # three pages, then the loop is seen (each attempt of the step)


def test_a_next_page_pointing_to_itself_stops(landscape):
    seen: list[str] = []

    def script(method, path, body, headers):
        if method == "GET" and path.startswith("/v3/service_plans"):
            seen.append(path)
            return 200, JSON, page_of(double.url, double.url + path)
        return None

    with ScriptedServer(landscape.url, script) as double:
        out = cli("run", landscape.playbook(cf__api=double.url))
    assert out.exit_code == 1
    one_line(out.output, "was read already in this list")
    assert 1 <= len(seen) <= 2


def test_a_list_longer_than_max_pages_stops(landscape):
    seen: list[str] = []

    def script(method, path, body, headers):
        if method == "GET" and path.startswith("/v3/service_plans"):
            seen.append(path)
            return 200, JSON, page_of(double.url, f"{double.url}/v3/service_plans?page={len(seen) + 1}")
        return None

    with ScriptedServer(landscape.url, script) as double:
        out = cli("run", landscape.playbook(cf__api=double.url, **{"http.max_pages": 5}))
    assert out.exit_code == 1
    one_line(out.output, "more than 5 pages (http.max_pages)")
    assert len(seen) == 5


def test_a_service_manager_page_token_that_repeats_stops(landscape):
    seen: list[str] = []
    item = {"id": "x", "name": "cloudalm-api", "service_plan_id": "p", "labels": {}}

    def rewrite(method, path, status, hdrs, data):
        if method == "GET" and path.startswith("/sm/v1/service_instances?"):
            seen.append(path)
            return 200, JSON, json.dumps({"items": [item], "num_items": 1, "token": "the-same"}).encode()
        return None

    with Transparent(landscape.url, rewrite) as double:
        cis = landscape.dir / "cis-key.json"
        key = json.loads(cis.read_text())
        cis.write_text(json.dumps(key).replace(landscape.url, double.url))
        out = cli("run", landscape.playbook(cf=None))
    assert out.exit_code == 1
    assert "page token the-same" in one_line(out.output, "was read already in this list")
    assert 2 <= len(seen) <= 3 * 8


@pytest.mark.parametrize("gzipped", [False, True], ids=["plain", "gzip bomb"])
def test_a_too_large_answer_is_refused_with_one_line(landscape, gzipped):
    big = b'{"resources": [' + b'"x",' * 100_000 + b'"x"], "pagination": {"next": null}}'  # 400 KB
    answer = (200, {**JSON, "Content-Encoding": "gzip"}, gzip.compress(big)) if gzipped else (200, JSON, big)
    with ScriptedServer(landscape.url, hostile_at(HANG_PATH, answer)) as double:
        out = cli("run", landscape.playbook(cf__api=double.url, **{"http.max_body_bytes": 65536}))
    assert out.exit_code == 1
    line = one_line(out.output, "the answer is larger than http.max_body_bytes (65536 bytes; ")
    assert ("once gzip inflated" if gzipped else "Content-Length 400") in line
    assert steps_of(out.stdout)["key"] == "skipped"
