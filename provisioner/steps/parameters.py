"""The instance's ``xs-security`` parameters the playbook asks for, their canonical SHA-256 (the record kept on the
instance when the broker cannot return parameters) and the human reasons two parameter sets differ."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from provisioner.keys.keyfile import existing_key
from provisioner.platform import HASH_RECORD, ServiceInstance
from provisioner.playbook.load import Playbook, ServiceSettings

#: ``oauth2-configuration.credential-types`` per credential type the playbook asks for (None: none sent, as SAP's
#: 2023 Cloud Foundry page; binding-secret as "Enabling SAP Cloud ALM API"; x509 as XSUAA's "Service Instance
#: Secrets" example: binding secrets by default, X.509 allowed)
CREDENTIAL_TYPES: dict[str, list[str] | None] = {
    "binding-secret": ["binding-secret"], "x509": ["binding-secret", "x509"], "instance-secret": None}
#: what an instance that still issues (or accepts) instance secrets may carry: none (the old Cloud Foundry
#: default), and the steps of SAP's migration ("Migrate from Instance Secrets to Binding Secrets")
INSTANCE_SECRET_TYPES: tuple[list[str] | None, ...] = (
    None, ["binding-secret", "instance-secret"], ["instance-secret"], ["instance-secret", "binding-secret"])
MIGRATE_HINT = (
    "instance {name} still issues instance-secret credentials (one secret shared by all its keys, valid while the "
    "instance exists; XSUAA issues none for new keys since 2026-01-19): `provisioner key migrate {playbook}` "
    "moves it to binding-secret as SAP describes: allow both types, create a binding-secret key and test it, "
    "remove the old keys, check instanceSecretLastUsedAt, then drop instance-secret")


def desired_parameters(service: ServiceSettings, xsappname: str, credential_type: str) -> dict[str, Any]:
    """``{"xs-security": {"xsappname": ..., "authorities": [...]}}`` (+ ``oauth2-configuration``
    ``{"credential-types": [...]}`` of :data:`CREDENTIAL_TYPES`), as SAP's "Maintain an Instance" and "Enabling SAP
    Cloud ALM API" pages give them."""
    return with_credential_types({"xs-security": {"xsappname": xsappname, "authorities": list(service.authorities)}},
                                 CREDENTIAL_TYPES.get(credential_type, ["binding-secret"]))


def with_credential_types(params: Mapping[str, Any], types: list[str] | None) -> dict[str, Any]:
    """``params`` with ``xs-security.oauth2-configuration.credential-types`` set to ``types`` (None: without an
    ``oauth2-configuration``)."""
    xs = dict(params["xs-security"])
    xs.pop("oauth2-configuration", None)
    if types is not None:
        xs["oauth2-configuration"] = {"credential-types": list(types)}
    return {**params, "xs-security": xs}


def key_parameters(settings: Playbook) -> dict[str, Any] | None:
    """The binding parameters of a new key: for x509, ``{"credential-type": "x509", "x509": {"key-length",
    "validity", "validity-type": "DAYS"}}`` (SAP's "Parameters for X.509 Certificates Managed by SAP Authorization
    and Trust Management Service"), wrapped in ``{"xsuaa": ...}`` unless ``service.x509.parameters`` is flat;
    ``{"credential-type": "instance-secret"}`` when the playbook insists on instance-secret (XSUAA then refuses it
    after 2026-01-19 with its reason, rather than issuing another type); None for binding-secret (the instance's
    credential types decide)."""
    x = settings.service.x509
    if settings.credential_type == "x509":
        body: dict[str, Any] = {"credential-type": "x509", "x509": {"key-length": x.key_length,
                                                                    "validity": x.validity_days,
                                                                    "validity-type": "DAYS"}}
    elif settings.credential_type == "instance-secret":
        body = {"credential-type": "instance-secret"}
    else:
        return None
    return {"xsuaa": body} if x.parameters == "xsuaa" else body


def credential_types(params: Mapping[str, Any] | None) -> list[str] | None:
    """The instance's ``oauth2-configuration.credential-types``, None when it has none."""
    xs = (params or {}).get("xs-security")
    conf = xs.get("oauth2-configuration") if isinstance(xs, Mapping) else None
    types = conf.get("credential-types") if isinstance(conf, Mapping) else None
    return [str(t) for t in types] if isinstance(types, list) and types else None


