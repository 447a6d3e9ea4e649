"""Signing in to Cloud Foundry from where users already keep credentials.

- ``password``: the password grant with the playbook's username/password references (``cf-env`` is this with
  ``CF_USERNAME``/``CF_PASSWORD``, as ``cf auth`` reads them);
- ``client_credentials``: a UAA client (a CI service user);
- ``cf-cli``: the current ``cf`` CLI login, ``$CF_HOME/.cf/config.json`` (default ``~/.cf/config.json``): its
  ``Target`` (API URL), ``AccessToken`` and ``RefreshToken``, renewed with the refresh-token grant of the
  ``UAAOAuthClient`` (the file is only read, never written);
- ``vcap``: ``VCAP_SERVICES`` when running inside Cloud Foundry as a task: the bound service ``cf.vcap_service``
  with ``username``/``password`` (password grant) or ``clientid``/``clientsecret`` (client credentials), read with
  cfenv.

SAP Service Manager (the subaccount route), without asking for new secrets: the subaccount's Accounts service v2
``serviceManagerBindings`` binding ``btp.sm_binding`` (found, or created once, with the playbook's cis key, and
reused on every run), or ``btp.sm_key`` (``{file}``/``{env}``/``{vcap}``) for users who are not global account
administrators (a key of a ``service-manager`` instance of plan ``subaccount-admin``).
"""

from __future__ import annotations

import contextvars
import json
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import wait
from pathlib import Path
from typing import Any, TypeVar

from provisioner.clients.btp import Btp
from provisioner.clients.cf import CloudFoundry
from provisioner.clients.http import HttpClient, RequestStats, SessionPool
from provisioner.clients.sm import ServiceManager, sm_credentials
from provisioner.clients.uaa import EARLY_REFRESH_SECONDS, claims, request_token
from provisioner.engine.context import RunContext
from provisioner.errors import BadInput, ProvisionerError, StepFailed
from provisioner.keys.keyfile import parse_key_text, read_text_file
from provisioner.keys.keyjson import shown
from provisioner.playbook.load import Playbook, text_of, vcap_credentials
from provisioner.secret import Secret
from provisioner.steps.base import first_run
from provisioner.threads import helpers

T = TypeVar("T")


def cf_config_path(environ: dict[str, str] | None = None) -> Path:
    """``$CF_HOME/.cf/config.json``, else ``~/.cf/config.json`` (where the cf CLI keeps its login)."""
    env = os.environ if environ is None else environ
    home = env.get("CF_HOME") or str(Path.home())
    return Path(home) / ".cf" / "config.json"


def read_cf_config(path: Path) -> dict[str, Any]:
    """The cf CLI's config.json (a regular file: a FIFO or device is refused, never read); raises
    :class:`BadInput` when missing, unreadable or without a login."""
    if not path.exists() and not path.is_symlink():
        raise BadInput(f"{path}: no cf CLI login here; run `cf login` (or set CF_HOME)")
    text = read_text_file(path, "cf CLI config")
    try:
        data = json.loads(text)
    except ValueError:
        raise BadInput(f"{path}: the cf CLI config is not JSON; run `cf login` again") from None
    logged_in = isinstance(data, dict) and (data.get("AccessToken") or data.get("RefreshToken"))
    if not logged_in or not data.get("Target"):
        raise BadInput(f"{path}: the cf CLI is not logged in (no Target or tokens); run `cf login`")
    return dict(data)


def check_login_source(pb: Playbook) -> None:
    """Before anything runs: the CF login source resolves (``cf-cli``: a logged-in config.json; ``vcap``: the
    service is bound in ``VCAP_SERVICES``; nothing on the subaccount route without ``cf:``). Raises
    :class:`BadInput` (exit 2) naming the fix."""
    c = pb.cf
    if c is None:
        return
    if c.login == "cf-cli":
        read_cf_config(cf_config_path())
    elif c.login == "vcap":
        assert c.vcap_service is not None
        vcap_credentials(c.vcap_service, f"{pb.source}: cf.vcap_service", os.environ)


