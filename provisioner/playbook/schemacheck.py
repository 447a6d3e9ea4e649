"""A quick yes for a valid playbook: JSON Schema 2020-12 for the keywords the playbook schema uses, without loading
``jsonschema`` (about a third of ``provisioner validate``'s start-up).

:func:`is_valid` answers True only when ``jsonschema``'s ``Draft202012Validator`` (with a format checker and the
``pattern`` of :func:`ecma_pattern`) would find no error; for an error, or for anything it does not decide exactly
(a keyword or a value type it does not know, a non-string key, a ``$ref`` outside ``#/$defs``), it answers False and
:mod:`provisioner.playbook.validate` runs ``jsonschema``, which finds and words the error. So every message stays
``jsonschema``'s; a property test checks that both agree on generated playbooks.

Decided here: ``type``, ``properties``, ``additionalProperties``, ``required``, ``propertyNames``,
``minProperties``, ``maxProperties``, ``items``, ``minItems``, ``maxItems``, ``uniqueItems`` (of strings),
``minLength``, ``maxLength``, ``pattern``, ``format: date``, ``enum`` and ``const`` (of strings and integers),
``minimum``, ``maximum``, ``exclusiveMinimum``, ``exclusiveMaximum``, ``anyOf``, ``not``, ``if``/``then``/``else``,
``$ref``; annotations (``title``, ``description``, ``default``, ``$schema``, ``$id``, ``$defs``) are ignored.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from typing import Any

_IGNORED = frozenset({"title", "description", "default", "$schema", "$id", "$defs", "examples", "$comment"})
_RE_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$", re.ASCII)  # as jsonschema's "date" format checker


class _Undecided(Exception):
    """Something this module does not decide exactly: ``jsonschema`` decides."""


def ecma_pattern(pattern: str) -> str:
    """``pattern`` as JSON Schema means it (ECMA 262) for Python's ``re.search``: a final ``$`` is the end of the
    string, not also the place before a final newline, so ``"cloudalm-api\\n"`` does not match ``^[a-z-]+$``."""
    return re.sub(r"\$$", r"\\Z", pattern)


def is_valid(instance: Any, schema: dict[str, Any]) -> bool:
    """True when ``instance`` (YAML data: dicts with string keys, lists, strings, numbers, booleans, None) is
    valid against ``schema`` (a root schema; ``$ref`` resolves in its ``$defs``); False when it is not, or when
    this module cannot tell (then ask ``jsonschema``)."""
    return decide(instance, schema) is True


def decide(instance: Any, schema: dict[str, Any]) -> bool | None:
    """``jsonschema``'s verdict on ``instance`` (True valid, False not), or None where this module cannot tell."""
    try:
        return _valid(instance, schema, schema)
    except _Undecided:
        return None


def _is_type(instance: Any, name: str) -> bool:
    if name == "object":
        return isinstance(instance, dict)
    if name == "array":
        return isinstance(instance, list)
    if name == "string":
        return isinstance(instance, str)
    if name == "boolean":
        return isinstance(instance, bool)
    if name == "null":
        return instance is None
    if isinstance(instance, bool) or not isinstance(instance, int | float):
        return False
    if isinstance(instance, float) and not math.isfinite(instance):
        raise _Undecided
    return name == "number" or (name == "integer" and (isinstance(instance, int) or instance.is_integer()))


def _check_value(instance: Any) -> None:
    """Raise :class:`_Undecided` for a value that is not plain YAML data."""
    if instance is None or isinstance(instance, str | bool | int | list | dict):
        return
    if isinstance(instance, float) and math.isfinite(instance):
        return
    raise _Undecided


def _equal(instance: Any, expected: Any) -> bool:
    """JSON equality with a string or integer (True is not 1; 1.0 is left to jsonschema)."""
    if type(expected) not in (str, int) or (type(instance) is float and type(expected) is int):
        raise _Undecided
    return type(instance) is type(expected) and instance == expected


def _valid(instance: Any, schema: Any, root: dict[str, Any]) -> bool:
    if schema is True:
        return True
    if schema is False:
        return False
    if not isinstance(schema, dict):
        raise _Undecided
    _check_value(instance)
    for key, value in schema.items():
        if key in _IGNORED or key in ("then", "else"):
            continue
        check = _KEYWORDS.get(key)
        if check is None:
            raise _Undecided
        if not check(instance, value, schema, root):
            return False
    return True


def _type(instance: Any, value: Any, schema: dict[str, Any], root: dict[str, Any]) -> bool:
    names = value if isinstance(value, list) else [value]
    return any(_is_type(instance, n) for n in names)


