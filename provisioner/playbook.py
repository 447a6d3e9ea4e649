"""Playbooks: YAML files validated against ``schemas/playbook.schema.json`` (JSON Schema 2020-12) before any API
call, then turned into a :class:`Playbook`.

Every error is one line ``FILE:LINE:COLUMN: <key>: <problem>; <fix>`` raised as
:class:`~provisioner.errors.BadInput` (exit code 2). The loader refuses: files over 256 KiB, binary or non-UTF-8
files, YAML syntax errors, duplicate keys, alias expansion beyond 10,000 nodes, unknown keys (with a "did you
mean"), wrong types, impossible dates, invalid instance names (with a valid suggestion), and ``${NAME}``
interpolations of unset environment variables. Secret references (``{env: NAME}``, ``{file: PATH}``,
``{vcap: SERVICE}``) are checked when resolved (:meth:`SecretRef.resolve`), which ``run`` and ``plan`` do for all
of them before any API call. A playbook may list several ``tenants`` sharing its other settings
(:func:`load_all`).
"""

from __future__ import annotations

import copy
import datetime as dt
import difflib
import json
import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from provisioner.errors import BadInput
from provisioner.keyfile import read_text_file
from provisioner.names import instance_name_problem, suggest_instance_name
from provisioner.secret import Secret

MAX_PLAYBOOK_BYTES = 256 * 1024
MAX_NODES = 10_000
MAX_DEPTH = 64
_SCALAR_TAGS = ("str", "int", "float", "bool", "null", "timestamp")
_INTERP = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")

Path_ = tuple[str | int, ...]


@lru_cache(maxsize=1)
def schema() -> dict[str, Any]:
    """The playbook JSON Schema shipped in the package (``schemas/playbook.schema.json`` links to it)."""
    return json.loads(resources.files("provisioner").joinpath("data/playbook.schema.json").read_text("utf-8"))


# -- YAML with positions --------------------------------------------------------------------------------------


class _Loader(yaml.SafeLoader):
    pass


