"""Malformed answers, property-based (issue 18, item 5): for every endpoint the client reads (CF v3, UAA, the cis
key's XSUAA, BTP accounts, entitlements and provisioning, Service Manager and its XSUAA, a key's XSUAA and token
keys, the Cloud ALM API), the real answer of a simulator is mutated (a field of the wrong type, a field removed,
the text truncated, the answer wrapped or replaced, nested 100,000 deep, a 200 kB string, numbers beyond any range,
control characters) and the command that reads it (``run``, ``plan``, ``key test --api``) must end with a documented
exit code, never "unexpected" or a traceback, each malformed answer said in one line naming its endpoint, no control
character and no line starting with ``::``. One simulator and one double for the module; derandomized in CI."""

from __future__ import annotations

import itertools
import json
import re
from typing import Any

import pytest
from conftest import cli
from hostile import LandscapeDouble
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from provisioner.sim import Simulator

EXAMPLES = 60
PROPERTY = settings(deadline=None, suppress_health_check=list(HealthCheck), database=None,
                    max_examples=EXAMPLES)

#: (method, path pattern, the command that reads it): every endpoint the client reads
TARGETS = [
    ("GET", r"^/$", "cf-run"), ("POST", r"^/uaa/oauth/token$", "cf-run"),
    ("GET", r"^/v3/organizations\?", "cf-run"), ("GET", r"^/v3/spaces\?", "cf-run"),
    ("GET", r"^/v3/roles\?", "cf-run"), ("GET", r"^/v3/service_plans\?", "cf-run"),
    ("GET", r"^/v3/service_instances\?", "cf-run"), ("GET", r"^/v3/jobs/", "cf-run"),
    ("GET", r"^/v3/service_credential_bindings\?", "cf-plan"), ("GET", r"/details$", "cf-run"),
    ("POST", r"^/xsuaa/acme-cloudalm/oauth/token$", "cf-run"), ("GET", r"/token_keys$", "cf-run"),
    ("POST", r"^/xsuaa/acme-ga/oauth/token$", "cf-run"), ("GET", r"/accounts/v1/subaccounts$", "cf-run"),
    ("GET", r"/provisioning/v1/environments$", "cf-run"),
    ("GET", r"^/v3/service_instances/[^/?]+/parameters$", "cf-plan"),
    ("GET", r"/serviceManagerBindings/provisioner$", "sub-run"), ("GET", r"/entitlements/v1/assignments\?", "sub-run"),
    ("GET", r"^/sm/v1/service_offerings\?", "sub-run"), ("GET", r"^/sm/v1/service_plans\?", "sub-run"),
    ("GET", r"^/sm/v1/service_instances\?", "sub-run"), ("GET", r"^/sm/v1/service_bindings\?", "sub-plan"),
    ("GET", r"^/sm/v1/service_bindings/[^/?]+$", "sub-run"), ("GET", r"/operations/", "sub-run"),
    ("POST", r"^/xsuaa/acme-cloudalm/oauth/token$", "sub-run"),
    ("GET", r"^/sm/v1/service_instances/[^/?]+/parameters$", "sub-plan"),
    ("GET", r"/calm-projects/", "key-test"), ("POST", r"^/xsuaa/acme-cloudalm/oauth/token$", "key-test"),
    ("GET", r"/token_keys$", "key-test"),
]
#: the exit codes README "Exit codes" documents for each command (a server's answer is never bad input)
CODES = {"cf-run": (0, 1), "sub-run": (0, 1), "cf-plan": (0, 1, 2), "sub-plan": (0, 1, 2), "key-test": (0, 1)}
HUGE_INT = 10**400
VALUES: list[Any] = [None, True, False, 0, -5, 1.5, HUGE_INT, 10**30, "", "x" * 200_000, [], {}, [1, "a"],
                     {"a": {"b": 1}}, "soon", "../../v3/x?y#z", "\x1b]52;c;eA==\x07\r\n::error::x\u202e\x9b",
                     "\ud800", -1e308]
RAW_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202e]")


def _paths(value: Any, path: tuple = ()) -> list[tuple]:
    out = [path]
    if isinstance(value, dict):
        out += [p for k, v in value.items() for p in _paths(v, (*path, k))]
    elif isinstance(value, list):
        out += [p for i, v in enumerate(value) for p in _paths(v, (*path, i))]
    return out


def _put(value: Any, path: tuple, new: Any, delete: bool = False) -> Any:
    if not path:
        return new
    node = value
    for p in path[:-1]:
        node = node[p]
    if delete:
        del node[path[-1]]
    else:
        node[path[-1]] = new
    return value