def _object(check: Any) -> Any:
    """A keyword that applies to objects only (other values pass it, as JSON Schema says)."""
    def keyword(instance: Any, value: Any, schema: dict[str, Any], root: dict[str, Any]) -> bool:
        if not isinstance(instance, dict):
            return True
        if not all(isinstance(k, str) for k in instance):
            raise _Undecided
        return bool(check(instance, value, schema, root))
    return keyword


def _of(kind: type | tuple[type, ...], check: Any) -> Any:
    """A keyword that applies to values of ``kind`` only."""
    def keyword(instance: Any, value: Any, schema: dict[str, Any], root: dict[str, Any]) -> bool:
        if isinstance(instance, bool) or not isinstance(instance, kind):  # a boolean is not a number here
            return True
        return bool(check(instance, value))
    return keyword


def _properties(instance: dict[str, Any], value: dict[str, Any], schema: dict[str, Any],
                root: dict[str, Any]) -> bool:
    return all(_valid(instance[k], sub, root) for k, sub in value.items() if k in instance)


def _additional(instance: dict[str, Any], value: Any, schema: dict[str, Any], root: dict[str, Any]) -> bool:
    if "patternProperties" in schema:
        raise _Undecided
    known = schema.get("properties", {})
    return all(_valid(v, value, root) for k, v in instance.items() if k not in known)


def _items(instance: Any, value: Any, schema: dict[str, Any], root: dict[str, Any]) -> bool:
    if "prefixItems" in schema:
        raise _Undecided
    return not isinstance(instance, list) or all(_valid(item, value, root) for item in instance)


def _unique(items: list[Any], value: Any) -> bool:
    if not value:
        return True
    if not all(isinstance(i, str) for i in items):
        raise _Undecided
    return len(set(items)) == len(items)


def _format(instance: Any, value: Any, schema: dict[str, Any], root: dict[str, Any]) -> bool:
    """``format: date`` as jsonschema's format checker (other formats: undecided)."""
    if value != "date":
        raise _Undecided
    return not isinstance(instance, str) or _date(instance)


def _date(text: str) -> bool:
    if not _RE_DATE.fullmatch(text):
        return False
    try:
        dt.date.fromisoformat(text)
    except ValueError:
        return False
    return True


def _ref(instance: Any, value: Any, schema: dict[str, Any], root: dict[str, Any]) -> bool:
    if not isinstance(value, str) or not value.startswith("#/$defs/") or "/" in value[len("#/$defs/"):]:
        raise _Undecided
    target = root.get("$defs", {}).get(value[len("#/$defs/"):])
    if target is None:
        raise _Undecided
    return _valid(instance, target, root)


def _if(instance: Any, value: Any, schema: dict[str, Any], root: dict[str, Any]) -> bool:
    branch = "then" if _valid(instance, value, root) else "else"
    return _valid(instance, schema.get(branch, True), root)


def _number(op: Any) -> Any:
    return _of((int, float), lambda n, limit: op(n, limit))


_KEYWORDS: dict[str, Any] = {
    "type": _type,
    "properties": _object(_properties),
    "additionalProperties": _object(_additional),
    "required": _object(lambda inst, value, schema, root: all(k in inst for k in value)),
    "propertyNames": _object(lambda inst, value, schema, root: all(_valid(k, value, root) for k in inst)),
    "minProperties": _object(lambda inst, value, schema, root: len(inst) >= value),
    "maxProperties": _object(lambda inst, value, schema, root: len(inst) <= value),
    "items": _items,
    "minItems": _of(list, lambda items, n: len(items) >= n),
    "maxItems": _of(list, lambda items, n: len(items) <= n),
    "uniqueItems": _of(list, _unique),
    "minLength": _of(str, lambda text, n: len(text) >= n),
    "maxLength": _of(str, lambda text, n: len(text) <= n),
    "pattern": _of(str, lambda text, p: re.search(ecma_pattern(p), text) is not None),
    "format": _format,
    "enum": lambda inst, value, schema, root: any(_equal(inst, e) for e in value),
    "const": lambda inst, value, schema, root: _equal(inst, value),
    "minimum": _number(lambda n, limit: n >= limit),
    "maximum": _number(lambda n, limit: n <= limit),
    "exclusiveMinimum": _number(lambda n, limit: n > limit),
    "exclusiveMaximum": _number(lambda n, limit: n < limit),
    "anyOf": lambda inst, value, schema, root: any(_valid(inst, sub, root) for sub in value),
    "not": lambda inst, value, schema, root: not _valid(inst, value, root),
    "if": _if,
    "$ref": _ref,
}
