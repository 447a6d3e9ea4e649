"""The quick check of valid playbooks (provisioner.playbook.schemacheck) agrees with jsonschema wherever it decides, so
`validate` and the loader keep jsonschema's verdict and messages while loading it only for playbooks with errors."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_properties import ALL_PATHS, MISSING, VALID, change, yaml_values

from provisioner.playbook.load import schema
from provisioner.playbook.schemacheck import decide, ecma_pattern, is_valid
from provisioner.playbook.validate import _validator_class
from provisioner.playbook.yamlpos import parse_yaml

ROOT = Path(__file__).resolve().parents[1]
PLAYBOOKS = sorted([*(ROOT / "playbooks").rglob("*.yaml"), *(ROOT / "tests" / "corpus" / "playbooks").glob("*.yaml")])


def jsonschema_valid(data: Any) -> bool:
    cls = _validator_class()
    return not any(cls(schema(), format_checker=cls.FORMAT_CHECKER).iter_errors(data))


def test_a_valid_playbook_is_recognised_without_jsonschema() -> None:
    assert is_valid(VALID, schema()) and jsonschema_valid(VALID)


@pytest.mark.parametrize("path", PLAYBOOKS, ids=lambda p: str(p.relative_to(ROOT)))
def test_shipped_and_corpus_playbooks(path: Path) -> None:
    try:
        data, _ = parse_yaml(path.read_text(encoding="utf-8"), str(path))
    except Exception:  # noqa: BLE001 - not YAML data (the corpus has those): nothing to validate
        return
    verdict = decide(data, schema())
    assert verdict in (None, jsonschema_valid(data))
    if path.parent.name in ("playbooks", "tenants") and "corpus" not in path.parts:
        assert verdict is True, "a shipped playbook takes the quick path"


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(ALL_PATHS), st.one_of(st.just(MISSING), yaml_values)), min_size=1,
                max_size=3), st.one_of(st.none(), st.lists(st.dictionaries(st.sampled_from(
                    ["tenant", "btp", "cf", "steps", "x"]), yaml_values, max_size=2), max_size=2)))
def test_agrees_with_jsonschema_on_changed_playbooks(changes: list[tuple[Any, Any]], tenants: Any) -> None:
    data = copy.deepcopy(VALID)
    for path, value in changes:
        change(data, path, value)
    if tenants is not None:
        data["tenants"] = tenants
    assert decide(data, schema()) in (None, jsonschema_valid(data))


def test_the_pattern_is_anchored_as_in_json_schema() -> None:
    """A final $ is the end of the string (ECMA 262), not also before a final newline as in Python's re."""
    assert decide({**VALID, "steps": {**VALID["steps"], "instance": {"name": "cloudalm-api\n"}}}, schema()) is False
    assert ecma_pattern("^[a-z]+$") == r"^[a-z]+\Z"
