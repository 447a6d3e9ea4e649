"""XSUAA's credential rules for the bindings and service keys of an XSUAA-backed instance (SAP Authorization and
Trust Management, "Service Instance Secrets", version of 2026-02-18; "Parameters for X.509 Certificates Managed by
SAP Authorization and Trust Management Service"; docs/sap-facts.md §6):

- The instance's ``xs-security.oauth2-configuration.credential-types`` lists the types its bindings may have; the
  first is the type of a new binding that asks for none. Without the list: ``instance-secret`` for a Cloud Foundry
  instance before the cut-off (the old CF default), ``binding-secret`` otherwise (the default secret type).
- A binding may ask for a type with the parameter ``credential-type`` (flat, or inside ``{"xsuaa": {...}}`` as
  SAP's reuse services document it); it must be in the instance's list (without a list: its default only).
- From the cut-off (``Config.instance_secret_cutoff``, default 2026-01-19: "Starting with January, 19, 2026, the
  instance-secret credential type isn't supported anymore for new bindings and service keys") a new binding whose
  type would be ``instance-secret`` is refused.
- ``x509``: a certificate of the simulator's CA (:mod:`provisioner.sim.core.tls`) with ``x509.key-length`` 2048,
  4096 or 8192 and ``x509.validity`` 1 to 30 ``DAYS``; the binding gets ``certificate``, ``key`` and ``certurl``
  (the mTLS token endpoint) instead of ``clientsecret``.
- An instance secret signs in while the instance exists and its list allows ``instance-secret`` (no list counts
  as allowing it); a binding secret or certificate while its binding exists. Each sign-in with the instance
  secret is recorded (``instanceSecretLastUsedAt`` of the XSUAA Authorization API).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from provisioner.sim.core.tls import authority

INSTANCE, BINDING, X509 = "instance-secret", "binding-secret", "x509"
TYPES = (BINDING, INSTANCE, X509)
DEFAULT_CUTOFF = "2026-01-19"
CUTOFF_REFUSAL = ("Service broker error: Starting with January 19, 2026, the instance-secret credential type isn't "
                  "supported anymore for new bindings and service keys (cut-off {cutoff}); use binding-secret "
                  "(oauth2-configuration credential-types [\"binding-secret\"]) or x509")


class Refused(Exception):
    """The broker refuses a binding: the description (CF's ``last_operation.description``, the job's error)."""


@dataclass(frozen=True)
class Request:
    """What a binding asks for: its ``credential_type`` (None: the instance's default) and the X.509 options."""

    credential_type: str | None = None
    key_length: int = 2048
    validity_days: int = 7


def allowed_types(parameters: dict[str, Any]) -> list[str] | None:
    """The instance's ``oauth2-configuration.credential-types``, or None when it has none."""
    xs = parameters.get("xs-security") or {}
    types = (xs.get("oauth2-configuration") or {}).get("credential-types") if isinstance(xs, dict) else None
    return [str(t) for t in types] if isinstance(types, list) and types else None


def accepts_instance_secret(parameters: dict[str, Any]) -> bool:
    """Whether the instance's secret still signs in: no list of types, or one that names ``instance-secret``."""
    types = allowed_types(parameters)
    return types is None or INSTANCE in types


def read_request(parameters: dict[str, Any]) -> Request:
    """The binding's parameters → :class:`Request`; raises :class:`Refused` for values XSUAA does not take."""
    wrapped = parameters.get("xsuaa")
    p: dict[str, Any] = wrapped if isinstance(wrapped, dict) else parameters
    ctype = p.get("credential-type")
    if ctype is not None and ctype not in TYPES:
        raise Refused(f"Service broker error: credential-type {ctype!r} is invalid; use one of {', '.join(TYPES)}")
    x = p.get("x509") or {}
    if not isinstance(x, dict):
        raise Refused("Service broker error: 'x509' must be an object")
    length, validity, unit = x.get("key-length", 2048), x.get("validity", 7), x.get("validity-type", "DAYS")
    if length not in (2048, 4096, 8192):
        raise Refused("Service broker error: x509.key-length must be 2048, 4096 or 8192")
    if unit != "DAYS" or not isinstance(validity, int) or isinstance(validity, bool) or not 1 <= validity <= 30:
        raise Refused("Service broker error: x509 validity must be 1 to 30 DAYS")
    return Request(ctype, length, validity)


def resolve_type(parameters: dict[str, Any], request: Request, *, cloud_foundry: bool, today: dt.date,
                 cutoff: dt.date) -> str:
    """The credential type of a new binding of an instance with ``parameters``; raises :class:`Refused`."""
    types = allowed_types(parameters)
    default = INSTANCE if cloud_foundry and today < cutoff else BINDING
    ctype = request.credential_type or (types[0] if types else default)
    if ctype == INSTANCE and today >= cutoff:
        raise Refused(CUTOFF_REFUSAL.format(cutoff=cutoff.isoformat()))
    allowed = types or ([INSTANCE, BINDING] if cloud_foundry else [BINDING])
    if ctype not in allowed:
        raise Refused(f"Service broker error: the instance does not allow credential-type {ctype!r} "
                      f"(oauth2-configuration credential-types: {allowed})")
    return ctype


def cutoff_date(value: str) -> dt.date:
    return dt.date.fromisoformat(value)


def x509_fields(clientid: str, request: Request, cert_url: str, zone: str, backdate_days: int) -> dict[str, Any]:
    """``certificate``, ``key`` and ``certurl`` of an x509 binding (issued ``backdate_days`` days ago)."""
    start = dt.datetime.now(dt.UTC) - dt.timedelta(days=backdate_days, minutes=1)
    issued = authority().issue(clientid, days=request.validity_days, key_length=request.key_length,
                               not_before=start)
    return {"certificate": issued.certificate, "key": issued.key, "certurl": f"{cert_url}/xsuaa/{zone}"}
