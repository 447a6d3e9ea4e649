"""The instance's ``xs-security`` parameters the playbook asks for, their canonical SHA-256 (the record kept on the
instance when the broker cannot return parameters) and the human reasons two parameter sets differ."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from provisioner.playbook import ServiceSettings


def desired_parameters(service: ServiceSettings, xsappname: str, credential_type: str) -> dict[str, Any]:
    """``{"xs-security": {"xsappname": ..., "authorities": [...]}}`` (+ ``oauth2-configuration``
    ``{"credential-types": ["binding-secret"]}`` when ``credential_type`` is binding-secret, as on the subaccount
    route), as SAP's "Maintain an Instance" and "Enabling SAP Cloud ALM API" pages give them."""
    xs: dict[str, Any] = {"xsappname": xsappname, "authorities": list(service.authorities)}
    if credential_type == "binding-secret":
        xs["oauth2-configuration"] = {"credential-types": ["binding-secret"]}
    return {"xs-security": xs}


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
