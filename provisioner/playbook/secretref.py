"""Secret references of a playbook: ``{env: NAME}``, ``{file: PATH}`` or ``{vcap: SERVICE}``, resolved only when
needed (``run`` and ``plan`` resolve all of them before any API call), and the ``VCAP_SERVICES`` reader."""

from __future__ import annotations

import json
import os
import re
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, model_validator
from pydantic.json_schema import SkipJsonSchema

from provisioner.errors import BadInput
from provisioner.keys.keyjson import shown
from provisioner.safefile import expand as safefile_expand
from provisioner.safefile import read_text as safefile_read_text
from provisioner.secret import Secret, register

ENV_NAME = r"^[A-Za-z_][A-Za-z0-9_]*$"
_KINDS = ("env", "file", "vcap")
#: how long a ``{file:}`` that is a FIFO (a shell's ``<(pass show cf)``) may take to be written, in seconds
SECRET_FIFO_SECONDS = 5.0
#: compiled when first used (by an error message; re caches them): not at every start-up
_SHOWN_ENV = r"[A-Z][A-Z0-9_]{0,63}"
_PATH_SHAPE = r"(?:/|~/|\./|\.\./)\S{0,200}|\S{1,200}\.(?:json|txt|pem|key|secret|env)"


_FIFO_SECRETS: dict[str, Secret] = {}


def _is_fifo(path: Path) -> bool:
    try:
        return stat.S_ISFIFO(os.stat(path).st_mode)
    except (OSError, ValueError):
        return False


def shown_env(name: str) -> str:
    """An environment variable name for output when it has the UPPER_CASE shape of one; otherwise (``{env:
    <the secret>}`` written by mistake) a description that does not echo it."""
    return name if re.fullmatch(_SHOWN_ENV, name) else "named there (not shown: not an UPPER_CASE name, is it the " \
        "secret itself?)"


def shown_file(path: str) -> str:
    """A secret file's path for output when it has the shape of a path; otherwise (``{file: <the secret>}``) a
    description that does not echo it."""
    return path if re.fullmatch(_PATH_SHAPE, path) else "(the path written there, not shown: it does not look like a " \
        "path, is it the secret itself?)"


