"""Validation of playbook data against the shipped JSON Schema (:func:`provisioner.playbook.schema.schema`), with
each failure turned into one line ``FILE:LINE:COLUMN: key: problem; fix`` (:class:`~provisioner.errors.BadInput`,
exit code 2): "did you mean" for unknown keys and enum values, a valid suggestion for instance names, what was
expected and what was found for wrong types, the limit for numbers and lengths."""

from __future__ import annotations

import datetime as dt
import re
from functools import lru_cache
from typing import Any

from provisioner.errors import BadInput
from provisioner.playbook.names import instance_name_problem, suggest_instance_name
from provisioner.playbook.schema import schema
from provisioner.playbook.yamlpos import Marks, Path_, dotted, location, show

_TYPE_WORDS = {
    "object": ("a mapping", "write its keys indented below it"),
    "array": ("a list", "write a list, e.g. [a, b]"),
    "string": ("a string", "write a string (quote it if needed)"),
    "number": ("a number", "write a number, e.g. 600"),
    "integer": ("a whole number", "write a whole number, e.g. 5"),
    "boolean": ("true or false", "write true or false"),
}


def validate(data: Any, source: str, marks: Marks) -> None:
    """Validate against the playbook format; raise :class:`BadInput` with the first error (in document order).
    The models decide (:func:`accepts`: pydantic, taking only what the format allows); a playbook they refuse is
    checked against the shipped schema by ``jsonschema``, which finds and words the error."""
    if not isinstance(data, dict):
        raise BadInput(f"{source}:1:1: the playbook must be a YAML mapping (key: value lines), not {got(data)}")
    _secret_type_fix(data, marks, source)
    if accepts(data):
        return
    Draft202012Validator = _validator_class()  # noqa: N806
    validator = Draft202012Validator(schema(), format_checker=Draft202012Validator.FORMAT_CHECKER)
    errors = list(validator.iter_errors(data))
    if not errors:
        return

    def order(err: Any) -> tuple[int, int, int]:
        loc = location(source, marks, tuple(err.absolute_path))
        line, col = loc.rsplit(":", 2)[1:]
        return int(line), int(col), -len(err.absolute_path)

    best = min(errors, key=order)
    if best.context:  # anyOf: the branch of the value's own type, else the deepest error
        best = min(best.context, key=lambda e: (e.validator == "type", -len(e.absolute_path)))
    raise BadInput(_secret_error_line(best, source, marks) or _error_line(best, source, marks))


def accepts(data: dict[str, Any]) -> bool:
    """Whether the playbook's models take ``data`` (one tenant's document) as the format allows, before the rules
    across fields (:mod:`provisioner.playbook.crossfield`) that loading then checks."""
    from pydantic import ValidationError

    from provisioner.playbook.model import Playbook

    if "source" in data:  # not a key of the format (the loader sets it)
        return False
    try:
        Playbook.model_validate(data, context={"format": True, "fields_only": True})
    except ValidationError:
        return False
    return True


def ecma_pattern(pattern: str) -> str:
    """``pattern`` as JSON Schema means it (ECMA 262) for Python's ``re.search``: a final ``$`` is the end of the
    string, not also the place before a final newline, so ``"cloudalm-api\\n"`` does not match ``^[a-z-]+$``."""
    return re.sub(r"\$$", r"\\Z", pattern)


def _secret_error_line(err: Any, source: str, marks: Marks) -> str | None:
    """The line for an error in a secret field, which never echoes what is written there (it may be the secret
    itself); None for errors elsewhere."""
    path = tuple(err.absolute_path)
    secret = _secret_field(path)
    if secret is None:
        return None
    where = location(source, marks, path)
    if err.validator in ("minProperties", "maxProperties", "required"):
        return _error_line(err, source, marks)
    if err.validator == "pattern" and path[-1:] == ("env",):
        return (f"{where}: {dotted(path)}: is not an environment variable name (letters, digits and _, not starting "
                "with a digit; what is written there is not shown)")
    return f"{where}: {dotted(secret)}: {_SECRET_FIX} (what is written there is not shown)"


_SECRET_FIX = "expected a secret reference, exactly one of {env: NAME} or {file: PATH}"


@lru_cache(maxsize=1)
def _secret_fields() -> frozenset[tuple[str, str]]:
    """``(section, key)`` of every field that holds a secret (its schema is the secret reference)."""
    return frozenset((section, k) for section, node in schema()["properties"].items()
                     for k, sub in node.get("properties", {}).items() if sub.get("$ref") == "#/$defs/secret")


def _secret_field(path: tuple[Any, ...]) -> tuple[str, str] | None:
    """The secret field ``path`` is in or under, else None."""
    head = tuple(path[:2])
    return head if len(head) == 2 and head in _secret_fields() else None


@lru_cache(maxsize=1)
def _validator_class() -> Any:
    """Draft 2020-12 with ``pattern`` as JSON Schema means it (ECMA 262): a final ``$`` is the end of the string,
    not also the place before a final newline (as in Python's ``re``), so ``"cloudalm-api\\n"`` is refused."""
    from jsonschema import Draft202012Validator, ValidationError, validators

    def pattern(validator: Any, patrn: str, instance: Any, _schema: Any) -> Any:
        if validator.is_type(instance, "string") and not re.search(ecma_pattern(patrn), instance):
            yield ValidationError(f"{instance!r} does not match {patrn!r}")

    return validators.extend(Draft202012Validator, {"pattern": pattern})


