"""The fields ``/SDF/ALM_SETUP`` asks for on a managed ABAP system, from a SAP Cloud ALM API service key
(``provisioner key export FILE --for alm-setup``): never the secret itself."""

from __future__ import annotations

from typing import Any

from provisioner.errors import BadInput

X509 = "x509"


def _get(obj: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        obj = obj.get(part) if isinstance(obj, dict) else None
    return obj


def alm_setup_fields(creds: dict[str, Any], source: str) -> list[tuple[str, str]]:
    """The fields ``/SDF/ALM_SETUP`` asks for on a managed ABAP system, as (label, value): token endpoint
    (``uaa.url`` + ``/oauth/token``; for an x509 key, mTLS: ``uaa.certurl`` + ``/oauth/token``), root URL
    (``endpoints.Api`` without a trailing ``/api``) and client ID; the client secret (or certificate) is named,
    never shown. Raises :class:`BadInput` when a field is missing."""
    x509 = _get(creds, "uaa.credential-type") == X509
    values = {}
    for field in ("uaa.certurl" if x509 else "uaa.url", "endpoints.Api", "uaa.clientid"):
        value = _get(creds, field)
        if not (isinstance(value, str) and value.strip()):
            raise BadInput(f"{source}: {field} is missing or not a string; is it a SAP Cloud ALM API service key?")
        values[field] = value.strip()
    root = values["endpoints.Api"].rstrip("/")
    root = root[: -len("/api")] if root.endswith("/api") else root
    token = values["uaa.certurl" if x509 else "uaa.url"].rstrip("/") + "/oauth/token"
    secret = ("client certificate (mTLS, ST-PI 7.40 SP29)", f"in {source} (uaa.certificate and uaa.key)") if x509 \
        else ("client secret", f"in {source} (uaa.clientsecret)")
    return [("token endpoint", token), ("root URL", root), ("client ID", values["uaa.clientid"]), secret]
