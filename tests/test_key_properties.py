"""Property test (hypothesis): `provisioner key check` on valid key files mutated at random (characters inserted or
deleted, names duplicated, NaN and huge numbers, BOMs, trailing data, truncation, wrappers) always ends with a
documented exit code and readable output: no traceback, one line per problem, no line over 300 characters, and
never the client secret. CI runs it derandomized (tests/conftest.py loads the "ci" profile)."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from conftest import cli
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

SECRET = "Xy$8kP2/cAnArY+Qw9=="  # shaped like an XSUAA client secret
KEY = {
    "uaa": {"clientid": "sb-cloudalm-api!b1004|sapcloudalm!b1", "clientsecret": SECRET,
            "credential-type": "instance-secret", "identityzone": "acme-cloudalm",
            "url": "https://acme-cloudalm.authentication.eu10.hana.ondemand.com", "tokenvalidity": 43200},
    "endpoints": {"Api": "https://eu10.alm.cloud.sap/api"},
}
FORMS = {
    "bare": json.dumps(KEY, indent=2) + "\n",
    "credentials": json.dumps({"credentials": KEY}, indent=2) + "\n",
    "cf service-key": "Getting key cloudalm-api-key for service instance cloudalm-api as admin...\n\n"
                      + json.dumps({"credentials": KEY}, indent=2) + "\n",
}
JSONISH = '{}[]",:\\ \n\t\r0123456789eE.-+truefalsnNaIiy\ufeff\x00\x7f'
NAMES = ["identityzone", "clientsecret", "clientid", "credential-type", "uaa", "url", "Api"]
ODD_VALUES = ["NaN", "Infinity", "-Infinity", "1e999", "9" * 101, "-" + "1" * 150, "1" * 99, '"\\ud800"', "[]",
              "{}", "null", '"' + SECRET + '"']


def insert(text: str, at: float, piece: str) -> str:
    i = int(at * len(text))
    return text[:i] + piece + text[i:]


mutation = st.one_of(
    st.tuples(st.just("insert"), st.floats(0, 1), st.text(alphabet=JSONISH, min_size=1, max_size=6)
              | st.text(min_size=1, max_size=4)),
    st.tuples(st.just("delete"), st.floats(0, 1), st.integers(1, 40)),
    st.tuples(st.just("duplicate"), st.sampled_from(NAMES), st.sampled_from(['"evil"', "1", "{}", "null"])),
    st.tuples(st.just("value"), st.sampled_from(NAMES), st.sampled_from(ODD_VALUES)),
    st.tuples(st.just("bom"), st.integers(1, 3), st.none()),
    st.tuples(st.just("trailing"), st.none(), st.sampled_from(["x", "{}", "\n{\"uaa\": {}}\n", "\x1a", "  \n"])),
    st.tuples(st.just("truncate"), st.floats(0, 1), st.none()),
    st.tuples(st.just("wrap"), st.sampled_from(["[", '{"credentials": ', '{"a": ' * 3000]), st.none()),
)


def mutate(text: str, op: tuple) -> str:
    kind, a, b = op
    if kind == "insert":
        return insert(text, a, b)
    if kind == "delete":
        i = int(a * len(text))
        return text[:i] + text[i + b:]
    if kind == "duplicate":  # the name again, with another value, just before it
        return text.replace(f'"{a}": ', f'"{a}": {b}, "{a}": ', 1)
    if kind == "value":
        return text.replace(f'"{a}": ', f'"{a}": {b}, "{a}-x": ', 1)
    if kind == "bom":
        return "\ufeff" * a + text
    if kind == "trailing":
        return text + b
    if kind == "truncate":
        return text[: int(a * len(text))]
    return a + text + ("}" * a.count("{") if a.startswith("{") else "]")


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(sorted(FORMS)), st.lists(mutation, min_size=1, max_size=4))
def test_key_check_on_mutated_key_files(form, ops):
    text = FORMS[form]
    for op in ops:
        text = mutate(text, op)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "key.json"
        path.write_bytes(text.encode("utf-8", errors="surrogatepass"))
        out = cli("key", "check", str(path), "--tenant", "acme-cloudalm")
    assert out.exit_code in (0, 1, 2), out.output  # README "Exit codes"
    assert "Traceback" not in out.output and "unexpected" not in out.output, out.output
    assert SECRET not in out.output, out.output
    assert all(len(line) <= 300 for line in out.output.splitlines()), out.output
    if out.exit_code == 2:  # unreadable or not strict JSON: one line on stderr, nothing else
        assert out.stdout == ""
        assert out.stderr.startswith(f"error: {path}") and out.stderr.count("\n") == 1, out.stderr
    else:  # one line per check, then the summary
        assert out.stderr == ""
        lines = out.stdout.splitlines()
        assert len(lines) == 5 and all(line.startswith(("pass  ", "FAIL  ")) for line in lines[:4]), lines
        failed = sum(line.startswith("FAIL") for line in lines[:4])
        assert (failed > 0) == (out.exit_code == 1)
        assert lines[4] == f"{path}: {4 - failed}/4 checks passed"
