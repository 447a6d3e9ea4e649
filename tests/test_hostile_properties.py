"""Hostile input through the real entry point (``provisioner.cli.app.main``), property-based: 1,000 mutated playbooks
(``validate``, then ``plan`` against one simulator for those that validate) and 300 mutated key files (``key
check``), with secrets planted in the secret fields. For each: the documented exit code, no traceback and no
"unexpected", one line per problem, no line over 300 characters, no secret echoed, and an end within 10 s (FIFOs
and devices included). Derandomized in CI (the "ci" profile of conftest.py)."""

from __future__ import annotations

import contextlib
import io
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from provisioner.cli.app import main
from provisioner.sim import Simulator

PLAYBOOK_BATCHES, PER_BATCH = 125, 8  # 1,000 mutated playbooks
KEY_BATCHES, KEYS_PER_BATCH = 60, 5  # 300 mutated key files
MAX_PLANS = 12  # plans are ~10 requests each: the first mutants that validate (distinct ones) are planned
SECRET = "Planted-s3cret-9f8e7d"  # planted in secret fields: as an inline value, an {env:} name, a {file:} path
SECRET_NAME = "planted_s3cret_9f8e7d"  # a secret that also has the shape of a variable name
KEY_SECRET = "key-Secret-4a5b6c$x"
HUGE_INT = "9" * 5000
BATCH = settings(deadline=None, suppress_health_check=list(HealthCheck), database=None)


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> dict[str, Any]:
    """One simulator, its cis key, a FIFO, a directory and the secrets to look for in any output."""
    root = tmp_path_factory.mktemp("hostile")
    sim = Simulator(job_seconds=0.0)
    sim.start()
    info = sim.info()
    (root / "cis-key.json").write_text(json.dumps(info["cis_key"]))
    os.mkfifo(root / "fifo")
    (root / "dir").mkdir()
    loop = root / "loop"
    loop.symlink_to(loop)
    secrets = [SECRET, SECRET_NAME, KEY_SECRET, info["cf_password"]]
    secrets += _secret_strings(info["cis_key"])
    try:
        yield {"root": root, "sim": sim, "info": info, "secrets": [s for s in secrets if len(s) >= 8], "plans": set()}
    finally:
        sim.stop()


def _secret_strings(value: Any) -> list[str]:
    """The values of every secret-named field (``clientsecret``, ``password``, ...) of a key, at any depth."""
    if not isinstance(value, dict):
        return []
    found = [v for k, v in value.items() if isinstance(v, str) and ("secret" in k.lower() or "password" in k.lower())]
    return found + [s for v in value.values() for s in _secret_strings(v)]


def call(args: list[str], env: dict[str, str]) -> tuple[int, str, str, float]:
    """``provisioner ARGS`` through ``main()``: exit code, stdout, stderr, seconds taken."""
    out, err = io.StringIO(), io.StringIO()
    saved_argv, saved_env = sys.argv, dict(os.environ)
    sys.argv = ["provisioner", *args]
    os.environ.update(env)
    code: Any = 0
    start = time.monotonic()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            main()
    except SystemExit as exc:
        code = exc.code
    finally:
        sys.argv = saved_argv
        os.environ.clear()
        os.environ.update(saved_env)
    return (code if isinstance(code, int) else 1), out.getvalue(), err.getvalue(), time.monotonic() - start


def assert_user_sees(what: str, code: int, out: str, err: str, seconds: float, codes: tuple[int, ...],
                     secrets: list[str], one_error_line: bool) -> None:
    shown = out + err
    assert code in codes, (what, code, shown[:2000])
    assert "Traceback" not in shown and "error: unexpected" not in shown, (what, shown[:2000])
    assert all(len(line) <= 300 for line in shown.splitlines()), (what, max(shown.splitlines(), key=len)[:400])
    for secret in secrets:
        assert secret not in shown, (what, secret, shown[:2000])
    if one_error_line and code == 2:
        assert len(err.splitlines()) == 1 and err.startswith("error: "), (what, err[:2000])
    assert seconds < 10, (what, seconds)  # a bound for hangs (FIFOs, devices), not a measurement


# -- playbooks ----------------------------------------------------------------------------------------------------

def base_playbook(world: dict[str, Any]) -> dict[str, Any]:
    root = world["root"]
    return {
        "version": 1,
        "tenant": {"subdomain": "acme-cloudalm", "provisioned": "2023-03-01", "purposes": ["monitoring"]},
        "btp": {"subaccount": "acme-cloudalm", "cis_key": {"file": str(root / "cis-key.json")}},
        "cf": {"api": world["info"]["cf_api"], "org": "acme-cloudalm", "username": {"env": "CF_USERNAME"},
               "password": {"env": "CF_PASSWORD"}},
        "steps": {"space": {"name": "cloudalm", "developers": ["admin@example.com"]},
                  "instance": {"name": "cloudalm-api"}, "key": {"name": "cloudalm-api-key"},
                  "download": {"path": str(root / "keys" / "acme-cloudalm.json")}},
    }


