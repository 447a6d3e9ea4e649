"""What the playbook's models take from a YAML document, as the playbook JSON Schema says (the models' own checks
are pydantic's, which converts more than the format allows): a key given is never null, a number or a whole number
is never a boolean or a string, true or false is a boolean only, and a date is a ``YYYY-MM-DD`` string of a real
date. Each section (:class:`Section`) calls :func:`refused` on the mapping it is given."""

from __future__ import annotations

import datetime as dt
import re
import types
import typing
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationInfo, model_validator

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)


def _kinds(annotation: Any) -> set[Any]:
    """The types an annotation accepts, through ``Annotated``, unions and type aliases (a ``Literal``'s values'
    types)."""
    if annotation is None:
        return set()
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _kinds(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        return set().union(*(_kinds(a) for a in typing.get_args(annotation)))
    if origin is typing.Literal:
        return {type(v) for v in typing.get_args(annotation)}
    value = getattr(annotation, "__value__", None)  # a TypeAliasType
    if value is not None:
        return _kinds(value)
    return {origin or annotation}


def _real_date(value: Any) -> bool:
    if not isinstance(value, str) or not _DATE.fullmatch(value):
        return False
    try:
        dt.date.fromisoformat(value)
    except ValueError:
        return False
    return True


def refused(model: Any, data: Any) -> str | None:
    """Why the mapping ``data`` given for the model class ``model`` is not what the playbook format allows (None:
    it may be; pydantic checks the rest)."""
    if not isinstance(data, dict):
        return None
    for name, value in data.items():
        field = model.model_fields.get(name)
        if field is None:
            continue
        if value is None:
            return f"{name}: null"
        kinds = _kinds(field.annotation)
        if kinds == {bool} and not isinstance(value, bool):
            return f"{name}: not a boolean"
        if kinds & {int, float} and bool not in kinds and isinstance(value, bool | str):
            return f"{name}: not a number"
        if dt.date in kinds and not _real_date(value):
            return f"{name}: not a date"
    return None


class Section(BaseModel):
    """Base of the playbook's models: unknown keys refused, frozen, defaults validated like given values; from a
    playbook (validation context ``{"format": True}``) only what the format allows (:func:`refused`)."""

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)

    @model_validator(mode="before")
    @classmethod
    def _as_the_format_says(cls, data: Any, info: ValidationInfo) -> Any:
        problem = refused(cls, data) if isinstance(info.context, dict) and info.context.get("format") else None
        if problem:
            raise ValueError(problem)
        return data