def mutate(data: bytes, mutation: tuple[str, int, int]) -> bytes:
    """The answer ``data`` made malformed as ``mutation`` (kind, a position, a value) says."""
    kind, a, b = mutation
    if kind == "truncate":
        return data[: a % max(len(data), 1)]
    if kind == "deep":
        return (b"[" * 100_000 + b"]" * 100_000) if a % 2 else (b'{"a":' * 50_000 + b"1" + b"}" * 50_000)
    if kind == "text":
        return [b"", b"null", b"[]", b'"x"', b"5", b"NaN", b"{", b"<html>", b"\xff\xfe", b"1" * 5000][b % 10]
    try:
        value = json.loads(data)
    except ValueError:
        return data[:-1]
    paths = _paths(value)
    path = paths[a % len(paths)]
    if kind == "delete" and path:
        value = _put(value, path, None, delete=True)
    elif kind == "wrap":
        value = [value] if b % 2 else {"value": value}
    else:
        value = _put(value, path, VALUES[b % len(VALUES)])
    return json.dumps(value).encode("utf-8", "surrogatepass")


mutations = st.tuples(st.sampled_from(["set", "set", "set", "delete", "truncate", "wrap", "deep", "text"]),
                      st.integers(0, 10**6), st.integers(0, 10**3))


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """One simulator and a double in front of it that mutates the answers of ``world["target"]``; a converged
    tenant on each route and a downloaded key."""
    root = tmp_path_factory.mktemp("answers")
    sim = Simulator(job_seconds=0.0)
    sim.start()
    info = sim.info()
    state: dict[str, Any] = {"target": None, "mutation": None, "hits": 0}

    def rewrite(method, path, answer):
        target = state["target"]
        status, headers, data = answer
        if target and method == target[0] and re.search(target[1], path) and 200 <= status < 300 and data:
            state["hits"] += 1
            return status, headers, mutate(data, state["mutation"])
        return None

    double = LandscapeDouble(sim.url, rewrite=rewrite)
    with double:
        (root / "cis.json").write_text(json.dumps(double.cis_key(info)))
        env = {"CF_USERNAME": info["cf_username"], "CF_PASSWORD": info["cf_password"]}
        world = {"root": root, "sim": sim, "double": double, "state": state, "env": env, "count": itertools.count()}
        for route in ("cf", "sub"):
            out = cli("run", playbook(world, route, "fixed"), env=env)
            assert out.exit_code == 0, out.output
        try:
            yield world
        finally:
            sim.stop()


def playbook(world: dict[str, Any], route: str, name: str):
    root, double = world["root"], world["double"]
    data: dict[str, Any] = {
        "version": 1,
        "tenant": {"subdomain": "acme-cloudalm", "provisioned": "2023-03-01", "purposes": ["monitoring"]},
        "btp": {"subaccount": "acme-cloudalm", "cis_key": {"file": str(root / "cis.json")}},
        "steps": {"instance": {"name": f"calm-{name}"}, "key": {"name": f"key-{name}"},
                  "download": {"path": str(root / "keys" / f"{route}-{name}.json")}},
    }
    if route == "cf":
        data["cf"] = {"api": double.url, "org": "acme-cloudalm", "username": {"env": "CF_USERNAME"},
                      "password": {"env": "CF_PASSWORD"}}
        data["steps"]["space"] = {"name": "cloudalm", "developers": ["admin@example.com"]}
    path = root / f"{route}-{name}.yaml"
    path.write_text(json.dumps(data))
    return path


def command(world: dict[str, Any], kind: str) -> list[Any]:
    n = str(next(world["count"]))
    if kind == "cf-run":
        return ["run", playbook(world, "cf", n)]
    if kind == "sub-run":
        return ["run", playbook(world, "sub", n)]
    if kind in ("cf-plan", "sub-plan"):
        return ["plan", playbook(world, kind.split("-")[0], "fixed")]
    return ["key", "test", world["root"] / "keys" / "cf-fixed.json", "--api"]


@PROPERTY
@given(target=st.sampled_from(TARGETS), mutation=mutations)
def test_malformed_answers_of_every_endpoint(world, target, mutation):
    method, pattern, kind = target
    state = world["state"]
    state.update(target=(method, pattern), mutation=mutation, hits=0)
    try:
        out = cli(*command(world, kind), env=world["env"])
    finally:
        state.update(target=None)
    shown = out.output
    assert out.exit_code in CODES[kind], (target, mutation, out.exit_code, shown[-3000:])
    assert "unexpected" not in shown and "Traceback" not in shown, (target, mutation, shown[-3000:])
    assert not RAW_CONTROL.search(shown), (target, mutation, shown[-3000:])
    for line in shown.splitlines():
        assert not line.lstrip().startswith("::"), line
        assert len(line) < 1200, (target, mutation, line[:300])
        if "answered a malformed" in line:  # one line per malformed answer, naming its endpoint
            assert re.search(r"(GET|POST) https?://\S+ answered a malformed ", line), line
