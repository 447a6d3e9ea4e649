"""Property-based tests (hypothesis): the instance name rule, the key checks and key formats, and the playbook
loader, which on any input either returns a Playbook or raises BadInput with a one-line ``FILE:...`` message."""

from __future__ import annotations

import copy
import json
import string

import pytest
import yaml
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from provisioner.errors import BadInput
from provisioner.keys.keyfile import CHECK_NAMES, check_key, parse_key_text
from provisioner.playbook import load as playbook
from provisioner.playbook.names import MAX_INSTANCE_NAME, instance_name_problem, suggest_instance_name

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
VALID_CHARS = string.ascii_letters + string.digits + "._-"

# -- the instance name rule ------------------------------------------------------------------------------------

valid_names = st.text(alphabet=VALID_CHARS, min_size=1, max_size=MAX_INSTANCE_NAME)
any_names = st.one_of(st.text(max_size=60), valid_names, st.text(alphabet=VALID_CHARS + " \t\n/äé@", max_size=60))


@FAST
@given(any_names)
def test_the_suggestion_is_always_valid(name):
    suggestion = suggest_instance_name(name)
    assert instance_name_problem(suggestion) is None, (name, suggestion)


@FAST
@given(valid_names)
def test_valid_names_are_valid_and_kept(name):
    assert instance_name_problem(name) is None
    assert suggest_instance_name(name) == name


@FAST
@given(any_names)
def test_too_long_or_bad_characters_is_a_problem(name):
    too_long = len(name) > MAX_INSTANCE_NAME
    bad_char = any(c not in VALID_CHARS for c in name)
    problem = instance_name_problem(name)
    if too_long or bad_char or not name:
        assert problem, name
        assert "\n" not in problem
    else:
        assert problem is None
    if too_long:
        assert f"has {len(name)} characters (at most {MAX_INSTANCE_NAME})" in problem


@FAST
@given(st.text(alphabet=VALID_CHARS, min_size=MAX_INSTANCE_NAME + 1, max_size=80))
def test_long_valid_characters_are_cut(name):
    assert suggest_instance_name(name) == (name[:MAX_INSTANCE_NAME].rstrip("_") or "cloudalm-api")


# -- key checks and key formats --------------------------------------------------------------------------------

TENANT = "acme-cloudalm"
json_scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False, allow_infinity=False),
                         st.text(max_size=20))
json_values = st.recursive(json_scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                                 st.dictionaries(st.text(max_size=8), inner,
                                                                                 max_size=4)), max_leaves=12)
secrets = st.text(min_size=1, max_size=20).map(lambda s: "S3CR3T-" + s)
MISSING = object()


def field(*values):
    return st.one_of(st.just(MISSING), st.sampled_from(values), json_scalars)


@st.composite
def key_dicts(draw):
    uaa = {}
    for name, strategy in (("identityzone", field(TENANT, "other-tenant", "")),
                           ("clientid", field("sb-cloudalm-api!b1234", "")),
                           ("clientsecret", st.one_of(st.just(MISSING), secrets, st.just(""), json_scalars)),
                           ("credential-type", field("instance-secret", "binding-secret", "x509"))):
        value = draw(strategy)
        if value is not MISSING:
            uaa[name] = value
    extra = draw(st.dictionaries(st.text(max_size=8).filter(lambda k: k != "uaa"), json_values, max_size=3))
    uaa_value = draw(st.one_of(st.just(uaa), st.just(uaa), json_values))
    return {**extra, "uaa": uaa_value}