class SecretRef(BaseModel):
    """A secret reference: {env: NAME}, {file: PATH} or {vcap: SERVICE} (the credentials of a service bound in
    VCAP_SERVICES, by name or label). Inline secrets are not allowed."""

    model_config = ConfigDict(extra="forbid", frozen=True, title="secret reference",
                              json_schema_extra={"minProperties": 1, "maxProperties": 1})

    env: Annotated[str, Field(pattern=ENV_NAME)] | None = Field(
        default=None, description="Name of the environment variable holding the secret.")
    file: Annotated[str, Field(min_length=1)] | None = Field(
        default=None, description="Path of the file holding the secret (surrounding newlines are dropped).")
    vcap: Annotated[str, Field(min_length=1)] | None = Field(default=None, description=(
        "Name or label of the service bound in VCAP_SERVICES whose credentials are the secret (as JSON)."))
    # ``FILE:LINE:COL: key`` of the reference in its playbook, for error messages; not part of the playbook format
    where: SkipJsonSchema[str] = ""

    @model_validator(mode="before")
    @classmethod
    def _as_the_format_says(cls, data: Any, info: ValidationInfo) -> Any:
        """From a playbook (validation context ``{"format": True}``): no null, and no ``where`` (not a key of the
        format: the model sets it)."""
        if isinstance(info.context, dict) and info.context.get("format") and isinstance(data, dict) \
                and ("where" in data or None in data.values()):
            raise ValueError("not a secret reference of the playbook format")
        return data

    @model_validator(mode="after")
    def _exactly_one(self) -> SecretRef:
        given = [k for k in _KINDS if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of {env: NAME}, {file: PATH} or {vcap: SERVICE}")
        return self

    def resolve(self, environ: Mapping[str, str] | None = None, *, public: bool = False) -> Secret:
        """The secret's value (``environ`` defaults to ``os.environ``), registered as a secret in play
        (:func:`provisioner.secret.register`) unless ``public`` (a username). Raises :class:`BadInput` if the
        variable is unset or empty, the file unreadable or empty, or the VCAP_SERVICES service missing."""
        secret = self._resolve(os.environ if environ is None else environ)
        if not public:
            register(secret.reveal())
        return secret

    def _resolve(self, environ: Mapping[str, str]) -> Secret:
        if self.vcap is not None:
            return Secret(json.dumps(vcap_credentials(self.vcap, self.where, environ)), registered=False)
        if self.env is not None:
            value = environ.get(self.env)
            if not value:
                state = "is empty" if self.env in environ else "is not set"
                raise BadInput(f"{self.where}: environment variable {shown_env(self.env)} {state}; export it "
                               "(or use {file: PATH})")
            return Secret(value, registered=False)
        assert self.file is not None
        path = Path(self.file)
        fifo = _is_fifo(safefile_expand(path))
        if fifo and str(path) in _FIFO_SECRETS:  # a FIFO reads once: its secret is kept for this process
            return _FIFO_SECRETS[str(path)]
        try:
            text = safefile_read_text(safefile_expand(path), "secret file", fifo_seconds=SECRET_FIFO_SECONDS)
        except BadInput as exc:
            message = str(exc)  # "PATH: problem" (safefile's form): PATH shown only when it has a path's shape
            for spelled in sorted({str(safefile_expand(path)), str(path), self.file}, key=len, reverse=True):
                if message.startswith(spelled + ":"):
                    message = shown_file(self.file) + message[len(spelled):]
                    break
            raise BadInput(f"{self.where}: {message}") from None
        if not text.strip():
            raise BadInput(f"{self.where}: secret file {shown_file(self.file)} is empty; put the secret in it")
        secret = Secret(text.strip("\n"), registered=False)
        if fifo:
            _FIFO_SECRETS[str(path)] = secret
        return secret

    def describe(self) -> str:
        """Where the secret comes from, without its value: ``env NAME``, ``file PATH`` or ``VCAP_SERVICES ...``."""
        if self.vcap:
            return f"VCAP_SERVICES service {shown(self.vcap)}"
        return f"env {shown_env(self.env)}" if self.env else f"file {shown_file(self.file or '')}"


def text_of(value: str | SecretRef | None) -> str | None:
    """A plain string as it is, a reference resolved (for values such as usernames that may be either)."""
    if value is None or isinstance(value, str):
        return value
    return value.resolve(public=True).reveal()


def vcap_credentials(service: str, where: str, environ: Mapping[str, str]) -> dict[str, Any]:
    """The ``credentials`` of the service bound as ``service`` (name, else label) in ``VCAP_SERVICES``, read with
    cfenv. Raises :class:`BadInput` when VCAP_SERVICES is unset, not JSON, or has no such service."""
    raw = environ.get("VCAP_SERVICES")
    if not raw:
        raise BadInput(f"{where}: VCAP_SERVICES is not set (a bound service is read inside Cloud Foundry only)")
    try:
        parsed = json.loads(raw)
    except ValueError:
        raise BadInput(f"{where}: VCAP_SERVICES is not valid JSON") from None
    if not isinstance(parsed, dict) or not all(isinstance(v, list) and all(isinstance(s, dict) for s in v)
                                               for v in parsed.values()):
        raise BadInput(f"{where}: VCAP_SERVICES is not an object of service lists ({{\"label\": [{{...}}]}}), as "
                       "Cloud Foundry sets it; unset it or fix it")
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
        bound = sorted(shown(str(s.name)) for s in app.services)
        names = ", ".join(bound[:5]) + (f" and {len(bound) - 5} more" if len(bound) > 5 else "") or "none"
        raise BadInput(f"{where}: no service {shown(service)} in VCAP_SERVICES (bound: {names}); bind it or fix "
                       "the name")
    return svc.credentials
