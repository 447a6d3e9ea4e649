"""The playbook's models decide whether a playbook is valid (provisioner.playbook.validate.accepts, pydantic) and
accept exactly what the shipped JSON Schema accepts, so `validate` words errors as before while a valid playbook
never loads jsonschema (issue 21, item 5)."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_properties import ALL_PATHS, MISSING, VALID, change, yaml_values

from provisioner.playbook.schema import schema
from provisioner.playbook.validate import _validator_class, accepts
from provisioner.playbook.yamlpos import parse_yaml

ROOT = Path(__file__).resolve().parents[1]
PLAYBOOKS = sorted([*(ROOT / "playbooks").rglob("*.yaml"), *(ROOT / "tests" / "corpus" / "playbooks").glob("*.yaml")])
TRICKY = [None, True, "5", "true", 2.0, 2.5, 0, "", [], {}, {"env": "A", "where": "x"}, "2023-02-30",
          "2023-03-01T00:00:00", 1700000000, 2048.0, "2048"]


def schema_valid(data: Any) -> bool:
    cls = _validator_class()
    return not any(cls(schema(), format_checker=cls.FORMAT_CHECKER).iter_errors(data))


def agree(data: Any) -> None:
    if isinstance(data, dict) and "tenants" not in data:
        assert accepts(data) == schema_valid(data), data


@pytest.mark.parametrize("path", PLAYBOOKS, ids=lambda p: str(p.relative_to(ROOT)))
def test_shipped_and_corpus_playbooks(path: Path) -> None:
    try:
        data, _ = parse_yaml(path.read_text(encoding="utf-8"), str(path))
    except Exception:  # noqa: BLE001 - not YAML data (the corpus has those): nothing to validate
        return
    agree(data)


@pytest.mark.parametrize("value", TRICKY, ids=repr)
def test_values_pydantic_would_convert(value: Any) -> None:
    for path in ALL_PATHS:
        data = copy.deepcopy(VALID)
        change(data, path, value)
        agree(data)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(ALL_PATHS), st.one_of(st.just(MISSING), yaml_values)), min_size=1,
                max_size=3))
def test_agree_on_changed_playbooks(changes: list[tuple[Any, Any]]) -> None:
    data = copy.deepcopy(VALID)
    for path, value in changes:
        change(data, path, value)
    agree(data)