def _to_python(node: yaml.Node, source: str, path: Path_, marks: dict[Path_, tuple[int, int]],
               budget: list[int]) -> Any:
    """Build plain Python data from a composed YAML node, recording ``(line, column)`` of every value by path."""
    budget[0] -= 1
    if budget[0] < 0:
        raise BadInput(f"{source}:{node.start_mark.line + 1}:{node.start_mark.column + 1}: the YAML expands to "
                       f"more than {MAX_NODES} nodes (anchors/aliases?); write the values out")
    if len(path) > MAX_DEPTH:
        raise BadInput(f"{source}:{node.start_mark.line + 1}:{node.start_mark.column + 1}: the YAML nests more "
                       f"than {MAX_DEPTH} levels deep (a recursive alias?); a playbook is a few levels deep")
    marks[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
    where = f"{source}:{node.start_mark.line + 1}:{node.start_mark.column + 1}: {_dotted(path)}"
    allowed = ("map",) if isinstance(node, yaml.MappingNode) else ("seq",) if isinstance(node, yaml.SequenceNode) \
        else _SCALAR_TAGS
    if not node.tag.startswith("tag:yaml.org,2002:") or node.tag.rsplit(":", 1)[-1] not in allowed:
        raise BadInput(f"{where}: the YAML tag {node.tag.replace('tag:yaml.org,2002:', '!!')!r} is not supported; "
                       "remove the tag")
    if isinstance(node, yaml.MappingNode):
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                raise BadInput(f"{source}:{key_node.start_mark.line + 1}:{key_node.start_mark.column + 1}: "
                               "merge keys (<<) are not supported; write the keys out")
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
            where = f"{source}:{key_node.start_mark.line + 1}:{key_node.start_mark.column + 1}"
            if not isinstance(key, str):
                raise BadInput(f"{where}: {_dotted(path)}: a key here is a list or mapping; keys must be plain "
                               "strings")
            if key in out:
                first = marks.get(path + (key,), (0, 0))[0]
                raise BadInput(f"{where}: {_dotted(path + (key,))}: duplicate key (first at line {first}); "
                               "keep one of them")
            marks[path + (key,)] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            out[key] = _to_python(value_node, source, path + (key,), marks, budget)
            marks[path + (key,)] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_to_python(v, source, path + (i,), marks, budget) for i, v in enumerate(node.value)]
    try:
        value = _Loader.construct_object(_Loader(""), node)
    except Exception as exc:  # noqa: BLE001 - PyYAML raises ValueError, KeyError, AttributeError, ...
        kind = node.tag.rsplit(":", 1)[-1]
        if kind == "timestamp":
            reason = f" ({exc})" if isinstance(exc, ValueError) else ""
            raise BadInput(f"{where}: {node.value!r} is not a real date{reason}; write YYYY-MM-DD, e.g. 2023-05-31")\
                from None
        raise BadInput(f"{where}: {node.value!r} is not a valid {kind}; fix the value (quote it if it is text)")\
            from None
    if isinstance(value, dt.datetime):
        return str(node.value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and not math.isfinite(value):  # .nan, .inf
        raise BadInput(f"{where}: {node.value!r} is not a finite number; write a number, e.g. 600")
    return value


def _dotted(path: Path_) -> str:
    out = ""
    for p in path:
        if not isinstance(p, int) and not (p.isprintable() and p.strip()):
            p = repr(p)  # keep the message on one line
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out or "(top level)"


def parse_yaml(text: str, source: str) -> tuple[Any, dict[Path_, tuple[int, int]]]:
    """Parse one YAML document; return the data and a map of paths to ``(line, column)``."""
    try:
        nodes = list(yaml.compose_all(text, Loader=_Loader))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        problem = " ".join(str(exc.problem or exc.context).split())
        raise BadInput(f"{source}:{line}:{col}: YAML syntax error: {problem}; "
                       "fix the indentation or quoting there") from None
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, exc.position) + 1
        col = exc.position - (text.rfind("\n", 0, exc.position) + 1) + 1
        char = exc.character if isinstance(exc.character, str) else chr(exc.character)
        raise BadInput(f"{source}:{line}:{col}: the character {char!r} is not allowed in YAML; remove it") from None
    except yaml.YAMLError as exc:
        raise BadInput(f"{source}:1:1: YAML error: {' '.join(str(exc).split())}") from None
    except RecursionError:
        raise BadInput(f"{source}:1:1: the YAML nests too deeply; a playbook is a few levels deep") from None
    if not nodes or nodes[0] is None:
        raise BadInput(f"{source}:1:1: the playbook is empty; write its keys (version: 1, tenant:, btp:, cf:, "
                       "steps:; see schemas/playbook.schema.json)")
    if len(nodes) > 1:
        mark = getattr(nodes[1], "start_mark", None)
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        raise BadInput(f"{source}:{line}:{col}: a second YAML document starts here (after ---); keep one playbook "
                       "per file")
    marks: dict[Path_, tuple[int, int]] = {}
    return _to_python(nodes[0], source, (), marks, [MAX_NODES]), marks


# -- schema validation ----------------------------------------------------------------------------------------


def _location(source: str, marks: Mapping[Path_, tuple[int, int]], path: Path_) -> str:
    p = tuple(path)
    while p not in marks and p:
        p = p[:-1]
    line, col = marks.get(p, (1, 1))
    return f"{source}:{line}:{col}"


def _subschema(path: Path_) -> dict[str, Any]:
    node = schema()
    for part in path:
        if isinstance(part, int):
            node = node.get("items", {})
        else:
            node = node.get("properties", {}).get(part, {})
        if "$ref" in node:
            node = schema()["$defs"][node["$ref"].rsplit("/", 1)[-1]]
    return node