def check_key_sources(pb: Playbook) -> None:
    """Before anything runs, without a request: the keys the playbook names (``btp.cis_key``,
    ``btp.environments_key``, ``btp.sm_key``) parse and have their fields, each URL in them is https (or http to
    loopback), a ``user_token`` cis key has btp.username and btp.password, and with ``login: cf-cli`` the cf CLI's
    target is such a URL. Raises :class:`BadInput` (exit 2) naming the file or variable, the field and the fix."""
    from provisioner.clients.btp import validate_cis_key
    from provisioner.clients.http_guards import check_url

    for ref, kind in ((pb.btp.cis_key, "cis"), (pb.btp.environments_key, "cis"), (pb.btp.sm_key, "sm")):
        if ref is None:
            continue
        source = ref.file or f"{ref.where} ({ref.describe()})"
        key: Any = parse_key_text(ref.resolve().reveal(), source)
        fields: tuple[str, ...]
        if kind == "sm":
            key, fields = sm_credentials(key, source), ("url", "sm_url")
        else:
            validate_cis_key(key, source)
            fields = ("uaa.url", "endpoints.accounts_service_url", "endpoints.entitlements_service_url",
                      "endpoints.provisioning_service_url")
        for dotted in fields:
            value = key
            for part in dotted.split("."):
                value = value.get(part) if isinstance(value, dict) else None
            if value is not None and not isinstance(value, str):
                raise BadInput(f"{source}: {dotted}: not a URL (a {type(value).__name__}); write e.g. "
                               "https://api.example.com")
            if value:
                check_url(value, f"{source}: {dotted}")
        if ref is pb.btp.cis_key and key.get("grant_type") == "user_token" and (
                pb.btp.username is None or pb.btp.password is None):
            raise BadInput(f"{source}: the cis key's grant_type is user_token (password grant); set btp.username "
                           "and btp.password in the playbook")
    if pb.cf is not None and pb.cf.login == "cf-cli" and not pb.cf.api:
        path = cf_config_path()
        check_url(str(read_cf_config(path)["Target"]), f"{path}: Target (the cf CLI's target)")


class CfCliTokenSource:
    """Tokens of the cf CLI's login: the stored access token while it is valid, then the refresh-token grant."""

    def __init__(self, config: dict[str, Any], uaa_url: str, pool: SessionPool | None, stats: RequestStats | None):
        access = str(config.get("AccessToken") or "")
        self._access = Secret(access.split(" ", 1)[1] if access.lower().startswith("bearer ") else access)
        self._refresh = Secret(str(config.get("RefreshToken") or ""))
        self._client_id = str(config.get("UAAOAuthClient") or "cf")
        self._client_secret = Secret(str(config.get("UAAOAuthClientSecret") or ""))
        self._client = HttpClient(uaa_url, what="CF UAA (cf CLI login)", pool=pool, stats=stats)
        self._lock = threading.Lock()

    def _valid(self) -> bool:
        exp = claims(self._access.reveal()).get("exp") if self._access else None
        return isinstance(exp, int | float) and exp - EARLY_REFRESH_SECONDS > time.time()

    def token(self) -> str:
        with self._lock:
            if not self._valid():
                self._renew()
            return self._access.reveal()

    def refresh(self) -> None:
        with self._lock:
            self._renew()

    def sign_in_again(self) -> None:
        """The cf CLI login's only grant is its refresh token: renew once more."""
        self.refresh()

    def _renew(self) -> None:
        if not self._refresh:
            raise BadInput("the cf CLI login has expired and has no refresh token; run `cf login`")
        body = request_token(self._client, self._client_id, self._client_secret,
                             {"grant_type": "refresh_token", "refresh_token": self._refresh.reveal()},
                             "CF UAA (cf CLI login; run `cf login` if it has expired)",
                             client_is="the cf CLI login's refresh token")
        self._access = Secret(body["access_token"])
        if body.get("refresh_token"):
            self._refresh = Secret(body["refresh_token"])


def sign_in_cf(pb: Playbook, ctx: RunContext, stats: RequestStats) -> CloudFoundry:
    """A signed-in CF client for the playbook's login source. Raises :class:`BadInput` for a source that does not
    resolve, :class:`~provisioner.errors.StepFailed` when the UAA refuses the credentials."""
    c = pb.cf
    if c is None:
        raise StepFailed(f"{pb.source}: Cloud Foundry is needed here and the playbook has no cf section; add one "
                         "(or use the subaccount route: steps.generated.platform: subaccount)")
    config = read_cf_config(cf_config_path()) if c.login == "cf-cli" else {}
    # with cf-cli and no cf.api, the cf CLI's target
    cf = CloudFoundry(c.api or str(config["Target"]), pool=ctx.pool, stats=stats, share=ctx.share)
    if c.login == "cf-cli":
        uaa = str(config.get("UaaEndpoint") or config.get("AuthorizationEndpoint") or "") or cf.uaa_url()
        source = CfCliTokenSource(config, uaa, ctx.pool, stats)
        cf.use_token_source(source)
        source.token()
    elif c.login == "vcap":
        assert c.vcap_service is not None
        creds = vcap_credentials(c.vcap_service, f"{pb.source}: cf.vcap_service", os.environ)
        if creds.get("username") and creds.get("password"):
            cf.login_password(str(creds["username"]), Secret(str(creds["password"])), origin=c.origin,
                              source=f"VCAP_SERVICES {c.vcap_service}")
        elif (creds.get("clientid") or creds.get("client_id")) and (creds.get("clientsecret")
                                                                     or creds.get("client_secret")):
            cf.login_client(str(creds.get("clientid") or creds.get("client_id")),
                            Secret(str(creds.get("clientsecret") or creds.get("client_secret"))),
                            source=f"VCAP_SERVICES {c.vcap_service}")
        else:
            raise BadInput(f"{pb.source}: cf.vcap_service {shown(c.vcap_service)}: its credentials have neither "
                           "username/password nor clientid/clientsecret")
    elif c.login == "client_credentials":
        assert c.client_secret is not None and c.client_id is not None
        cf.login_client(c.client_id, c.client_secret.resolve())
    else:
        assert c.password is not None
        cf.login_password(text_of(c.username) or "", c.password.resolve(), origin=c.origin)
    return cf


