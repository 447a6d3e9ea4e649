"""Typed reading of API answers at the client boundary: one module per API (:mod:`.cf` Cloud Foundry v3,
:mod:`.uaa` UAA/XSUAA tokens and token keys and the Cloud ALM API, :mod:`.btp` the BTP accounts, entitlements
and provisioning services, :mod:`.sm` SAP Service Manager, :mod:`.keys` the fields of a service key), each a set of
pydantic models of what the tool reads from an answer: shape and types (strict: a number is not a string), extra
fields allowed, lengths bounded where a value is shown or put into a URL.

:func:`read` parses a response's body (JSON only: no ``NaN``/``Infinity``, at most 4,300 digits a number, nested
at most as deep as Python's parser goes) and validates it; a body that is not what the model says raises
:class:`~provisioner.errors.MalformedAnswer`: one line naming the request, what was expected and at most three
fields with what is wrong (``GET https://api.example.com/v3/jobs/x answered a malformed job: state: not a string``;
never a value, which could be a secret). The answer is returned as parsed (a ``dict`` or ``list``), now known to
have that shape; :func:`read_model` returns the model instead.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

from pydantic import BaseModel, ConfigDict, StringConstraints, TypeAdapter, ValidationError

from provisioner.clients.http_guards import display_url
from provisioner.errors import MalformedAnswer
from provisioner.safetext import shown

if TYPE_CHECKING:
    import requests

M = TypeVar("M", bound=BaseModel)

#: what each pydantic error type means, in words (``{...}`` from the error's context)
_WORDS = {
    "missing": "missing", "string_type": "not a string", "dict_type": "not an object", "model_type": "not an object",
    "model_attributes_type": "not an object", "list_type": "not a list", "int_type": "not a whole number",
    "float_type": "not a number", "bool_type": "not true or false", "string_too_long": "longer than {max_length} "
    "characters", "string_too_short": "empty", "too_long": "more than {max_length} items",
    "string_pattern_mismatch": "not an id (letters, digits and . _ ~ : -)", "finite_number": "not a finite number",
    "union_tag_invalid": "of no known kind", "literal_error": "not one of {expected}",
    "string_unicode": "not valid Unicode text (a lone surrogate)",
}
MAX_PROBLEMS = 3


class Answer(BaseModel):
    """The base of every answer model: strict types, extra fields allowed (APIs add fields), a model built when
    first used (so a command that reads no API builds none)."""

    model_config = ConfigDict(extra="allow", strict=True, defer_build=True, populate_by_name=True)


#: the config of a module-level ``TypeAdapter``: built when first used
LAZY = ConfigDict(defer_build=True)

#: an identifier the tool puts into a URL path (a GUID, an id): no ``/``, ``?``, ``#`` or space
Id = Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9][A-Za-z0-9._~:-]*$")]
#: a name or word the tool shows (a resource name, a state, a type)
Name = Annotated[str, StringConstraints(max_length=1024)]
#: a URL the tool follows or shows
Url = Annotated[str, StringConstraints(max_length=4096)]
#: a text the tool shows cut (a description, an error's detail): long ones are allowed
Text = Annotated[str, StringConstraints(max_length=1_000_000)]


#: a union member's tag in an error's location (``list[any]``, ``constrained-str``, ``int``), not a field
_TAG = re.compile(r"^(\w+\[.*\]|constrained-\w+|str|int|float|bool|none|function-.*|union\[.*)$")


def _models() -> set[str]:
    found, todo = set(), [Answer]
    while todo:
        for sub in todo.pop().__subclasses__():
            found.add(sub.__name__)
            todo.append(sub)
    return found


def _place(loc: tuple[Any, ...], models: set[str]) -> str:
    parts = [str(p) for p in loc if not (isinstance(p, str) and (_TAG.match(p) or p in models))]
    return shown(".".join(parts), 80) if parts else "the answer"


def problems(exc: ValidationError) -> str:
    """The errors of a validation in words: ``field.path: what is wrong`` (the alternatives of a union joined by
    "or"), at most :data:`MAX_PROBLEMS` of them (the input values are never shown), at most 200 characters."""
    models = _models()
    found: dict[str, list[str]] = {}
    for err in exc.errors(include_url=False, include_input=False):
        word = _WORDS.get(err["type"])
        if word is None:
            word = str(err.get("msg") or err["type"]).removeprefix("Value error, ")
        else:
            word = word.format(**{k: v for k, v in (err.get("ctx") or {}).items()}) if "{" in word else word
        words = found.setdefault(_place(err["loc"], models), [])
        if word not in words:
            words.append(word)
    lines = [f"{place}: {shown(' or '.join(words), 120)}" for place, words in found.items()]
    more = len(lines) - MAX_PROBLEMS
    return shown("; ".join(lines[:MAX_PROBLEMS]) + (f"; and {more} more" if more > 0 else ""), 200)


def _refuse_constant(name: str) -> Any:
    raise ValueError(name)


#: a JSON escape of a UTF-16 surrogate: the only way a JSON text gives a string a lone one
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")
_LONE = re.compile("[\ud800-\udfff]")


def _visible_surrogates(value: Any) -> Any:
    """``value`` with every lone surrogate in its strings (``"\\ud800"`` in the JSON text) as the text ``\\ud800``:
    not valid Unicode, so it could not be validated, shown or written as UTF-8; kept visible, as
    :func:`provisioner.safetext.escape` shows it."""
    if isinstance(value, str):
        return _LONE.sub(lambda m: f"\\u{ord(m.group()):04x}", value)
    if isinstance(value, dict):
        return {_visible_surrogates(k): _visible_surrogates(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_visible_surrogates(v) for v in value]
    return value


def body(resp: requests.Response, what: str) -> Any:
    """The JSON value of ``resp``'s body; :class:`MalformedAnswer` when it is not JSON (empty, truncated, ``NaN``,
    a number of more than 4,300 digits) or nested too deep to read."""
    try:
        value = json.loads(resp.content, parse_constant=_refuse_constant)
        return _visible_surrogates(value) if _SURROGATE_ESCAPE.search(resp.content) else value
    except RecursionError:
        raise malformed(resp, what, "nested too deep") from None
    except ValueError:
        raise malformed(resp, what, "not JSON" if resp.content.strip() else "empty, not JSON") from None


def malformed(resp: requests.Response, what: str, problem: str) -> MalformedAnswer:
    """A :class:`MalformedAnswer` for ``resp``: ``METHOD URL answered a malformed WHAT: PROBLEM``."""
    method = resp.request.method if resp.request is not None and resp.request.method else "GET"
    return MalformedAnswer(resp.status_code, method, display_url(resp.url or ""), what, problem)


def read(resp: requests.Response, model: type[BaseModel] | TypeAdapter[Any], what: str) -> Any:
    """``resp``'s JSON body, validated against ``model`` (a model class or a ``TypeAdapter``): the body as
    parsed. Raises :class:`MalformedAnswer` (see the module docstring)."""
    value = body(resp, what)
    check(resp, value, model, what)
    return value


def read_object(resp: requests.Response, model: type[BaseModel] | TypeAdapter[Any], what: str) -> dict[str, Any]:
    """:func:`read` of an answer that is a JSON object (``model`` validates an object, so it is one)."""
    value = read(resp, model, what)
    if not isinstance(value, dict):  # not reached: a model of an object refuses anything else
        raise TypeError(what)
    return value


def check(resp: requests.Response, value: Any, model: type[BaseModel] | TypeAdapter[Any], what: str) -> Any:
    """Validate ``value`` (read from ``resp``) against ``model`` → the validated model (or the adapter's value);
    :class:`MalformedAnswer` when it does not fit."""
    try:
        if isinstance(model, TypeAdapter):
            return model.validate_python(value)
        return model.model_validate(value)
    except RecursionError:
        raise malformed(resp, what, "nested too deep") from None
    except ValidationError as exc:
        raise malformed(resp, what, problems(exc)) from None


def read_model(resp: requests.Response, model: type[M], what: str) -> M:
    """``resp``'s JSON body as ``model``; :class:`MalformedAnswer` when it does not fit."""
    found = check(resp, body(resp, what), model, what)
    assert isinstance(found, model)
    return found