def _error_line(err, source: str, marks) -> str:
    path = tuple(err.absolute_path)
    if err.validator == "additionalProperties":
        allowed = sorted(_subschema(path).get("properties", {}))
        extras = [k for k in err.instance if k not in allowed]
        key = extras[0] if extras else "?"
        near = difflib.get_close_matches(key, allowed, n=1)
        hint = f"did you mean '{near[0]}'?" if near else "allowed: " + ", ".join(allowed)
        return f"{_location(source, marks, path + (key,))}: {_dotted(path + (key,))}: unknown key; {hint}"
    if err.validator == "required":
        missing = err.message.split("'")[1] if "'" in err.message else err.message
        return f"{_location(source, marks, path)}: {_dotted(path + (missing,))}: required key is missing; add it"
    where = _location(source, marks, path)
    key = _dotted(path)
    if path[-2:] == ("instance", "name") and isinstance(err.instance, str):
        problem = instance_name_problem(err.instance)
        return (f"{where}: {key}: {err.instance!r} {problem}; "
                f"use e.g. {suggest_instance_name(err.instance)!r}")
    if err.validator == "format" and err.validator_value == "date":
        reason = ""
        if re.match(r"\d{4}-\d{2}-\d{2}[Tt ]", err.instance):
            return (f"{where}: {key}: {_show(err.instance)} is a date and time; write the date only, "
                    f"e.g. {err.instance[:10]}")
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", err.instance):
            try:
                dt.date.fromisoformat(err.instance)
            except ValueError as exc:
                reason = f" ({exc})"
        return f"{where}: {key}: {_show(err.instance)} is not a real date{reason}; write YYYY-MM-DD, e.g. 2023-05-31"
    if err.validator == "type":
        want = err.validator_value if isinstance(err.validator_value, list) else [err.validator_value]
        wanted = " or ".join(_TYPE_WORDS.get(w, (w, ""))[0] for w in want)
        return (f"{where}: {key}: expected {wanted}, got {_got(err.instance)}; "
                f"{_TYPE_WORDS.get(want[0], ('', 'fix the value'))[1]}")
    if err.validator == "oneOf" and "value" in str(err.schema_path) or err.validator == "oneOf":
        return f"{where}: {key}: expected a string or {{env: NAME}} / {{file: PATH}}; fix the value"
    if err.validator in ("minProperties", "maxProperties") or (
            err.validator == "type" and path and path[-1] in ("password", "client_secret", "cis_key")):
        return f"{where}: {key}: give exactly one of {{env: NAME}} or {{file: PATH}}"
    if err.validator == "enum":
        choices = [str(v) for v in err.validator_value]
        near = difflib.get_close_matches(str(err.instance), choices, n=1)
        fix = f"did you mean {near[0]!r}?" if near else "use one of them"
        return f"{where}: {key}: {_show(err.instance)} is not one of {', '.join(choices)}; {fix}"
    if err.validator == "const":
        return (f"{where}: {key}: {_show(err.instance)} is not supported; write {key}: {err.validator_value!r} "
                f"(this tool reads playbook version 1)")
    limit = err.validator_value
    if err.validator == "minimum":
        return f"{where}: {key}: {_show(err.instance)} is below the minimum {limit}; use {limit} or more"
    if err.validator == "exclusiveMinimum":
        return f"{where}: {key}: {_show(err.instance)} must be more than {limit}; use a positive number"
    if err.validator == "maximum":
        return f"{where}: {key}: {_show(err.instance)} is over the maximum {limit}; use {limit} or less"
    if err.validator in ("minLength", "minItems") and not err.instance:
        default = ", or remove the key to take the default" if "default" in _subschema(path) else ""
        return f"{where}: {key}: is empty; give a value{default}"
    if err.validator in ("maxLength", "maxItems"):
        return f"{where}: {key}: is longer than {limit}; shorten it"
    if err.validator == "uniqueItems":
        dup = next((v for i, v in enumerate(err.instance) if v in err.instance[:i]), None)
        return f"{where}: {key}: lists {_show(dup)} more than once; keep one"
    if err.validator == "pattern" and path[-1:] == ("env",):
        return (f"{where}: {key}: {_show(err.instance)} is not an environment variable name; use letters, "
                "digits and _ (not starting with a digit)")
    if err.validator == "pattern" and path[-1:] == ("subdomain",):
        return (f"{where}: {key}: {_show(err.instance)} is not a subdomain; use lowercase letters, digits and -, "
                "e.g. acme-cloudalm")
    return f"{where}: {key}: {' '.join(err.message.split())[:200]}; see schemas/playbook.schema.json"


