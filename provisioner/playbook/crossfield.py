"""The checks across fields of a playbook's ``cf`` and ``btp`` sections (after schema validation, before the model
is built): which CF login a ``cf`` section uses and whether it gives exactly the fields that login needs, the form of
``cf.api``, and ``btp.username`` with ``btp.password``. Each problem is one :class:`~provisioner.errors.BadInput` line
``FILE:LINE:COLUMN: key: problem; fix``."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from provisioner.clients.http_guards import url_problem
from provisioner.errors import BadInput
from provisioner.playbook.validate import show
from provisioner.playbook.yamlpos import Marks, location

_CF_LOGIN_FIELDS = {"password": ("username", "password"), "client_credentials": ("client_id", "client_secret"),
                    "cf-env": (), "cf-cli": (), "vcap": ("vcap_service",)}


def _cf_login(c: dict[str, Any], where: str) -> str:
    """The CF login source, checking that the fields it needs (and only those) are given."""
    given = {k for k in ("username", "password", "client_id", "client_secret", "vcap_service") if k in c}
    login = c.get("login") or ("client_credentials" if given & {"client_id", "client_secret"} else "password")
    if login == "password" and not given:
        raise BadInput(f"{where}: cf: no credentials; add username and password: {{env: CF_PASSWORD}}, or "
                       "login: cf-env | cf-cli | vcap | client_credentials")
    needed = _CF_LOGIN_FIELDS[login]
    missing = [k for k in needed if k not in c]
    if missing:
        raise BadInput(f"{where}: cf: login {login} needs {' and '.join(needed)}; add {', '.join(missing)}")
    extra = sorted(given - set(needed))
    if extra:
        raise BadInput(f"{where}: cf: {', '.join(extra)} not used with login {login}; remove it or change login")
    if "api" not in c and login != "cf-cli":
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


def cross_checks(data: dict[str, Any], source: str, marks: Marks) -> dict[str, Any]:
    """The checks across fields of ``cf`` and ``btp``; return ``data`` with ``cf.login`` decided (``cf-env``
    becomes ``password`` with references to CF_USERNAME and CF_PASSWORD, as ``cf auth`` reads them)."""
    btp = data["btp"]
    if ("username" in btp) != ("password" in btp):
        raise BadInput(f"{location(source, marks, ('btp',))}: btp: username and password go together; "
                       "add the missing one")
    if data.get("cf") is None:  # the subaccount route
        return data
    where = location(source, marks, ("cf",))
    cf = dict(data["cf"])
    cf["login"] = _cf_login(cf, where)
    if cf["login"] == "cf-env":
        ref = f"{where}: cf.login cf-env"
        cf.update(login="password", username={"env": "CF_USERNAME", "where": ref},
                  password={"env": "CF_PASSWORD", "where": ref})
    if isinstance(cf.get("api"), str):
        problem = cf_api_problem(cf["api"])
        if problem:
            raise BadInput(f"{location(source, marks, ('cf', 'api'))}: cf.api: {problem}")
    return {**data, "cf": cf}
