"""What the simulated service brokers do: validate instance parameters and generate key credentials.

Brokers (the `broker` field of a service offering in the landscape):

- `cloud-alm`: the SAP Cloud ALM API offering (`SAPCloudALMAPIs`), an XSUAA-backed broker. Key credentials
  look like an XSUAA binding (docs/sap-facts.md): `endpoints.Api` and a `uaa` block whose identity zone is the
  subdomain of the subaccount that owns the org of the space; `xsappname` is
  `<parameters["xs-security"]["xsappname"] or the instance name>!b<n>|sapcloudalm!b1`, `clientid` is `sb-` +
  `xsappname`, `xsmasterappname` is `sapcloudalm!b1` and `verificationkey` the zone's public key (PEM).
  The credential type follows XSUAA's rules (`provisioner.sim.broker.xsuaa`): `instance-secret` (one secret
  per instance, shared by all its keys, not rotated when keys are recreated), `binding-secret` (a secret per
  key) or `x509` (a certificate per key); `serviceInstanceId` is the instance's guid, as in SAP's recorded
  XSUAA credentials.
- `generic`: any other offering; credentials are a plain `url`/`username`/`password` triple.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from dataclasses import dataclass
from typing import Any, Protocol

from provisioner.sim.broker import xsuaa
from provisioner.sim.core.tokens import zone_key

BROKERS = ("cloud-alm", "generic")
CLOUD_ALM_MASTER_APP = "sapcloudalm!b1"  # the broker's master application (`xsmasterappname`)
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
    """The XSUAA application of an instance, as a reuse service's broker clone names it:
    ``<xs-security xsappname>!b<n>|<master app>`` (the key's ``clientid`` is ``sb-`` + this)."""
    xs = instance.parameters.get("xs-security") or {}
    return f"{xs.get('xsappname') or instance.name}!b{instance.app_index}|{CLOUD_ALM_MASTER_APP}"


@dataclass(frozen=True)
class Issuing:
    """Where and when a key is made: the simulator's ``base_url`` and ``cert_url`` (its mTLS port), the
    platform (``cloud_foundry``: a CF service key, else a Service Manager binding), the day it is made, the
    instance-secret ``cutoff`` and how many days ago x509 certificates start (``backdate_days``)."""

    base_url: str
    cert_url: str = ""
    cloud_foundry: bool = False
    today: dt.date | None = None
    cutoff: str = xsuaa.DEFAULT_CUTOFF
    backdate_days: int = 0


def scopes(instance: BrokeredInstance) -> list[str]:
    """Token scopes of a Cloud ALM key client: its `$XSMASTERAPPNAME.` authorities, plus `uaa.resource`."""
    xs = instance.parameters.get("xs-security") or {}
    prefix = "$XSMASTERAPPNAME."
    granted = [f"{CLOUD_ALM_MASTER_APP}.{a[len(prefix):]}" for a in xs.get("authorities") or []
               if isinstance(a, str) and a.startswith(prefix)]
    return [*granted, "uaa.resource"]


def credentials(broker: str, issuing: Issuing, instance: BrokeredInstance, key_guid: str, zone: Zone | None,
                parameters: dict[str, Any] | None = None) -> dict[str, Any]:
    """The credentials of a new key of `instance` (`zone`: None outside a subaccount) asked for with the binding
    `parameters`; raises :class:`~provisioner.sim.broker.xsuaa.Refused` when XSUAA's rules refuse it."""
    base_url = issuing.base_url
    if broker != "cloud-alm" or zone is None:
        return {"url": f"{base_url}/svc/{instance.guid}", "username": f"sb-{key_guid[:8]}",
                "password": secrets.token_urlsafe(18)}
    app = xsappname(instance)
    request = xsuaa.read_request(parameters or {})
    ctype = xsuaa.resolve_type(instance.parameters, request, cloud_foundry=issuing.cloud_foundry,
                               today=issuing.today or dt.datetime.now(dt.UTC).date(),
                               cutoff=xsuaa.cutoff_date(issuing.cutoff))
    zone_url = f"{base_url}/xsuaa/{zone.subdomain}"
    if ctype == xsuaa.X509:
        secret: dict[str, Any] = xsuaa.x509_fields(f"sb-{app}", request, issuing.cert_url, zone.subdomain,
                                                   issuing.backdate_days)
    else:
        secret = {"clientsecret": instance.secret if ctype == xsuaa.INSTANCE else secrets.token_urlsafe(24)}
    return {
        "endpoints": {"Api": f"{base_url}/alm/{zone.subdomain}/api"},
        "uaa": {
            "apiurl": f"{base_url}/authorization",
            "clientid": f"sb-{app}",
            **secret,
            "credential-type": ctype,
            "identityzone": zone.subdomain,
            "identityzoneid": zone.zone_id,
            "sburl": zone_url,
            "serviceInstanceId": instance.guid,
            "subaccountid": zone.subaccount_guid,
            "tenantid": zone.zone_id,
            "tenantmode": "dedicated",
            "uaadomain": base_url.split("://", 1)[-1],
            "url": zone_url,
            "verificationkey": zone_key(zone.zone_id).public_pem,
            "xsappname": app,
            "xsmasterappname": CLOUD_ALM_MASTER_APP,
            "zoneid": zone.zone_id,
        },
    }


def carries_client(credentials: dict[str, Any] | None, subdomain: str, clientid: str,
                   clientsecret: str) -> bool:
    """Whether key `credentials` carry this XSUAA client of zone `subdomain` with a secret of its own (a
    binding secret: an instance secret signs in through its instance, :func:`instance_secret_signs_in`)."""
    uaa = (credentials or {}).get("uaa") or {}
    return (uaa.get("identityzone") == subdomain and uaa.get("clientid") == clientid
            and uaa.get("credential-type") != xsuaa.INSTANCE and bool(clientsecret)
            and secrets.compare_digest(str(uaa.get("clientsecret", "")), clientsecret))


def carries_certificate(credentials: dict[str, Any] | None, subdomain: str, clientid: str, fingerprint: str) -> bool:
    """Whether key `credentials` are the x509 credentials of this client of zone `subdomain` whose certificate has
    this SHA-256 `fingerprint`."""
    from provisioner.sim.core.tls import fingerprint as of

    uaa = (credentials or {}).get("uaa") or {}
    return (uaa.get("identityzone") == subdomain and uaa.get("clientid") == clientid
            and uaa.get("credential-type") == xsuaa.X509 and isinstance(uaa.get("certificate"), str)
            and of(uaa["certificate"]) == fingerprint)


def instance_secret_signs_in(instance: BrokeredInstance, clientid: str, clientsecret: str) -> bool:
    """Whether `clientid`/`clientsecret` are the instance's client and secret and the instance still accepts its
    secret (valid while the instance exists, until `instance-secret` is dropped from its credential types)."""
    return (clientid == f"sb-{xsappname(instance)}" and bool(clientsecret)
            and xsuaa.accepts_instance_secret(instance.parameters)
            and secrets.compare_digest(instance.secret, clientsecret))