@FAST
@given(key_dicts(), st.sampled_from([("instance-secret",), ("binding-secret",), ("instance-secret", "x509")]))
def test_check_key_is_total_and_each_check_passes_exactly_when_its_condition_holds(creds, types):
    checks = check_key(creds, TENANT, types)
    uaa = creds["uaa"] if isinstance(creds["uaa"], dict) else {}
    x509 = uaa.get("credential-type") == "x509"
    # an x509 key (or one with a certificate) gets a fifth check: its certificate's expiry
    assert [c.name for c in checks] == list(CHECK_NAMES) + (["certificate"] if x509 else [])

    def present(name):
        return isinstance(uaa.get(name), str) and uaa.get(name) != ""

    assert checks[0].passed
    assert checks[1].passed == (uaa.get("identityzone") == TENANT)
    if x509 and "x509" in types:  # a certificate and its key instead of the secret
        assert checks[2].passed == (present("clientid") and present("certificate") and present("key"))
    else:
        assert checks[2].passed == (present("clientid") and present("clientsecret"))
    assert checks[3].passed == (uaa.get("credential-type") in types)
    if x509:
        assert not checks[4].passed  # no readable certificate in these keys
    secret = uaa.get("clientsecret")
    for c in checks:
        assert "\n" not in c.message
        if isinstance(secret, str) and secret.startswith("S3CR3T-"):
            assert secret not in c.message


@FAST
@given(json_values)
def test_check_key_never_raises_on_any_json_object(value):
    creds = value if isinstance(value, dict) else {"uaa": value}
    uaa = creds.get("uaa") if isinstance(creds.get("uaa"), dict) else {}
    x509 = uaa.get("credential-type") == "x509" or uaa.get("certificate") is not None
    assert len(check_key(creds, TENANT)) == (5 if x509 else 4)


def parses_or_bad_input(text: str, source: str = "k.json"):
    try:
        value = parse_key_text(text, source)
    except BadInput as exc:
        message = str(exc)
        assert message.startswith(source + ":"), message
        assert "\n" not in message
        return None
    assert isinstance(value, dict)
    return value


@FAST
@given(st.one_of(st.text(max_size=200), json_values.map(json.dumps),
                 st.text(alphabet="{}[]\":,. \n0123456789abtrue", max_size=80)))
def test_parse_key_text_returns_a_dict_or_raises_bad_input(text):
    parses_or_bad_input(text)


creds_with_uaa = st.builds(lambda uaa, extra: {**extra, "uaa": uaa},
                           st.dictionaries(st.text(max_size=12), json_values, max_size=5),
                           st.dictionaries(st.text(max_size=8).filter(lambda k: k != "uaa"), json_values, max_size=3))


@FAST
@given(creds_with_uaa, st.sampled_from(["bare", "credentials", "cf service-key", "cf service-key bare"]),
       st.booleans())
def test_key_formats_round_trip(creds, shape, bom):
    if shape == "bare":
        text = json.dumps(creds)
    elif shape == "credentials":
        text = json.dumps({"credentials": creds})
    elif shape == "cf service-key":
        text = ("Getting key cloudalm-api-key for service instance cloudalm-api as admin@example.com...\n\n"
                + json.dumps({"credentials": creds}, indent=2) + "\n")
    else:
        text = "Getting key cloudalm-api-key for service instance cloudalm-api as admin...\n\n" + json.dumps(
            creds, indent=2)
    assert parse_key_text(("\ufeff" if bom else "") + text, "k.json") == creds


# -- the playbook loader ---------------------------------------------------------------------------------------

ENV = {"CF_API": "https://api.cf.example.com", "CF_USERNAME": "admin@example.com", "CF_PASSWORD": "pw"}
VALID = {
    "version": 1,
    "tenant": {"subdomain": "acme-cloudalm", "provisioned": "2023-03-01", "purposes": ["monitoring"]},
    "btp": {"subaccount": "acme-cloudalm", "cis_key": {"file": "cis-key.json"}},
    "cf": {"api": "${CF_API}", "org": "acme-cloudalm", "username": {"env": "CF_USERNAME"},
           "password": {"env": "CF_PASSWORD"}},
    "steps": {"space": {"name": "cloudalm", "developers": ["admin@example.com"]}, "instance": {"name": "cloudalm-api"},
              "key": {"name": "cloudalm-api-key"}, "download": {"path": "keys/acme-cloudalm.json"}},
    "timeouts": {"instance": 600},
    "http": {"retries": 3},
}