def issues_instance_secrets(params: Mapping[str, Any] | None) -> bool:
    """Whether an instance with these parameters still accepts (and may issue) instance secrets: no credential
    types (the old Cloud Foundry default), or a list naming ``instance-secret``."""
    types = credential_types(params)
    return types is None or "instance-secret" in types


def parameters_hash(params: Mapping[str, Any]) -> str:
    """SHA-256 (hex) of the parameters in canonical JSON (keys sorted, ``authorities`` as a sorted set)."""
    norm = json.loads(json.dumps(params))
    xs = norm.get("xs-security")
    if isinstance(xs, dict) and isinstance(xs.get("authorities"), list):
        xs["authorities"] = sorted(set(map(str, xs["authorities"])))
    return hashlib.sha256(json.dumps(norm, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def parameter_differences(actual: Mapping[str, Any], desired: Mapping[str, Any]) -> list[str]:
    """Human reasons why ``actual`` parameters differ from ``desired`` in the keys the playbook manages."""
    xs = actual.get("xs-security")
    a: Mapping[str, Any] = xs if isinstance(xs, dict) else {}
    d = desired["xs-security"]
    reasons = []
    if a.get("xsappname") != d["xsappname"]:
        reasons.append(f"xsappname is {a.get('xsappname')!r}, expected {d['xsappname']!r}")
    have = set(a.get("authorities") or []) if isinstance(a.get("authorities"), list) else set()
    want = set(d["authorities"])
    if have != want:
        parts = []
        if want - have:
            parts.append("missing " + ", ".join(sorted(want - have)))
        if have - want:
            parts.append("extra " + ", ".join(sorted(have - want)))
        reasons.append("authorities differ: " + "; ".join(parts))
    if "oauth2-configuration" in d and a.get("oauth2-configuration") != d["oauth2-configuration"]:
        reasons.append("oauth2-configuration differs")
    return reasons


def merged_parameters(current: Mapping[str, Any] | None, desired: Mapping[str, Any]) -> dict[str, Any]:
    """The parameters to send on update: the current ones with the managed ``xs-security`` keys replaced."""
    params = dict(current or {})
    xs = dict(params["xs-security"]) if isinstance(params.get("xs-security"), dict) else {}
    xs.update(desired["xs-security"])
    params["xs-security"] = xs
    return params


def desired_of(settings: Playbook, instance: ServiceInstance | None, parameters: Mapping[str, Any] | None,
               supported: bool, xsappname: str) -> tuple[dict[str, Any], bool]:
    """The parameters to apply to ``instance`` (read with ``parameters``; ``supported``: the broker returns them,
    else its record is compared), and whether it still issues instance secrets while the playbook asks for another
    type: then its ``oauth2-configuration`` is left as it is (dropping ``instance-secret`` would invalidate every
    key that holds the instance secret: ``provisioner key migrate`` does it in SAP's order)."""
    desired = desired_parameters(settings.service, xsappname, settings.credential_type)
    if settings.credential_type == "instance-secret" or instance is None:
        return desired, False
    if supported and parameters is not None:
        if issues_instance_secrets(parameters):
            return with_credential_types(desired, credential_types(parameters)), True
        return desired, False
    recorded = instance.record.get(HASH_RECORD)
    for types in INSTANCE_SECRET_TYPES if recorded != parameters_hash(desired) else ():
        variant = with_credential_types(desired, types)
        if parameters_hash(variant) == recorded:
            return variant, True
    return desired, False


def holds_instance_secret(key_path: str, parameters: Callable[[], Mapping[str, Any] | None]) -> bool:
    """Whether the key file at ``key_path`` holds an instance secret (its ``uaa.credential-type``), or, without a
    readable file, whether the instance (``parameters()``, read only then) still accepts instance secrets:
    deleting its keys then revokes nothing (XSUAA: valid while the instance exists)."""
    on_disk = existing_key(Path(key_path))
    ctype = ((on_disk or {}).get("uaa") or {}).get("credential-type")
    return ctype == "instance-secret" if ctype else issues_instance_secrets(parameters())
