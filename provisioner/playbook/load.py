"""Playbooks: YAML files validated against the playbook JSON Schema (2020-12, ``schemas/playbook.schema.json``,
generated from :mod:`provisioner.playbook.model`) before any API call, then built into a frozen :class:`Playbook`.

Every error is one line ``FILE:LINE:COLUMN: <key>: <problem>; <fix>`` raised as
:class:`~provisioner.errors.BadInput` (exit code 2). The loader refuses: files over 256 KiB, binary or non-UTF-8
files, YAML syntax errors, duplicate keys, alias expansion beyond 10,000 nodes, unknown keys (with a "did you
mean"), wrong types, impossible dates, invalid instance names (with a valid suggestion), and ``${NAME}``
interpolations of unset environment variables. Secret references (``{env: NAME}``, ``{file: PATH}``,
``{vcap: SERVICE}``) are checked when resolved (:meth:`SecretRef.resolve`), which ``run`` and ``plan`` do for all
of them before any API call. A playbook may list several ``tenants`` sharing its other settings
(:func:`load_all`).

Loading is: YAML with positions (:func:`parse_yaml`), ``${NAME}`` interpolation, schema validation
(:func:`validate`), then pydantic builds the :class:`Playbook` (defaults applied, nested ones included) and checks
the rules across fields (:mod:`provisioner.playbook.crossfield`), locating each problem and each secret reference
with the positions it is given as validation context.
"""

from __future__ import annotations

import copy
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from provisioner import safefile
from provisioner.errors import BadInput
from provisioner.playbook.crossfield import _CF_LOGIN_FIELDS, cf_api_problem  # noqa: F401
from provisioner.playbook.model import (
    BtpSettings,
    CfSettings,
    HttpConfig,
    Playbook,
    ServiceSettings,
    StepsSettings,
    Tenant,
    Timeouts,
)
from provisioner.playbook.schema import schema
from provisioner.playbook.secretref import SecretRef, text_of, vcap_credentials
from provisioner.playbook.validate import validate
from provisioner.playbook.yamlpos import Marks, Path_, dotted, location, parse_yaml

__all__ = ["MAX_PLAYBOOK_BYTES", "BtpSettings", "CfSettings", "HttpConfig", "Playbook", "PlaybookFile",  # noqa: F822
           "SecretRef", "ServiceSettings", "StepsSettings", "Tenant", "Timeouts", "interpolate", "load",
           "load_all", "load_all_text", "load_text", "parse_yaml", "schema", "text_of", "validate",
           "vcap_credentials"]


def __getattr__(name: str) -> Any:
    """``PlaybookFile`` (the file as a whole, for the JSON Schema) is built when first asked for: reading a
    playbook does not need it, and building its models is a third of ``provisioner validate``'s start-up."""
    if name == "PlaybookFile":
        from provisioner.playbook.file import PlaybookFile

        return PlaybookFile
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


MAX_PLAYBOOK_BYTES = 256 * 1024
_INTERP = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def interpolate(value: Any, source: str, marks: Marks, env: Mapping[str, str], path: Path_ = ()) -> Any:
    """Replace ``${NAME}`` in strings with environment variables; raise :class:`BadInput` for unset ones."""
    if isinstance(value, dict):
        return {k: interpolate(v, source, marks, env, path + (k,)) for k, v in value.items()}
    if isinstance(value, list):
        return [interpolate(v, source, marks, env, path + (i,)) for i, v in enumerate(value)]
    if isinstance(value, str) and "${" in value:
        def sub(m: re.Match[str]) -> str:
            if m.group(1) not in env:
                raise BadInput(f"{location(source, marks, path)}: {dotted(path)}: environment variable "
                               f"{m.group(1)} is not set; export it")
            return env[m.group(1)]
        return _INTERP.sub(sub, value)
    return value


def _build(data: dict[str, Any], source: str, marks: Marks) -> Playbook:
    """The :class:`Playbook` of validated data (pydantic applies the defaults)."""
    from pydantic import ValidationError

    try:
        return Playbook.model_validate({**data, "source": source}, context={"marks": marks, "format": True})
    except ValidationError as exc:  # the schema let through what the model refuses: say where, never the value
        first = exc.errors(include_url=False, include_input=False)[0]
        path = tuple(p for p in first["loc"] if isinstance(p, str | int))
        raise BadInput(f"{location(source, marks, path)}: {dotted(path)}: {first['msg']}; "
                       "see `provisioner schema playbook`") from None