_TYPE_WORDS = {
    "object": ("a mapping", "write its keys indented below it"),
    "array": ("a list", "write a list, e.g. [a, b]"),
    "string": ("a string", "write a string (quote it if needed)"),
    "number": ("a number", "write a number, e.g. 600"),
    "integer": ("a whole number", "write a whole number, e.g. 5"),
    "boolean": ("true or false", "write true or false"),
}


def _got(value: Any) -> str:
    if value is None:
        return "nothing (an empty value)"
    if isinstance(value, bool):
        return f"{str(value).lower()} (a boolean)"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return f"the string {_show(value)}"
    if isinstance(value, int):
        return f"the whole number {value}" if abs(value) < 10**12 else "a whole number"
    if isinstance(value, float):
        return f"the number {value:g}"
    return type(value).__name__


def _show(value: Any, limit: int = 60) -> str:
    """``repr`` of a value from the playbook, cut to ``limit`` characters (always one line)."""
    text = repr(value)
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _secret_type_fix(data: Any, marks, source: str) -> None:
    """A plain string where a secret reference is required: say so before schema errors get generic."""
    for section, keys in (("cf", ("password", "client_secret")), ("btp", ("password", "cis_key"))):
        sec = data.get(section) if isinstance(data, dict) else None
        if not isinstance(sec, dict):
            continue
        for k in keys:
            if isinstance(sec.get(k), str):
                raise BadInput(f"{_location(source, marks, (section, k))}: {section}.{k}: inline secrets are not "
                               f"allowed; use {{env: NAME}} or {{file: PATH}}")


@lru_cache(maxsize=1)
def _validator_class():
    """Draft 2020-12 with ``pattern`` as JSON Schema means it (ECMA 262): a final ``$`` is the end of the string,
    not also the place before a final newline (as in Python's ``re``), so ``"cloudalm-api\\n"`` is refused."""
    from jsonschema import Draft202012Validator, ValidationError, validators

    def pattern(validator, patrn, instance, _schema):
        if validator.is_type(instance, "string") and not re.search(re.sub(r"\$$", r"\\Z", patrn), instance):
            yield ValidationError(f"{instance!r} does not match {patrn!r}")

    return validators.extend(Draft202012Validator, {"pattern": pattern})


def validate(data: Any, source: str, marks: Mapping[Path_, tuple[int, int]]) -> None:
    """Validate against the schema; raise :class:`BadInput` with the first error (in document order)."""
    Draft202012Validator = _validator_class()  # noqa: N806

    if not isinstance(data, dict):
        raise BadInput(f"{source}:1:1: the playbook must be a YAML mapping (key: value lines), not {_got(data)}")
    _secret_type_fix(data, marks, source)
    validator = Draft202012Validator(schema(), format_checker=Draft202012Validator.FORMAT_CHECKER)
    errors = list(validator.iter_errors(data))
    if not errors:
        return

    def order(err):
        loc = _location(source, marks, tuple(err.absolute_path))
        line, col = loc.rsplit(":", 2)[1:]
        return int(line), int(col), -len(err.absolute_path)

    # prefer the most specific error of the oneOf/anyOf family
    best = min(errors, key=order)
    if best.context:
        best = min(best.context, key=lambda e: -len(e.absolute_path))
    raise BadInput(_error_line(best, source, marks))


def apply_defaults(data: dict[str, Any], node: dict[str, Any] | None = None) -> dict[str, Any]:
    """Fill ``default`` values of the schema's object properties into ``data`` (recursively), in place."""
    node = node or schema()
    for key, sub in node.get("properties", {}).items():
        if "$ref" in sub:
            continue
        if key not in data and "default" in sub:
            data[key] = json.loads(json.dumps(sub["default"]))
        if isinstance(data.get(key), dict) and sub.get("type") == "object":
            apply_defaults(data[key], sub)
    return data


