"""The rules across fields that the playbook model checks once its fields are valid, each naming the file, line and
column (from the validation context: :func:`where_of`): which CF login a ``cf`` section uses and whether it gives
exactly the fields that login needs, the form of ``cf.api``, ``btp.username`` with ``btp.password``, where each
secret reference is written (:func:`locate_refs`), and a provisioning date that is not in the future. Each problem
is one :class:`~provisioner.errors.BadInput` line ``FILE:LINE:COLUMN: key: problem; fix``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit

from pydantic import BaseModel

from provisioner.clients.http_guards import url_problem
from provisioner.errors import BadInput
from provisioner.playbook.secretref import SecretRef
from provisioner.playbook.yamlpos import Marks, Path_, dotted, location, show

if TYPE_CHECKING:
    from provisioner.playbook.sections import CfSettings

Playbook = Any  # provisioner.playbook.model.Playbook, which imports this module

M = TypeVar("M", bound=BaseModel)
_CF_LOGIN_FIELDS = {"password": ("username", "password"), "client_credentials": ("client_id", "client_secret"),
                    "cf-env": (), "cf-cli": (), "vcap": ("vcap_service",)}


def _cf_login(c: CfSettings, where: str) -> str:
    """The CF login source, checking that the fields it needs (and only those) are given."""
    given = {k for k in ("username", "password", "client_id", "client_secret", "vcap_service")
             if getattr(c, k) is not None}
    login = c.login or ("client_credentials" if given & {"client_id", "client_secret"} else "password")
    if login == "password" and not given:
        raise BadInput(f"{where}: cf: no credentials; add username and password: {{env: CF_PASSWORD}}, or "
                       "login: cf-env | cf-cli | vcap | client_credentials")
    needed = _CF_LOGIN_FIELDS[login]
    missing = [k for k in needed if getattr(c, k) is None]
    if missing:
        raise BadInput(f"{where}: cf: login {login} needs {' and '.join(needed)}; add {', '.join(missing)}")
    extra = sorted(given - set(needed))
    if extra:
        raise BadInput(f"{where}: cf: {', '.join(extra)} not used with login {login}; remove it or change login")
    if c.api is None and login != "cf-cli":
        raise BadInput(f"{where}: cf.api: required key is missing (only login: cf-cli takes the cf CLI's target); "
                       "add it")
    return login


def cf_api_problem(url: str) -> str | None:
    """What is wrong with a ``cf.api`` URL, with the fix (None when it is the form of a CF API root): not https
    (plain http only to loopback), no host, a bad port, a path (``/v3``, ``/v2``: the root is meant), or the UAA's
    or the BTP cockpit's address in its place."""
    problem = url_problem(url)
    if problem:
        return problem
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    root = f"{parts.scheme}://{parts.netloc}"
    if parts.path.rstrip("/").lower() in ("/v3", "/v2") or parts.path.lower().startswith(("/v3/", "/v2/")):
        return f"ends in {show(parts.path, 40)}; cf.api is the API root, without /v3: write {show(root, 120)[1:-1]}"
    if parts.query or parts.fragment:
        return f"has a query or fragment; write the API root {show(root, 120)[1:-1]}"
    if host.startswith(("uaa.", "login.", "cockpit.", "accounts.", "account.")):
        return (f"{show(host, 60)} is not a CF API (a UAA or cockpit address?); write the API endpoint, e.g. "
                "https://api.cf.eu10.hana.ondemand.com")
    return None


def cross_checks(pb: Playbook, where: Callable[[Path_], str]) -> Playbook:
    """The checks across fields of ``cf`` and ``btp`` (``where`` gives ``FILE:LINE:COL`` of a path); return ``pb``
    with ``cf.login`` decided (``cf-env`` becomes ``password`` with references to CF_USERNAME and CF_PASSWORD, as
    ``cf auth`` reads them). Raises :class:`BadInput` (one line)."""
    if (pb.btp.username is None) != (pb.btp.password is None):
        raise BadInput(f"{where(('btp',))}: btp: username and password go together; add the missing one")
    cf = pb.cf
    if cf is None:  # the subaccount route
        return pb
    at = where(("cf",))
    login = _cf_login(cf, at)
    update: dict[str, Any] = {"login": login}
    if login == "cf-env":
        ref = f"{at}: cf.login cf-env"
        update.update(login="password", username=SecretRef(env="CF_USERNAME", where=ref),
                      password=SecretRef(env="CF_PASSWORD", where=ref))
    if cf.api is not None:
        problem = cf_api_problem(cf.api)
        if problem:
            raise BadInput(f"{where(('cf', 'api'))}: cf.api: {problem}")
    return pb.model_copy(update={"cf": cf.model_copy(update=update)})


def where_of(context: Any, source: str) -> Callable[[Path_], str]:
    """``FILE:LINE:COL`` of a path of the playbook, from the validation context ``{"marks": ...}`` (the positions
    of :func:`provisioner.playbook.yamlpos.parse_yaml`; without them, line 1 column 1)."""
    marks: Marks = (context or {}).get("marks") or {}

    def where(path: Path_) -> str:
        return location(source, marks, path)

    return where


def locate_refs(model: M, where: Callable[[Path_], str], path: Path_ = ()) -> M:
    """``model`` with ``where`` (``FILE:LINE:COL: key``) set on every secret reference that has none, for its error
    messages (sections copied where a reference changes)."""
    update: dict[str, Any] = {}
    for name in type(model).model_fields:
        value = getattr(model, name)
        if isinstance(value, SecretRef):
            if not value.where:
                update[name] = value.model_copy(update={"where": f"{where(path + (name,))}: {dotted(path + (name,))}"})
        elif isinstance(value, BaseModel):
            located = locate_refs(value, where, path + (name,))
            if located is not value:
                update[name] = located
    return model.model_copy(update=update) if update else model


#: how far ahead of UTC today a provisioning date may be (the tenant's time zone may already be on the next day)
_DATE_SLACK = dt.timedelta(hours=14)


def date_problems(provisioned: dt.date, where: Callable[[Path_], str]) -> None:
    """A provisioning date in the future is a typo (the era it selects would be wrong): :class:`BadInput`."""
    latest = (dt.datetime.now(dt.UTC) + _DATE_SLACK).date()
    if provisioned > latest:
        raise BadInput(f"{where(('tenant', 'provisioned'))}: tenant.provisioned: {provisioned.isoformat()} is in the "
                       "future; write the date the tenant was provisioned (Cloud ALM shows it), e.g. 2023-05-31")