def _paths(value: Any, path: tuple = ()) -> list[tuple]:
    out = [path] if path else []
    if isinstance(value, dict):
        out += [p for k, v in value.items() for p in _paths(v, path + (k,))]
    return out


SECRET_FIELDS = {("btp", "cis_key"), ("btp", "password"), ("cf", "password"), ("cf", "client_secret")}


def hostile_values(root: Path, api: str) -> list[Any]:
    return [
        "", " ", "\n", "x" * 5000, "é" * 300, "\ud800", "a\x00b", "\t", "{tenant}", "${UNSET_VAR_HOSTILE}", "-",
        0, -1, 10**30, 1e308, -0.0, 0.5, True, None, [], {}, [1, 2], {"a": 1}, [{"tenant": "x"}],
        "http://127.0.0.1:-1", "https://[::1", "http://example.com", "javascript:alert(1)", api + "/v3",
        "https://uaa.cf.example.com", "ftp://x", "http://127.0.0.1:1",
        str(root / "fifo"), "/dev/null", "/dev/zero", "/dev/stdout", str(root / "dir"), str(root / "loop"),
        "~/nope/x.json", "x" * 300 + ".json", str(root / "cis-key.json") + "/x",
        "2099-01-01", "2023-02-30", "2023-03-01T00:00:00", "monitoring", "transport-management",
        "HUGE_INT_PLACEHOLDER", 31536000000,
    ]


def secret_values(root: Path) -> list[Any]:
    return [SECRET, 12345678, {"env": SECRET}, {"env": SECRET_NAME}, {"file": SECRET}, {"file": SECRET_NAME},
            {"env": "UNSET_VAR_HOSTILE"}, {"file": str(root / "fifo")}, {"file": "/dev/zero"},
            {"file": str(root / "dir")}, {"vcap": SECRET}, {"env": SECRET, "file": SECRET}, {"nope": SECRET},
            {"env": 12345678}, [SECRET], None]


TENANT_ITEMS = [{"tenant": "x"}, 1, "acme", {"steps": [1]}, {"tenants": []},
                {"tenant": {"subdomain": "acme-cloudalm", "provisioned": "2023-03-01"}},
                {"tenant": {"subdomain": "beta-cloudalm", "provisioned": "2023-03-01"}},
                {"tenant": {"subdomain": "gamma-cloudalm", "provisioned": "2023-03-01"},
                 "steps": {"download": {"path": "keys/{tenant}.json"}}}]

mutation = st.one_of(
    st.tuples(st.just("set"), st.integers(0, 10**6), st.integers(0, 10**6)),
    st.tuples(st.just("secret"), st.integers(0, 10**6), st.integers(0, 10**6)),
    st.tuples(st.just("delete"), st.integers(0, 10**6), st.just(0)),
    st.tuples(st.just("tenants"), st.lists(st.integers(0, len(TENANT_ITEMS) - 1), max_size=3), st.just(0)),
    st.tuples(st.just("text"), st.integers(0, 10**6), st.integers(0, 255)),
)
playbook_batch = st.lists(st.lists(mutation, min_size=1, max_size=3), min_size=PER_BATCH, max_size=PER_BATCH)


def mutate(world: dict[str, Any], mutations: list[tuple]) -> bytes:
    """A playbook's bytes after the mutations (the last may garble the text itself)."""
    data = base_playbook(world)
    values = hostile_values(world["root"], world["info"]["cf_api"])
    secrets = secret_values(world["root"])
    garble: tuple[int, int] | None = None
    for kind, a, b in mutations:
        paths = _paths(data)
        if kind == "set" and paths:
            _put(data, paths[a % len(paths)], values[b % len(values)])
        elif kind == "secret":
            section, key = sorted(SECRET_FIELDS)[a % len(SECRET_FIELDS)]
            if isinstance(data.get(section), dict):
                data[section][key] = secrets[b % len(secrets)]
        elif kind == "delete" and paths:
            _put(data, paths[a % len(paths)], _DELETE)
        elif kind == "tenants":
            data["tenants"] = [TENANT_ITEMS[i] for i in a]
        elif kind == "text":
            garble = (a, b)
    text = json.dumps(data) if _has_surrogate(data) or a_flip(mutations) else yaml.safe_dump(data, sort_keys=False)
    raw = text.replace('"HUGE_INT_PLACEHOLDER"', HUGE_INT).replace("HUGE_INT_PLACEHOLDER", HUGE_INT)
    encoded = raw.encode("utf-8", "surrogatepass")
    if garble:
        at = garble[0] % (len(encoded) + 1)
        encoded = encoded[:at] + bytes([garble[1]]) + encoded[at:]
    return encoded


_DELETE = object()


def _put(data: dict[str, Any], path: tuple, value: Any) -> None:
    node: Any = data
    for p in path[:-1]:
        node = node[p]
    if value is _DELETE:
        del node[path[-1]]
    else:
        node[path[-1]] = value