def interpolate(value: Any, source: str, marks, env: Mapping[str, str], path: Path_ = ()) -> Any:
    """Replace ``${NAME}`` in strings with environment variables; raise :class:`BadInput` for unset ones."""
    if isinstance(value, dict):
        return {k: interpolate(v, source, marks, env, path + (k,)) for k, v in value.items()}
    if isinstance(value, list):
        return [interpolate(v, source, marks, env, path + (i,)) for i, v in enumerate(value)]
    if isinstance(value, str) and "${" in value:
        def sub(m: re.Match[str]) -> str:
            if m.group(1) not in env:
                raise BadInput(f"{_location(source, marks, path)}: {_dotted(path)}: environment variable "
                               f"{m.group(1)} is not set; export it")
            return env[m.group(1)]
        return _INTERP.sub(sub, value)
    return value


# -- the model ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SecretRef:
    """``{env: NAME}``, ``{file: PATH}`` or ``{vcap: SERVICE}``; ``where`` is ``FILE:LINE:COL key`` for errors."""

    env: str | None
    file: str | None
    where: str
    vcap: str | None = None

    def resolve(self, environ: Mapping[str, str] | None = None) -> Secret:
        """The secret's value. Raises :class:`BadInput` if the variable is unset/empty or the file unreadable."""
        environ = os.environ if environ is None else environ
        if self.vcap is not None:
            return Secret(json.dumps(vcap_credentials(self.vcap, self.where, environ)))
        if self.env is not None:
            value = environ.get(self.env)
            if not value:
                state = "is empty" if self.env in environ else "is not set"
                raise BadInput(f"{self.where}: environment variable {self.env} {state}; export it "
                               "(or use {file: PATH})")
            return Secret(value)
        assert self.file is not None
        try:
            text = read_text_file(Path(self.file), "secret file")
        except BadInput as exc:
            raise BadInput(f"{self.where}: {exc}") from None
        if not text.strip():
            raise BadInput(f"{self.where}: secret file {self.file} is empty; put the secret in it")
        return Secret(text.strip("\n"))

    def describe(self) -> str:
        if self.vcap:
            return f"VCAP_SERVICES service {self.vcap}"
        return f"env {self.env}" if self.env else f"file {self.file}"


def text_of(value: str | SecretRef | None) -> str | None:
    """A plain string as it is, a reference resolved (for values such as usernames that may be either)."""
    if value is None or isinstance(value, str):
        return value
    return value.resolve().reveal()


def vcap_credentials(service: str, where: str, environ: Mapping[str, str]) -> dict[str, Any]:
    """The ``credentials`` of the service bound as ``service`` (name, else label) in ``VCAP_SERVICES``, read with
    cfenv. Raises :class:`BadInput` when VCAP_SERVICES is unset, not JSON, or has no such service."""
    raw = environ.get("VCAP_SERVICES")
    if not raw:
        raise BadInput(f"{where}: VCAP_SERVICES is not set (a bound service is read inside Cloud Foundry only)")
    try:
        json.loads(raw)
    except ValueError:
        raise BadInput(f"{where}: VCAP_SERVICES is not valid JSON") from None
    import cfenv

    saved = os.environ.get("VCAP_SERVICES")
    os.environ["VCAP_SERVICES"] = raw  # cfenv reads the process environment
    try:
        app = cfenv.AppEnv()
    finally:
        if saved is None:
            os.environ.pop("VCAP_SERVICES", None)
        else:
            os.environ["VCAP_SERVICES"] = saved
    svc = app.get_service(name=service) or app.get_service(label=service)
    if svc is None or not isinstance(svc.credentials, dict):
        names = ", ".join(sorted(s.name for s in app.services)) or "none"
        raise BadInput(f"{where}: no service {service!r} in VCAP_SERVICES (bound: {names}); bind it or fix the name")
    return svc.credentials


@dataclass(frozen=True)
class Tenant:
    subdomain: str
    provisioned: dt.date
    purposes: tuple[str, ...]


@dataclass(frozen=True)
class BtpSettings:
    subaccount: str
    cis_key: SecretRef
    username: str | SecretRef | None
    password: SecretRef | None


