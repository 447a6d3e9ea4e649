"""The XSUAA Authorization API, as far as SAP's migration off instance secrets needs it: ``GET
<uaa.apiurl>/sap/rest/authorization/v2/apps/{appId}`` and its ``instanceSecretLastUsedAt`` (SAP BTP "Migrate from
Instance Secrets to Binding Secrets", step 4: "verify whether instance secrets are currently in use ... check the
response parameter instanceSecretLastUsedAt"; SAP Business Accelerator Hub, Authorization API ``getAppById``).

Signed in with a key of the application itself (client credentials at ``uaa.url``). Which clients may read the
record, and the value's exact format, are not confirmed (docs/sap-facts.md, "Not confirmed"): ISO 8601 and epoch
seconds or milliseconds are read, null means never used; a refusal is reported, never guessed past.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import quote

from provisioner.clients.http import HttpClient, RequestStats, SessionPool
from provisioner.clients.uaa import request_token
from provisioner.errors import ApiError, StepFailed
from provisioner.secret import Secret

FIELD = "instanceSecretLastUsedAt"


def parse_time(value: Any) -> dt.datetime | None:
    """``instanceSecretLastUsedAt`` → a UTC time (None: never used); raises ValueError for anything else."""
    if value is None or value == "":
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        seconds = value / 1000 if value > 10_000_000_000 else value
        return dt.datetime.fromtimestamp(seconds, dt.UTC)
    if isinstance(value, str):
        found = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        return found if found.tzinfo else found.replace(tzinfo=dt.UTC)
    raise ValueError(value)


def instance_secret_last_used(creds: dict[str, Any], *, pool: SessionPool | None = None,
                              stats: RequestStats | None = None) -> dt.datetime | None:
    """When the instance secret of the key's application last signed in (None: never). ``creds``: a
    binding-secret key of that application (``uaa.url``, ``clientid``, ``clientsecret``, ``apiurl``,
    ``xsappname``). Raises :class:`StepFailed` naming what refused or what is missing, :class:`ApiError` for a
    transient failure."""
    found = creds.get("uaa")
    uaa: dict[str, Any] = found if isinstance(found, dict) else {}
    fields = {f: str(uaa.get(f) or "") for f in ("url", "clientid", "clientsecret", "apiurl", "xsappname")}
    missing = [f"uaa.{f}" for f, v in fields.items() if not isinstance(uaa.get(f), str) or not v]
    if missing:
        raise StepFailed(f"the new key lacks {', '.join(missing)}: the Authorization API cannot be asked")
    body = request_token(HttpClient(fields["url"], what="key's XSUAA (uaa.url)", pool=pool, stats=stats),
                         fields["clientid"], Secret(fields["clientsecret"]), {"grant_type": "client_credentials"},
                         "instanceSecretLastUsedAt", client_is="the new key's client")
    api = HttpClient(fields["apiurl"], what="the XSUAA Authorization API (uaa.apiurl)", pool=pool, stats=stats)
    path = f"/sap/rest/authorization/v2/apps/{quote(fields['xsappname'], safe='')}"
    try:
        resp = api.request("GET", path, auth=False, headers={"Authorization": f"Bearer {body['access_token']}"})
    except ApiError as exc:
        if exc.transient:
            raise
        raise StepFailed(f"GET {exc.url} answered HTTP {exc.status}: {exc.detail or exc.title or 'refused'}") \
            from None
    try:
        app = resp.json()
        if not isinstance(app, dict) or FIELD not in app:
            raise ValueError
        return parse_time(app[FIELD])
    except ValueError:
        raise StepFailed(f"the Authorization API's answer has no readable {FIELD}") from None
