"""The playbook's service settings and each purpose's credentials, declared once (part of
:mod:`provisioner.playbook.model`): the offering, the instance's authorities, the credential type the tool asks for
and the one its checks insist on, the X.509 options, and a purpose's own instance, key, file, type and scopes.

Credential types (docs/sap-facts.md §6): ``binding-secret`` (a secret per key, the default XSUAA issues; SAP's
"Enabling SAP Cloud ALM API" asks for it with ``oauth2-configuration.credential-types``), ``instance-secret`` (one
secret shared by every key of the instance; XSUAA issues none for new keys since 2026-01-19) and ``x509`` (a client
certificate per key, signing in at ``uaa.certurl``; not taken by Landscape Management, whose upload checks
``uaa.clientsecret``).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from provisioner.playbook.strictinput import Section

CredentialType = Literal["binding-secret", "instance-secret", "x509"]
#: what SAP Cloud ALM's Landscape Management upload takes ("Managing Your Service Credentials", 2026-02-04)
LANDSCAPE_TYPES: tuple[str, ...] = ("binding-secret", "instance-secret")
SCOPE_PATTERN = r"^[A-Za-z0-9._-]{1,200}$"
Scope = Annotated[str, Field(pattern=SCOPE_PATTERN)]
#: an instance name: letters, digits, '.', '-', '_'; spaces inside only for locating SAP's generated instance
#: (:mod:`provisioner.playbook.locating` refuses one that would be created)
NAME_PATTERN = r"^[A-Za-z0-9._-]([A-Za-z0-9._ -]{0,30}[A-Za-z0-9._-])?$"




class X509Settings(Section):
    """The client certificate XSUAA makes for an x509 key ("Parameters for X.509 Certificates Managed by SAP
    Authorization and Trust Management Service")."""

    key_length: Literal[2048, 4096, 8192] = Field(default=2048, description=(
        "Length of the generated private key in bits (key-length): 2048, 4096 or 8192."))
    validity_days: int = Field(default=7, ge=1, le=30, description=(
        "Days the certificate is valid (validity, validity-type DAYS): 1 to 30, as SAP's page allows."))
    parameters: Literal["xsuaa", "flat"] = Field(default="xsuaa", description=(
        "How a key's parameters are sent (x509 keys, and instance-secret when service.credential_type insists on "
        "it): xsuaa wraps them as {\"xsuaa\": {\"credential-type\": \"x509\", ...}} (as SAP's reuse services "
        "document it), flat sends {\"credential-type\": \"x509\", \"x509\": {...}} (as XSUAA's own page shows). "
        "Which one the SAP Cloud ALM API broker reads is not confirmed."))


class ServiceSettings(Section):
    """The service offering and its settings; the defaults are SAP Cloud ALM API's."""

    offering: str = Field(default="SAPCloudALMAPIs", description=(
        "CF service offering and BTP entitlement service name."))
    plan: str = Field(default="standard", description="Service plan, in CF and in the BTP entitlement.")
    authorities: Annotated[tuple[str, ...], Field(min_length=1)] = Field(
        default=("$XSMASTERAPPNAME.imp-cdm-feature-display-ui", "$XSMASTERAPPNAME.imp-cdm-feature-manage-ui"),
        description="The instance's xs-security authorities.")
    credential_type: CredentialType | None = Field(default=None, description=(
        "The credential type of the keys the tool makes, on both routes: binding-secret (the default: the "
        "instance asks for it with oauth2-configuration credential-types [binding-secret]), instance-secret (no "
        "credential-types; XSUAA refuses new instance-secret keys since 2026-01-19) or x509 (a client "
        "certificate, credential-types [binding-secret, x509]; never the Landscape Management key). When given, "
        "the check step insists on it; when left out, it accepts what Landscape Management accepts: "
        "binding-secret or instance-secret."))
    x509: X509Settings = Field(default=X509Settings(), description=X509Settings.__doc__)
    required_scopes: tuple[str, ...] = Field(
        default=("imp-cdm-feature-display-ui", "imp-cdm-feature-manage-ui"),
        description="Scopes the key's token must carry (matched after the xsappname prefix).")
    amount: int = Field(default=1, ge=1, description="Entitlement amount for a plan with a numeric quota.")


class PurposeSettings(Section):
    """Where one purpose's key comes from and goes; each field left out is the step's own setting with
    '{purpose}' (and '{tenant}' in paths) replaced."""

    instance: Annotated[str, Field(max_length=32, pattern=NAME_PATTERN)] | None = Field(
        default=None, description=(
            "The instance of this purpose's key. Default: steps.instance.name for the first purpose listed "
            "without one, <steps.instance.name>-<purpose> (transport for transport-management) for the others: "
            "one instance per purpose, with exactly its authorities."))
    key: Annotated[str, Field(min_length=1, max_length=255)] | None = Field(default=None, description=(
        "The name of this purpose's key (default steps.key.name, '{purpose}' replaced)."))
    path: Annotated[str, Field(min_length=1)] | None = Field(default=None, description=(
        "Where this purpose's key is written (default steps.download.path, '{purpose}' replaced)."))
    credential_type: CredentialType | None = Field(default=None, description=(
        "This purpose's credential type (default service.credential_type)."))
    scopes: Annotated[tuple[Scope, ...], Field(min_length=1)] | None = Field(default=None, description=(
        "api only: the SAP Cloud ALM API scopes the key's programs need, e.g. [calm-api.projects.read] (SAP's "
        "\"API Scopes\"; calm-api.<area>.<read|write>). The api instance's authorities are exactly "
        "$XSMASTERAPPNAME.<scope> for each, and its key's token must carry them."))