def paths(node, prefix=()):
    yield prefix
    if isinstance(node, dict):
        for k, v in node.items():
            yield from paths(v, prefix + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from paths(v, prefix + (i,))


ALL_PATHS = [p for p in paths(VALID) if p]


def schema_keys(node) -> set[str]:
    if isinstance(node, dict):
        keys = set(node.get("properties", {})) if isinstance(node.get("properties"), dict) else set()
        return keys.union(*(schema_keys(v) for v in node.values()))
    if isinstance(node, list):
        return set().union(*(schema_keys(v) for v in node))
    return set()


SCHEMA_KEYS = schema_keys(playbook.schema())
yaml_values = st.recursive(
    st.one_of(json_scalars, st.dates().map(str), st.sampled_from(["${CF_API}", "${NOT_SET}", "*", "&a", "<<", ""])),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=10), inner, max_size=3)),
    max_leaves=8)


def loads_or_bad_input(text: str):
    try:
        pb = playbook.load_text(text, "pb.yaml", env=ENV)
    except BadInput as exc:
        message = str(exc)
        assert message.startswith("pb.yaml:"), message
        assert "\n" not in message and "\r" not in message, message
        assert "Traceback" not in message
        return None
    assert isinstance(pb, playbook.Playbook)
    return pb


def test_the_unchanged_playbook_loads():
    pb = loads_or_bad_input(yaml.safe_dump(VALID))
    assert pb is not None and pb.cf.api == ENV["CF_API"]


@FAST
@given(st.text(max_size=300))
def test_loader_on_arbitrary_text(text):
    loads_or_bad_input(text)


@FAST
@given(st.text(alphabet="abc:-[]{}&*!|>'\"#%@`,?<= \n\t0123456789.$", max_size=200))
def test_loader_on_yaml_punctuation(text):
    loads_or_bad_input(text)


@FAST
@given(yaml_values)
def test_loader_on_arbitrary_yaml_data(data):
    loads_or_bad_input(yaml.safe_dump(data))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(ALL_PATHS), st.one_of(st.just(MISSING), yaml_values)), min_size=1,
                max_size=3), st.sampled_from(["block", "flow"]))
def test_loader_on_a_valid_playbook_with_changed_values(changes, style):
    data = copy.deepcopy(VALID)
    for path, value in changes:
        change(data, path, value)
    loads_or_bad_input(yaml.safe_dump(data, default_flow_style=style == "flow", sort_keys=False))


def change(data, path, value) -> None:
    """Set (or with MISSING delete) the value at ``path``, if the path still exists."""
    node = data
    for part in path[:-1]:
        if isinstance(node, dict) and part in node or isinstance(node, list) and isinstance(part, int) \
                and part < len(node):
            node = node[part]
        else:
            return
    last = path[-1]
    if isinstance(node, dict) and isinstance(last, str):
        if value is MISSING:
            node.pop(last, None)
        else:
            node[last] = value
    elif isinstance(node, list) and isinstance(last, int) and last < len(node) and value is not MISSING:
        node[last] = value


@FAST
@given(st.sampled_from(ALL_PATHS), st.text(min_size=1, max_size=12))
def test_unknown_keys_are_refused_with_a_location(path, key):
    data = copy.deepcopy(VALID)
    node = data
    for part in path:
        if not isinstance(node, dict):
            break
        node = node[part]
    assume(isinstance(node, dict) and key not in SCHEMA_KEYS)
    node[key] = "x"
    text = yaml.safe_dump(data, sort_keys=False)
    with pytest.raises(BadInput) as info:
        playbook.load_text(text, "pb.yaml", env=ENV)
    assert info.value.args[0].startswith("pb.yaml:")
    assert "\n" not in str(info.value)
