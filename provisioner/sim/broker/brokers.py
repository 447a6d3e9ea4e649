"""What the simulated service brokers do: validate instance parameters and generate key credentials.

Brokers (the `broker` field of a service offering in the landscape):

- `cloud-alm`: the SAP Cloud ALM API offering (`SAPCloudALMAPIs`), an XSUAA-backed broker. Key credentials
  look like an XSUAA binding (reference cloud-alm-api-and-prior-art.md section 1.3): `endpoints.Api` and a
  `uaa` block whose identity zone is the subdomain of the subaccount that owns the org of the space.
  `xsappname` comes from `parameters["xs-security"]["xsappname"]` (the instance name when absent).
  The credential type is `instance-secret` (one secret per instance, shared by all its keys, not rotated
  when keys are recreated) unless `xs-security.oauth2-configuration.credential-types` starts with
  `binding-secret`, in which case every key gets its own secret.
- `generic`: any other offering; credentials are a plain `url`/`username`/`password` triple.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from typing import Any, Protocol

BROKERS = ("cloud-alm", "generic")
CLOUD_ALM_MASTER_APP = "sap-cloud-alm!b1"
_XSAPPNAME = re.compile(r"^[A-Za-z0-9._\-\\/]{1,100}$")


class BrokeredInstance(Protocol):
    """What a broker reads of a service instance."""

    @property
    def guid(self) -> str: ...

    @property
    def name(self) -> str: ...

    @property
    def parameters(self) -> dict[str, Any]: ...  # as last applied by the broker

    @property
    def app_index(self) -> int: ...  # the "!b<n>" suffix of the XSUAA application

    @property
    def secret(self) -> str: ...  # instance secret shared by all keys (instance-secret credential type)


@dataclass(frozen=True)
class Zone:
    """The XSUAA identity zone of the subaccount an instance belongs to."""

    subdomain: str
    zone_id: str  # identity zone id (tenant id)
    subaccount_guid: str


def validate_parameters(broker: str, parameters: dict[str, Any], instance_name: str) -> str | None:
    """None when the broker accepts the parameters, else the broker's error description."""
    if broker != "cloud-alm":
        return None
    xs = parameters.get("xs-security", {})
    if not isinstance(xs, dict):
        return "Service broker error: 'xs-security' must be an object."
    name = xs.get("xsappname", instance_name)
    if not isinstance(name, str) or not _XSAPPNAME.match(name):
        return (f"Service broker error: xsappname {name!r} is invalid. It may contain only letters, digits, "
                "'.', '_', '-', '\\' and '/' (at most 100 characters).")
    authorities = xs.get("authorities", [])
    if not isinstance(authorities, list) or not all(isinstance(a, str) for a in authorities):
        return "Service broker error: 'authorities' must be a list of strings."
    types = (xs.get("oauth2-configuration") or {}).get("credential-types", [])
    known = ("binding-secret", "instance-secret", "x509")
    if not isinstance(types, list) or not all(t in known for t in types):
        return "Service broker error: 'oauth2-configuration.credential-types' is invalid."
    return None


def xsappname(instance: BrokeredInstance) -> str:
    xs = instance.parameters.get("xs-security") or {}
    return f"{xs.get('xsappname') or instance.name}!b{instance.app_index}"


def credential_type(instance: BrokeredInstance) -> str:
    xs = instance.parameters.get("xs-security") or {}
    types = (xs.get("oauth2-configuration") or {}).get("credential-types") or []
    return "binding-secret" if types and types[0] == "binding-secret" else "instance-secret"


def scopes(instance: BrokeredInstance) -> list[str]:
    """Token scopes of a Cloud ALM key client: its `$XSMASTERAPPNAME.` authorities, plus `uaa.resource`."""
    xs = instance.parameters.get("xs-security") or {}
    prefix = "$XSMASTERAPPNAME."
    granted = [f"{CLOUD_ALM_MASTER_APP}.{a[len(prefix):]}" for a in xs.get("authorities") or []
               if isinstance(a, str) and a.startswith(prefix)]
    return [*granted, "uaa.resource"]


def credentials(broker: str, base_url: str, instance: BrokeredInstance, key_guid: str,
                zone: Zone | None) -> dict[str, Any]:
    """The credentials of a new key of `instance` (`zone`: None outside a subaccount)."""
    if broker != "cloud-alm" or zone is None:
        return {"url": f"{base_url}/svc/{instance.guid}", "username": f"sb-{key_guid[:8]}",
                "password": secrets.token_urlsafe(18)}
    app = xsappname(instance)
    ctype = credential_type(instance)
    secret = instance.secret if ctype == "instance-secret" else secrets.token_urlsafe(24)
    zone_url = f"{base_url}/xsuaa/{zone.subdomain}"
    return {
        "endpoints": {"Api": f"{base_url}/alm/{zone.subdomain}/api"},
        "uaa": {
            "apiurl": zone_url,
            "clientid": f"sb-{app}|{CLOUD_ALM_MASTER_APP}",
            "clientsecret": secret,
            "credential-type": ctype,
            "identityzone": zone.subdomain,
            "identityzoneid": zone.zone_id,
            "sburl": zone_url,
            "subaccountid": zone.subaccount_guid,
            "tenantid": zone.zone_id,
            "tenantmode": "dedicated",
            "uaadomain": base_url.split("://", 1)[-1],
            "url": zone_url,
            "verificationkey": "(simulator: tokens are HS256-signed; there is no public key)",
            "xsappname": app,
            "zoneid": zone.zone_id,
        },
    }


def carries_client(credentials: dict[str, Any] | None, subdomain: str, clientid: str,
                  clientsecret: str) -> bool:
    """Whether key `credentials` carry this XSUAA client (id and secret) of zone `subdomain`."""
    uaa = (credentials or {}).get("uaa") or {}
    return (uaa.get("identityzone") == subdomain and uaa.get("clientid") == clientid
            and secrets.compare_digest(str(uaa.get("clientsecret", "")), clientsecret))
