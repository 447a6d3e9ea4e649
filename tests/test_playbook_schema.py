"""The playbook format is declared once (provisioner/playbook/model.py): the shipped JSON Schema is the one
generated from the models, byte for byte, and schema and models agree: every document the schema accepts loads,
keeping each given value, and every key left out takes the schema's default."""

from __future__ import annotations

import copy
import datetime as dt
import string
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from provisioner.errors import BadInput
from provisioner.playbook import load as playbook
from provisioner.playbook.model import Tenant
from provisioner.playbook.schema import SHIPPED, generate, render

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = playbook.schema()
ENV = {"CF_API": "https://api.cf.example.com"}
MINIMAL = {
    "version": 1,
    "tenant": {"subdomain": "acme-cloudalm", "provisioned": "2023-03-01"},
    "btp": {"subaccount": "acme-cloudalm", "cis_key": {"file": "cis-key.json"}},
    "cf": {"api": "https://api.cf.example.com", "org": "acme-cloudalm", "username": "admin@example.com",
           "password": {"env": "CF_PASSWORD"}},
    "steps": {"instance": {"name": "cloudalm-api"}, "download": {"path": "keys/acme-cloudalm.json"}},
}


@pytest.mark.parametrize("rel", SHIPPED)
def test_the_shipped_schema_is_the_generated_one(rel):
    assert (ROOT / rel).read_text("utf-8") == render(), f"{rel} is stale: run `make schema`"


