"""Servers that misbehave, and a corporate proxy: what the user sees is one line, no secret, no traceback."""

from __future__ import annotations

import json

from hostile import ForwardProxy, ScriptedServer, _forward


def _no_crash(output: str) -> None:
    assert "Traceback" not in output and "unexpected" not in output


def test_html_where_json_belongs_is_one_line(landscape, run_cli):
    """A proxy's login page answering 200 with HTML: the error says what came back and what to check."""
    def script(method, path, body, headers):
        if path.startswith("/v3/"):
            return 200, {"Content-Type": "text/html"}, b"<html><body>Please sign in to the proxy</body></html>"
        return None

    with ScriptedServer(landscape.url, script) as double:
        out = run_cli("run", landscape.playbook(cf__api=double.url))
    assert out.exit_code == 1
    assert "answered text/html, not JSON: a proxy or a login page in between?" in out.output
    _no_crash(out.output)


def test_token_never_follows_a_link_to_another_host(landscape, run_cli):
    """``pagination.next.href`` naming another host: the request is not made, the host is named."""
    def script(method, path, body, headers):
        status, hdrs, data = _forward(method, landscape.url + path, headers, body)
        data = data.replace(landscape.url.encode(), double.url.encode())  # a transparent double ...
        hdrs = {k: v.replace(landscape.url, double.url) for k, v in hdrs.items()}
        # ... but for one link (the instance lookup: a fresh run lists no keys of the instance it just created)
        if method == "GET" and path.startswith("/v3/service_instances?"):
            page = json.loads(data)
            page["pagination"]["next"] = {"href": "http://127.0.0.2:9/v3/service_instances?page=2"}
            data = json.dumps(page).encode()
        return status, hdrs, data

    with ScriptedServer(landscape.url, script) as double:
        out = run_cli("run", landscape.playbook(cf__api=double.url))
    assert out.exit_code == 1
    assert "the API pointed to http://127.0.0.2:9/v3/service_instances, another host than" in out.output
    assert "the token is only sent to the origin it was issued for" in out.output
    _no_crash(out.output)


def test_a_token_endpoint_echoing_the_password_never_shows_it(landscape, run_cli):
    """A UAA that echoes the request form in ``error_description``: the password is removed before it is shown."""
    password = landscape.env["CF_PASSWORD"]

    def script(method, path, body, headers):
        if method == "GET" and path == "/":
            status, hdrs, data = _forward(method, landscape.url + path, headers, body)
            return status, hdrs, data.replace(landscape.url.encode(), double.url.encode())
        if path.endswith("/oauth/token"):
            echo = {"error": "unauthorized", "error_description": f"Bad credentials: {body.decode()}"}
            return 401, {"Content-Type": "application/json"}, json.dumps(echo).encode()
        return None

    with ScriptedServer(landscape.url, script) as double:
        out = run_cli("run", landscape.playbook(cf__api=double.url))
    assert out.exit_code == 1
    assert "refused the credentials" in out.output
    assert password not in out.output
    _no_crash(out.output)


def test_a_run_through_a_proxy_set_only_in_the_environment(make_landscape, run_cli, monkeypatch):
    """``HTTP_PROXY`` alone (no playbook setting): every request of the run passes the proxy (a plain HTTP
    landscape: the test proxy relays absolute http:// requests, it does not tunnel TLS)."""
    landscape = make_landscape(tls=False)
    for name in ("NO_PROXY", "no_proxy", "HTTPS_PROXY", "https_proxy"):
        monkeypatch.delenv(name, raising=False)
    with ForwardProxy() as proxy:
        monkeypatch.setenv("HTTP_PROXY", proxy.url)
        out = run_cli("run", landscape.playbook())
        relayed = [url for _, url in proxy.seen if url.startswith(landscape.url)]
        monkeypatch.delenv("HTTP_PROXY")
    assert out.exit_code == 0, out.output
    journal = landscape.journal()
    assert len(journal) > 10
    assert len(relayed) == len(journal)


def test_nothing_listening_fails_fast_with_the_fix(landscape, run_cli):
    """A CF API that is not running: one line saying so, not minutes of retries."""
    landscape.sim.stop()
    out = run_cli("run", landscape.playbook())
    assert out.exit_code == 1
    assert "nothing answers at this address (connection refused): is the API running, and is the URL right?" \
        in out.output
    _no_crash(out.output)