def _has_surrogate(value: Any) -> bool:
    if isinstance(value, dict):
        return any(_has_surrogate(k) or _has_surrogate(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_surrogate(v) for v in value)
    return isinstance(value, str) and any(0xD800 <= ord(c) <= 0xDFFF for c in value)


def a_flip(mutations: list[tuple]) -> bool:
    """Half of the playbooks are written as JSON (YAML's flow style), the rest as block YAML."""
    return sum(m[1] if isinstance(m[1], int) else len(m[1]) for m in mutations) % 2 == 1


@settings(BATCH, max_examples=PLAYBOOK_BATCHES)
@given(batch=playbook_batch)
def test_mutated_playbooks_through_validate_and_plan(world, batch):
    env = {"CF_USERNAME": world["info"]["cf_username"], "CF_PASSWORD": world["info"]["cf_password"],
           "VCAP_SERVICES": "[]"}
    path = world["root"] / "playbook.yaml"
    for mutations in batch:
        content = mutate(world, mutations)
        path.write_bytes(content)
        code, out, err, took = call(["validate", str(path)], env)
        assert_user_sees(f"validate {mutations}", code, out, err, took, (0, 2), world["secrets"], True)
        if code == 0 and len(world["plans"]) < MAX_PLANS and content not in world["plans"]:
            world["plans"].add(content)
            code, out, err, took = call(["plan", str(path)], env)
            assert_user_sees(f"plan {mutations}", code, out, err, took, (0, 1, 2), world["secrets"], False)


# -- key files ----------------------------------------------------------------------------------------------------

def base_key() -> dict[str, Any]:
    return {"uaa": {"clientid": "sb-cloudalm-api!b1", "clientsecret": KEY_SECRET, "identityzone": "acme-cloudalm",
                    "credential-type": "instance-secret", "url": "https://acme-cloudalm.authentication.example.com"},
            "endpoints": {"Api": "https://acme-cloudalm.example.com/api"}}


KEY_TEXT = [
    lambda t: "\ufeff" + t, lambda t: "\ufeff\ufeff" + t, lambda t: '{"credentials": ' + t + "}",
    lambda t: "Getting key k for service instance i as me...\n\n" + t, lambda t: t + "{}", lambda t: t[: len(t) // 2],
    lambda t: t.replace('"clientid"', '"clientid": "dup", "clientid"', 1), lambda t: t.replace('"acme-cloudalm"',
                                                                                             "NaN", 1),
    lambda t: t.replace('"acme-cloudalm"', HUGE_INT, 1), lambda t: t.replace('"acme-cloudalm"', "Infinity", 1),
    lambda t: t.replace("{", "[", 1), lambda t: "", lambda t: " " * 10, lambda t: t + "\x00",
    lambda t: t.replace('"instance-secret"', '"' + "x" * 200_000 + '"'), lambda t: t.replace("}", "", 1),
    lambda t: t, lambda t: t.replace('"uaa"', '"UAA"'),
]
KEY_VALUES = ["", None, 0, HUGE_INT, [], {}, "x" * 5000, "\ud800", "binding-secret", "other-zone", 1e308, True]
KEY_PATHS = ["fifo", "/dev/null", "/dev/zero", "dir", "loop", "missing.json"]

key_mutation = st.one_of(
    st.tuples(st.just("text"), st.integers(0, len(KEY_TEXT) - 1), st.integers(0, 0)),
    st.tuples(st.just("value"), st.integers(0, 4), st.integers(0, len(KEY_VALUES) - 1)),
    st.tuples(st.just("bytes"), st.integers(0, 10**6), st.integers(0, 255)),
    st.tuples(st.just("path"), st.integers(0, len(KEY_PATHS) - 1), st.integers(0, 0)),
)
key_batch = st.lists(st.lists(key_mutation, min_size=1, max_size=3), min_size=KEYS_PER_BATCH,
                     max_size=KEYS_PER_BATCH)


@settings(BATCH, max_examples=KEY_BATCHES)
@given(batch=key_batch)
def test_mutated_key_files_through_key_check(world, batch):
    root = world["root"]
    for mutations in batch:
        key = base_key()
        text_ops, raw_ops, where = [], [], root / "key.json"
        for kind, a, b in mutations:
            if kind == "value":
                field = ["clientid", "clientsecret", "identityzone", "credential-type", "url"][a]
                key["uaa"][field] = KEY_VALUES[b] if field != "clientsecret" else KEY_SECRET + str(KEY_VALUES[b])[:9]
            elif kind == "text":
                text_ops.append(KEY_TEXT[a])
            elif kind == "bytes":
                raw_ops.append((a, b))
            else:
                where = root / KEY_PATHS[a] if not KEY_PATHS[a].startswith("/") else Path(KEY_PATHS[a])
        text = json.dumps(key, indent=2).replace('"HUGE_INT_PLACEHOLDER"', HUGE_INT)
        for op in text_ops:
            text = op(text)
        content = text.encode("utf-8", "surrogatepass")
        for at, byte in raw_ops:
            at %= len(content) + 1
            content = content[:at] + bytes([byte]) + content[at:]
        if where == root / "key.json":
            where.write_bytes(content)
        code, out, err, took = call(["key", "check", str(where), "--tenant", "acme-cloudalm"], {})
        assert_user_sees(f"key check {mutations}", code, out, err, took, (0, 1, 2), world["secrets"], True)