def _text_problems(value: Any, source: str, marks: Marks, path: Path_ = ()) -> None:
    """Raise :class:`BadInput` for a key or string that is not text: a lone surrogate (``"\\uD800"`` in YAML, or
    an environment variable of bytes that are not UTF-8), which no file, URL or terminal can take."""
    items: Any = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for k, v in items:
        if isinstance(k, str) and not _is_text(k):
            raise BadInput(f"{location(source, marks, path)}: {dotted(path)}: a key holds a lone surrogate "
                           "(\\uD800-\\uDFFF), which is not text; remove it")
        _text_problems(v, source, marks, path + (k,))
    if isinstance(value, str) and not _is_text(value):
        raise BadInput(f"{location(source, marks, path)}: {dotted(path)}: holds a lone surrogate "
                       "(\\uD800-\\uDFFF), which is not text; remove it")


def _is_text(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _one(data: Any, source: str, marks: Marks, env: Mapping[str, str]) -> Playbook:
    data = interpolate(data, source, marks, env)  # first, so that interpolated values are validated too
    _text_problems(data, source, marks)
    validate(data, source, marks)
    return _build(data, source, marks)


def _merge(base: Any, over: Any) -> Any:
    if isinstance(base, dict) and isinstance(over, dict):
        return {**base, **{k: _merge(base.get(k), v) if k in base else v for k, v in over.items()}}
    return over


def load_all_text(text: str, source: str, env: Mapping[str, str] | None = None) -> list[Playbook]:
    """Every tenant of a playbook given as text: one, or one per item of ``tenants`` (merged over the rest).
    ``env`` (default ``os.environ``) serves ``${NAME}``. Raises :class:`BadInput` (one line) for any problem."""
    env = os.environ if env is None else env
    data, marks = parse_yaml(text, source)
    if not isinstance(data, dict) or "tenants" not in data:
        return [_one(_fill_tenant(copy.deepcopy(data)), source, marks, env)]
    tenants = data["tenants"]
    if not isinstance(tenants, list) or not tenants or not all(isinstance(t, dict) for t in tenants):
        raise BadInput(f"{location(source, marks, ('tenants',))}: tenants: expected a list of mappings, one per "
                       "tenant (the keys that differ from the rest of the playbook)")
    base = {k: v for k, v in data.items() if k != "tenants"}
    # positions grouped once (per tenant item, and the shared ones), not scanned in full for every tenant
    shared_marks = {p: pos for p, pos in marks.items() if p[:1] != ("tenants",)}
    marks_of: dict[Any, dict[Path_, tuple[int, int]]] = {}
    for p, pos in marks.items():
        if p[:1] == ("tenants",) and len(p) >= 2:
            marks_of.setdefault(p[1], {})[p[2:]] = pos
    out = []
    for i, item in enumerate(tenants):
        if "tenants" in item:
            raise BadInput(f"{location(source, marks, ('tenants', i, 'tenants'))}: tenants[{i}].tenants: a tenant "
                           "does not list tenants; remove it")
        merged = _merge(copy.deepcopy(base), item)
        # positions: the tenant item's own keys first, then the shared ones
        merged_marks = {**shared_marks, **marks_of.get(i, {})}
        out.append(_one(_fill_tenant(merged), source, merged_marks, env))
    return out


def _fill_tenant(data: Any) -> Any:
    """``data`` with ``{tenant}`` in ``steps.download.path`` replaced by ``tenant.subdomain`` (any type: the
    schema says later what is wrong)."""
    steps = data.get("steps") if isinstance(data, dict) else None
    tenant = data.get("tenant") if isinstance(data, dict) else None
    download = steps.get("download") if isinstance(steps, dict) else None
    sub = tenant.get("subdomain") if isinstance(tenant, dict) else None
    if isinstance(download, dict) and isinstance(download.get("path"), str) and isinstance(sub, str):
        download["path"] = download["path"].replace("{tenant}", sub)
    return data


def load_text(text: str, source: str, env: Mapping[str, str] | None = None) -> Playbook:
    """Parse, interpolate, validate and build a playbook of one tenant given as text."""
    playbooks = load_all_text(text, source, env)
    if len(playbooks) != 1:
        raise BadInput(f"{source}:1:1: the playbook lists {len(playbooks)} tenants; this command takes one")
    return playbooks[0]


def load(path: str | Path, env: Mapping[str, str] | None = None) -> Playbook:
    """Load a playbook file of one tenant. Raises :class:`BadInput` (one line, ``FILE:LINE:COL``) for any problem."""
    return load_text(_read(path), str(path), env)


def load_all(path: str | Path, env: Mapping[str, str] | None = None) -> list[Playbook]:
    """Load a playbook file: one tenant, or one per item of its ``tenants`` list."""
    return load_all_text(_read(path), str(path), env)


def _read(path: str | Path) -> str:
    return safefile.read_text(safefile.expand(path), "playbook", max_bytes=MAX_PLAYBOOK_BYTES)