@dataclass(frozen=True)
class CfSettings:
    """``login`` is password | client_credentials | cf-cli | vcap (cf-env is password from CF_USERNAME/CF_PASSWORD);
    ``api`` is None with cf-cli (the cf CLI's target is used)."""

    api: str | None
    org: str
    username: str | SecretRef | None
    password: SecretRef | None
    client_id: str | None
    client_secret: SecretRef | None
    origin: str | None
    login: str = "password"
    vcap_service: str | None = None


@dataclass(frozen=True)
class ServiceSettings:
    offering: str
    plan: str
    authorities: tuple[str, ...]
    credential_type: str
    required_scopes: tuple[str, ...]
    amount: int


@dataclass(frozen=True)
class Timeouts:
    """Seconds each async wait may take."""

    entitlement: float
    instance: float
    key: float


@dataclass(frozen=True)
class HttpConfig:
    connect_timeout: float
    read_timeout: float
    retries: int
    ca_bundle: str | None


@dataclass(frozen=True)
class Playbook:
    """A validated playbook of one tenant. ``source`` is its path as given."""

    source: str
    tenant: Tenant
    btp: BtpSettings
    cf: CfSettings
    service: ServiceSettings
    mode: str
    space_name: str
    space_developers: tuple[str, ...]
    entitlement_enabled: bool
    instance_name: str
    key_name: str
    download_path: str
    timeouts: Timeouts
    http: HttpConfig

    def secrets(self) -> list[SecretRef]:
        refs = [self.btp.cis_key, self.btp.password, self.cf.password, self.cf.client_secret,
                self.btp.username, self.cf.username]
        return [r for r in refs if isinstance(r, SecretRef)]


def _ref(value: Any, source: str, marks, path: Path_) -> SecretRef | None:
    if not isinstance(value, dict):
        return None
    return SecretRef(value.get("env"), value.get("file"), f"{_location(source, marks, path)}: {_dotted(path)}",
                     value.get("vcap"))


def _value(value: Any, source: str, marks, path: Path_) -> str | SecretRef | None:
    return value if isinstance(value, str) or value is None else _ref(value, source, marks, path)


def _cf_login(c: dict[str, Any], where: str) -> str:
    """The CF login source, checking that the fields it needs (and only those) are given."""
    fields = {"password": ("username", "password"), "client_credentials": ("client_id", "client_secret"),
              "cf-env": (), "cf-cli": (), "vcap": ("vcap_service",)}
    given = {k for k in ("username", "password", "client_id", "client_secret", "vcap_service") if k in c}
    login = c.get("login") or ("client_credentials" if given & {"client_id", "client_secret"} else "password")
    if login == "password" and not given:
        raise BadInput(f"{where}: cf: no credentials; add username and password: {{env: CF_PASSWORD}}, or "
                       "login: cf-env | cf-cli | vcap | client_credentials")
    missing = [k for k in fields[login] if k not in c]
    if missing:
        raise BadInput(f"{where}: cf: login {login} needs {' and '.join(fields[login])}; add {', '.join(missing)}")
    extra = sorted(given - set(fields[login]))
    if extra:
        raise BadInput(f"{where}: cf: {', '.join(extra)} not used with login {login}; remove it or change login")
    if "api" not in c and login != "cf-cli":
        raise BadInput(f"{where}: cf.api: required key is missing (only login: cf-cli takes the cf CLI's target); "
                       "add it")
    return login


def _cf_settings(c: dict[str, Any], login: str, source: str, marks) -> CfSettings:
    username = _value(c.get("username"), source, marks, ("cf", "username"))
    password = _ref(c.get("password"), source, marks, ("cf", "password"))
    if login == "cf-env":  # as `cf auth` reads them
        where = f"{_location(source, marks, ('cf',))}: cf.login cf-env"
        username, password, login = SecretRef("CF_USERNAME", None, where), SecretRef("CF_PASSWORD", None, where), \
            "password"
    return CfSettings(c.get("api"), c["org"], username, password, c.get("client_id"),
                      _ref(c.get("client_secret"), source, marks, ("cf", "client_secret")), c.get("origin"),
                      login, c.get("vcap_service"))