def service_manager(pb: Playbook, btp: Btp | None, ctx: RunContext, stats: RequestStats, *,
                    create: bool = True) -> ServiceManager:
    """A Service Manager client of the playbook's subaccount: from ``btp.sm_key`` when given, else from the
    subaccount's ``serviceManagerBindings`` binding ``btp.sm_binding`` (:func:`sm_binding`: a write on the first
    run only; without ``create``, as in the read-only commands, a missing binding raises :class:`StepFailed`).
    Raises :class:`BadInput` when neither source is usable; the credentials are never printed."""
    ref = pb.btp.sm_key
    if ref is not None:
        source = ref.file or f"{ref.where} ({ref.describe()})"
        return ServiceManager(sm_credentials(parse_key_text(ref.resolve().reveal(), source), source),
                              pool=ctx.pool, stats=stats, share=ctx.share)
    binding, _ = sm_binding(pb, btp, create=create)
    if binding is None:
        raise StepFailed(f"subaccount {pb.btp.subaccount} has no Service Manager binding {pb.btp.sm_binding} yet "
                         "(serviceManagerBindings): `run` creates it once; read-only commands never write (or "
                         "give btp.sm_key)")
    return sm_client(pb, binding, ctx, stats)


def sm_binding(pb: Playbook, btp: Btp | None, *, create: bool) -> tuple[dict[str, Any] | None, bool]:
    """The subaccount's ``serviceManagerBindings`` binding ``btp.sm_binding`` (``GET``; with ``create``, made with
    ``POST`` when missing) → (its credentials, None when missing and not ``create``; whether this call made it).
    Raises :class:`BadInput` without a BTP client (no ``btp.cis_key``)."""
    if btp is None:
        raise BadInput(f"{pb.source}: btp: the subaccount route needs Service Manager credentials: btp.cis_key (a "
                       "global account administrator's cis key) or btp.sm_key")
    guid = str(btp.find_subaccount(pb.btp.subaccount)["guid"])
    binding = btp.sm_binding(guid, pb.btp.sm_binding, create=False)
    if binding is not None or not create:
        return binding, False
    return btp.create_sm_binding(guid, pb.btp.sm_binding)


def sm_client(pb: Playbook, binding: dict[str, Any], ctx: RunContext, stats: RequestStats) -> ServiceManager:
    """The Service Manager client signed in with the ``serviceManagerBindings`` binding's credentials."""
    return ServiceManager(sm_credentials(binding, f"serviceManagerBindings {pb.btp.sm_binding}"),
                          pool=ctx.pool, stats=stats, share=ctx.share)


def sign_in_beside(sign_in: Callable[[], T], btp: Btp | None, pb: Playbook) -> T:
    """``sign_in()`` (the CF sign-in) → its value; on a first run (:func:`provisioner.steps.base.first_run`) with
    a BTP client, its cis token (``POST <uaa.url>/oauth/token``), the subaccount list the entitlement step
    reads and the environments the org check reads are asked for at the same time (:meth:`Btp.sign_in_and_list`).
    The CF sign-in's errors propagate as they are; a refused cis token is left to the BTP client's first request,
    which asks again and reports it in the step that needs BTP (as without this)."""
    if btp is None or not first_run(pb):
        return sign_in()
    early = helpers().submit(contextvars.copy_context().run, btp.sign_in_and_list, pb.btp.subaccount,
                             environments=pb.cf is not None and pb.btp.org_check != "off"
                             and pb.btp.environments_key is None)
    try:
        value = sign_in()
    finally:
        wait([early])  # ended before this returns or raises, as a pool of its own would have waited
    try:
        early.result()
    except ProvisionerError:
        pass  # asked again (and reported) by the step that needs BTP
    return value