def _secret_type_fix(data: dict[str, Any], marks: Marks, source: str) -> None:
    """A plain string where a secret reference is required: say so before schema errors get generic."""
    for section, node in schema()["properties"].items():
        sec = data.get(section)
        if not isinstance(sec, dict):
            continue
        for k, sub in node.get("properties", {}).items():
            if sub.get("$ref") == "#/$defs/secret" and k in sec and not isinstance(sec[k], dict):
                raise BadInput(f"{location(source, marks, (section, k))}: {section}.{k}: inline secrets are not "
                               f"allowed; use {{env: NAME}} or {{file: PATH}}")


def _error_line(err: Any, source: str, marks: Marks) -> str:
    path = tuple(err.absolute_path)
    import difflib  # "did you mean": only for a playbook with an error

    if err.validator == "additionalProperties":
        allowed = sorted(err.schema.get("properties", {}))
        extras = [k for k in err.instance if k not in allowed]
        key = extras[0] if extras else "?"
        near = difflib.get_close_matches(key, allowed, n=1)
        hint = f"did you mean '{near[0]}'?" if near else "allowed: " + ", ".join(allowed)
        return f"{location(source, marks, path + (key,))}: {dotted(path + (key,))}: unknown key; {hint}"
    if err.validator == "required":
        missing = err.message.split("'")[1] if "'" in err.message else err.message
        return f"{location(source, marks, path)}: {dotted(path + (missing,))}: required key is missing; add it"
    where = location(source, marks, path)
    key = dotted(path)
    if path[-2:] == ("instance", "name") and isinstance(err.instance, str):
        problem = instance_name_problem(err.instance)
        return f"{where}: {key}: {show(err.instance)} {problem}; use e.g. {suggest_instance_name(err.instance)!r}"
    if err.validator == "format" and err.validator_value == "date":
        return f"{where}: {key}: {_date_problem(err.instance)}"
    if err.validator == "type":
        want = err.validator_value if isinstance(err.validator_value, list) else [err.validator_value]
        wanted = " or ".join(_TYPE_WORDS.get(w, (w, ""))[0] for w in want)
        return (f"{where}: {key}: expected {wanted}, got {got(err.instance)}; "
                f"{_TYPE_WORDS.get(want[0], ('', 'fix the value'))[1]}")
    if err.validator in ("oneOf", "anyOf"):
        return f"{where}: {key}: expected a string or {{env: NAME}} / {{file: PATH}}; fix the value"
    if err.validator in ("minProperties", "maxProperties"):
        return f"{where}: {key}: give exactly one of {{env: NAME}} or {{file: PATH}}"
    return f"{where}: {key}: {_limit_problem(err, path)}"


def _date_problem(text: str) -> str:
    if re.match(r"\d{4}-\d{2}-\d{2}[Tt ]", text):
        return f"{show(text)} is a date and time; write the date only, e.g. {text[:10]}"
    reason = ""
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        try:
            dt.date.fromisoformat(text)
        except ValueError as exc:
            reason = f" ({exc})"
    return f"{show(text)} is not a real date{reason}; write YYYY-MM-DD, e.g. 2023-05-31"


def _limit_problem(err: Any, path: Path_) -> str:
    """Problem and fix for enum, const, number limits, lengths, unique items and patterns."""
    limit, value = err.validator_value, err.instance
    if err.validator == "enum":
        import difflib

        choices = [str(v) for v in limit]
        near = difflib.get_close_matches(str(value), choices, n=1)
        fix = f"did you mean {near[0]!r}?" if near else "use one of them"
        return f"{show(value)} is not one of {', '.join(choices)}; {fix}"
    if err.validator == "const":
        return (f"{show(value)} is not supported; write {dotted(path)}: {limit!r} "
                f"(this tool reads playbook version 1)")
    if err.validator == "minimum":
        return f"{show(value)} is below the minimum {limit}; use {limit} or more"
    if err.validator == "exclusiveMinimum":
        return f"{show(value)} must be more than {limit}; use a positive number"
    if err.validator == "maximum":
        return f"{show(value)} is over the maximum {limit}; use {limit} or less"
    if err.validator in ("minLength", "minItems") and not value:
        default = ", or remove the key to take the default" if "default" in err.schema else ""
        return f"is empty; give a value{default}"
    if err.validator in ("maxLength", "maxItems"):
        return f"is longer than {limit}; shorten it"
    if err.validator == "uniqueItems":
        dup = next((v for i, v in enumerate(value) if v in value[:i]), None)
        return f"lists {show(dup)} more than once; keep one"
    if err.validator == "pattern" and path[-1:] == ("env",):
        return f"{show(value)} is not an environment variable name; use letters, digits and _ (not starting with a " \
               "digit)"
    if err.validator == "pattern" and path[-1:] == ("subdomain",):
        return f"{show(value)} is not a subdomain; use lowercase letters, digits and -, e.g. acme-cloudalm"
    if err.validator == "pattern" and path == ("rotation", "grace"):
        from provisioner.playbook.durations import FORM

        return f"{show(value)} is not a duration; use {FORM}"
    return f"{' '.join(err.message.split())[:200]}; see `provisioner schema playbook`"


def got(value: Any) -> str:
    """What a value from the playbook is, for "expected X, got Y" (never more than a short excerpt of it)."""
    if value is None:
        return "nothing (an empty value)"
    if isinstance(value, bool):
        return f"{str(value).lower()} (a boolean)"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return f"the string {show(value)}"
    if isinstance(value, int):
        return f"the whole number {value}" if abs(value) < 10**12 else "a whole number"
    if isinstance(value, float):
        return f"the number {value:g}"
    return type(value).__name__