def build(data: dict[str, Any], source: str, marks) -> Playbook:
    """Turn validated, defaulted data into a :class:`Playbook` (with the cross-field checks)."""
    t, b, c, s, st = data["tenant"], data["btp"], data["cf"], data["service"], data["steps"]
    login = _cf_login(c, _location(source, marks, ("cf",)))
    if ("username" in b) != ("password" in b):
        raise BadInput(f"{_location(source, marks, ('btp',))}: btp: username and password go together; "
                       "add the missing one")
    tm = data["timeouts"]
    h = data["http"]
    return Playbook(
        source=source,
        tenant=Tenant(t["subdomain"], dt.date.fromisoformat(t["provisioned"]), tuple(t["purposes"])),
        btp=BtpSettings(b["subaccount"], _ref(b["cis_key"], source, marks, ("btp", "cis_key")),
                        _value(b.get("username"), source, marks, ("btp", "username")),
                        _ref(b.get("password"), source, marks, ("btp", "password"))),
        cf=_cf_settings(c, login, source, marks),
        service=ServiceSettings(s["offering"], s["plan"], tuple(s["authorities"]), s["credential_type"],
                                tuple(s["required_scopes"]), s["amount"]),
        mode=st["mode"],
        space_name=st["space"]["name"],
        space_developers=tuple(st["space"]["developers"]),
        entitlement_enabled=st["entitlement"]["enabled"],
        instance_name=st["instance"]["name"],
        key_name=st["key"]["name"],
        download_path=st["download"]["path"],
        timeouts=Timeouts(float(tm["entitlement"]), float(tm["instance"]), float(tm["key"])),
        http=HttpConfig(float(h["connect_timeout"]), float(h["read_timeout"]), int(h["retries"]),
                        h.get("ca_bundle")),
    )


def _one(data: dict[str, Any], source: str, marks, env: Mapping[str, str]) -> Playbook:
    data = interpolate(data, source, marks, env)  # first, so that interpolated values are validated too
    validate(data, source, marks)
    apply_defaults(data)
    return build(data, source, marks)


def _merge(base: Any, over: Any) -> Any:
    if isinstance(base, dict) and isinstance(over, dict):
        return {**base, **{k: _merge(base.get(k), v) if k in base else v for k, v in over.items()}}
    return over


def load_all_text(text: str, source: str, env: Mapping[str, str] | None = None) -> list[Playbook]:
    """Every tenant of a playbook given as text: one, or one per item of ``tenants`` (merged over the rest)."""
    env = os.environ if env is None else env
    data, marks = parse_yaml(text, source)
    if not isinstance(data, dict) or "tenants" not in data:
        return [_one(data, source, marks, env)]
    tenants = data["tenants"]
    if not isinstance(tenants, list) or not tenants or not all(isinstance(t, dict) for t in tenants):
        raise BadInput(f"{_location(source, marks, ('tenants',))}: tenants: expected a list of mappings, one per "
                       "tenant (the keys that differ from the rest of the playbook)")
    base = {k: v for k, v in data.items() if k != "tenants"}
    out = []
    for i, item in enumerate(tenants):
        merged = _merge(copy.deepcopy(base), item)
        # positions: the tenant item's own keys first, then the shared ones
        item_marks = {p[2:]: pos for p, pos in marks.items() if p[:2] == ("tenants", i)}
        merged_marks = {**{p: pos for p, pos in marks.items() if p[:1] != ("tenants",)}, **item_marks}
        download = (merged.get("steps") or {}).get("download")
        if isinstance(download, dict) and isinstance(download.get("path"), str):
            sub = (merged.get("tenant") or {}).get("subdomain")
            download["path"] = download["path"].replace("{tenant}", str(sub))
        out.append(_one(merged, source, merged_marks, env))
    return out


def load_text(text: str, source: str, env: Mapping[str, str] | None = None) -> Playbook:
    """Parse, validate, default and interpolate a playbook of one tenant given as text."""
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
    return read_text_file(Path(path), "playbook", max_bytes=MAX_PLAYBOOK_BYTES)