def test_the_loader_validates_against_the_generated_schema():
    assert SCHEMA == generate()
    assert SCHEMA["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert SCHEMA["then"]["required"] == ["tenant", "btp", "steps"]  # cf: only on the cloud-foundry route


def properties(node: Any, path: tuple[str, ...] = ()):
    """Every ``(path, property schema)`` of the schema, ``$defs`` included."""
    if isinstance(node, dict):
        for name, sub in (node.get("properties") or {}).items():
            yield path + (name,), sub
        for key, sub in node.items():
            if key != "properties":
                yield from properties(sub, path + (key,))
        for name, sub in (node.get("properties") or {}).items():
            yield from properties(sub, path + (name,))
    elif isinstance(node, list):
        for sub in node:
            yield from properties(sub, path)


def test_every_property_has_a_title_and_a_description():
    missing = [".".join(p) for p, sub in properties(SCHEMA) if not (sub.get("title") and sub.get("description"))]
    assert missing == []
    assert "seed" not in render().lower()


def resolve(node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        node = {**SCHEMA["$defs"][node["$ref"].rsplit("/", 1)[-1]], **{k: v for k, v in node.items() if k != "$ref"}}
    return node


def agrees(given: Any, loaded: Any, node: dict[str, Any], path: str = "") -> None:
    """``loaded`` (the Playbook as JSON) holds every value of ``given`` and the schema's default for the rest."""
    node = resolve(node)
    if "anyOf" in node and given is None:  # an optional section left null (cf on the subaccount route)
        assert loaded is None, path
        return
    if "anyOf" in node:  # a plain string or a secret reference, or an optional section
        branch = next(b for b in node["anyOf"] if resolve(b).get("type") == ("string" if isinstance(given, str)
                                                                            else "object"))
        return agrees(given, loaded, branch, path)
    extra = node.get("additionalProperties")
    if "properties" not in node and isinstance(extra, dict) and isinstance(given, dict):  # a map (steps.purposes)
        assert set(loaded) == set(given), path
        for key, value in given.items():
            agrees(value, loaded[key], extra, f"{path}.{key}")
        return
    if "properties" not in node:
        assert loaded == given, path
        return
    for key, sub in node["properties"].items():
        where = f"{path}.{key}".lstrip(".")
        if key in given:
            agrees(given[key], loaded[key], sub, where)
        elif "default" in sub:  # a section's default {} means its own keys' defaults
            agrees(sub["default"], loaded[key], sub, where)
        else:
            assert loaded.get(key) is None, where


def loaded_json(doc: dict[str, Any]) -> dict[str, Any]:
    pb = playbook.load_text(yaml.safe_dump(doc, sort_keys=False), "pb.yaml", env=ENV)
    return pb.model_dump(mode="json")


def expected(doc: dict[str, Any]) -> dict[str, Any]:
    """The document as loaded: ``cf.login`` decided, ``cf-env`` turned into references to its variables."""
    out = copy.deepcopy(doc)
    cf = out.get("cf")
    if cf is None:
        return out
    cf.setdefault("login", "client_credentials" if "client_id" in cf else "password")
    if cf["login"] == "cf-env":
        cf.update(login="password", username={"env": "CF_USERNAME"}, password={"env": "CF_PASSWORD"})
    return out


def test_left_out_keys_take_the_schema_defaults():
    loaded = loaded_json(MINIMAL)
    agrees(expected(MINIMAL), loaded, SCHEMA)
    assert loaded["timeouts"] == {"entitlement": 600, "instance": 1800, "key": 600, "run": None}
    assert loaded["steps"]["space"] == {"name": "cloudalm", "developers": []}


# -- documents drawn from the schema ---------------------------------------------------------------------------

TEXT = st.text(alphabet=string.ascii_letters + string.digits + " ._-/:@", max_size=12)


def from_schema(node: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Values valid against a node of the playbook schema (the keywords it uses)."""
    node = resolve(node)
    if "const" in node:
        return st.just(node["const"])
    if "enum" in node:
        return st.sampled_from(node["enum"])
    if "anyOf" in node:
        return st.one_of([from_schema(b) for b in node["anyOf"]])
    kind = node.get("type")
    if kind == "null":
        return st.none()
    if kind == "object":
        return objects(node)
    if kind == "array":
        items = from_schema(node["items"])
        return st.lists(items, min_size=node.get("minItems", 0), max_size=3, unique=node.get("uniqueItems", False))
    if kind == "boolean":
        return st.booleans()
    if kind == "integer":
        return st.integers(node.get("minimum", -5), node.get("maximum", 10**6))
    if kind == "number":
        top = node.get("maximum", 10**9)
        return st.one_of(st.integers(1, min(10**6, int(top))), st.floats(0.001, top))
    if node.get("format") == "date":  # provisioning dates: not in the future (the loader refuses those)
        return st.dates(dt.date(2000, 1, 1), dt.date.today()).map(dt.date.isoformat)
    if "pattern" in node:
        return st.from_regex(node["pattern"].rstrip("$") + r"\Z", fullmatch=True)
    return TEXT.filter(lambda s: node.get("minLength", 0) <= len(s) <= node.get("maxLength", 10**6))


def objects(node: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    if "properties" not in node:  # a map (steps.purposes): drawn by documents()
        return st.just({})
    props = {k: v for k, v in node["properties"].items() if k != "tenants"}
    required = [k for k in [*node.get("required", []), *node.get("then", {}).get("required", [])] if k in props]
    optional = [k for k in props if k not in required]
    most = node.get("maxProperties", len(props)) - len(required)
    least = max(0, node.get("minProperties", 0) - len(required))

    @st.composite
    def draw_object(draw: Any) -> dict[str, Any]:
        chosen = draw(st.lists(st.sampled_from(optional), unique=True, min_size=least, max_size=most)) \
            if optional else []
        return {k: draw(from_schema(props[k])) for k in props if k in required or k in chosen}

    return draw_object()


CF_LOGINS = {None: ("username", "password"), "password": ("username", "password"),
             "client_credentials": ("client_id", "client_secret"), "cf-env": (), "cf-cli": (),
             "vcap": ("vcap_service",)}


@st.composite
def documents(draw: Any) -> dict[str, Any]:
    """A valid playbook: drawn from the schema, then the credentials made consistent (the cross-field rules)."""
    doc = draw(from_schema(SCHEMA))
    tenant, steps = doc["tenant"], doc["steps"]
    purposes = tenant.get("purposes", ["monitoring"])
    if tenant.get("landscape_management") not in purposes:  # one of the purposes (a model rule)
        tenant.pop("landscape_management", None)
    if len(purposes) > 1:  # several purposes: an instance, a key and a file each (a model rule)
        steps["purposes"] = {p: {"instance": f"i-{p}", "key": f"key-{p}", "path": f"keys/{p}.json"} for p in purposes}
    if "api" in purposes:  # the api purpose lists its scopes (a model rule)
        steps.setdefault("purposes", {})["api"] = {**steps.get("purposes", {}).get("api", {}),
                                                   "scopes": ["calm-api.projects.read"]}
    if doc.get("service", {}).get("credential_type") == "x509":  # never the Landscape Management key (a model rule)
        doc["service"].pop("credential_type")
    # instance names with spaces only pin an instance to locate, never one to create (a model rule)
    named = [(steps.get("instance") or {}, "name"), *((s, "instance") for s in (steps.get("purposes") or {}).values())]
    for section, key in named:
        if isinstance(section, dict) and isinstance(section.get(key), str):
            section[key] = section[key].replace(" ", "_")
    btp = doc["btp"]
    if btp.get("cis_key") is None and btp.get("sm_key") is None:  # one of the two (a model rule)
        btp["cis_key"] = {"file": "cis-key.json"}
    if not isinstance(doc.get("cf"), dict):  # the subaccount route
        if doc.get("route") == "cloud-foundry":
            doc.pop("route")
        if ("username" in btp) != ("password" in btp):
            btp.pop("username", None), btp.pop("password", None)
        return doc
    cf_props = resolve(SCHEMA["properties"]["cf"])["properties"]
    cf = {k: v for k, v in doc["cf"].items() if k not in ("login", *{f for fs in CF_LOGINS.values() for f in fs})}
    login = draw(st.sampled_from(list(CF_LOGINS)))
    cf.update({k: draw(from_schema(cf_props[k])) for k in CF_LOGINS[login]})
    if login:
        cf["login"] = login
    if login != "cf-cli" or "api" in cf:  # a CF API root (the loader checks the URL beyond the schema's string)
        cf["api"] = draw(st.sampled_from(["https://api.cf.eu10.hana.ondemand.com", "http://127.0.0.1:8080",
                                          "https://api.cf.us10-001.hana.ondemand.com/"]))
    doc["cf"] = cf
    if ("username" in btp) != ("password" in btp):
        btp.pop("username", None), btp.pop("password", None)
    return doc


@settings(max_examples=75, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents())
def test_every_document_the_schema_accepts_loads_with_its_values_and_the_defaults(doc):
    try:
        loaded = loaded_json(doc)
    except BadInput as exc:
        pytest.fail(f"the schema accepts what the loader refuses: {exc}")
    agrees(expected(doc), loaded, SCHEMA)


# -- the typed playbook ----------------------------------------------------------------------------------------


def test_the_playbook_is_frozen_and_copied_with_changes():
    pb = playbook.load_text(yaml.safe_dump(MINIMAL), "pb.yaml", env=ENV)
    with pytest.raises(ValidationError):
        pb.tenant.subdomain = "other"  # type: ignore[misc]
    faster = pb.model_copy(update={"timeouts": playbook.Timeouts(entitlement=5, instance=5, key=5)})
    assert (faster.timeouts.instance, pb.timeouts.instance) == (5, 1800)
    assert faster.tenant is pb.tenant and faster.source == "pb.yaml"
    assert pb.tenant.provisioned == dt.date(2023, 3, 1)
    assert (pb.space_name, pb.key_name, pb.instance_name, pb.mode) == ("cloudalm", "cloudalm-api-key",
                                                                        "cloudalm-api", "auto")
    assert [r.describe() for r in pb.secrets()] == ["file cis-key.json", "env CF_PASSWORD"]
    assert pb.secrets()[1].where == "pb.yaml:8:3: cf.password"


def test_the_models_check_what_the_schema_declares():
    """Built directly (not from a file), the models hold the same rules as the schema."""
    with pytest.raises(ValidationError, match="more than once"):
        Tenant(subdomain="acme-cloudalm", provisioned=dt.date(2023, 3, 1), purposes=("api", "api"))
    with pytest.raises(ValidationError, match="exactly one"):
        playbook.SecretRef(env="A", file="b")
    with pytest.raises(ValidationError, match="pattern"):
        Tenant(subdomain="ACME", provisioned=dt.date(2023, 3, 1))


def test_help_imports_neither_pydantic_nor_jsonschema():
    code = ("import sys\nfrom provisioner.cli.app import main\nsys.argv = ['provisioner', '--help']\n"
            "try:\n    main()\nexcept SystemExit:\n    pass\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('pydantic', 'jsonschema')))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == "[]"


def test_every_cf_login_of_the_schema_has_its_fields():
    assert list(playbook._CF_LOGIN_FIELDS) == resolve(SCHEMA["properties"]["cf"])["properties"]["login"]["enum"]
    assert list(CF_LOGINS)[1:] == list(playbook._CF_LOGIN_FIELDS)
