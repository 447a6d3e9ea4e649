"""The playbook's sections (part of the format declared in :mod:`provisioner.playbook.model`): the base of every
section, the shared field types, and the ``tenant``, ``btp``, ``cf`` and ``steps`` sections. Times are seconds."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal, TypeVar

from pydantic import AfterValidator, Field
from typing_extensions import TypeAliasType

from provisioner.playbook.secretref import SecretRef
from provisioner.playbook.service import NAME_PATTERN, PurposeSettings
from provisioner.playbook.strictinput import Section

T = TypeVar("T")


def _unique(items: tuple[T, ...]) -> tuple[T, ...]:
    if len(set(items)) != len(items):
        raise ValueError("lists an item more than once")
    return items


NonEmpty = Annotated[str, Field(min_length=1)]
UniqueTuple = Annotated[tuple[T, ...], AfterValidator(_unique), Field(json_schema_extra={"uniqueItems": True})]
Value = TypeAliasType("Value", Annotated[NonEmpty | SecretRef, Field(
    description="A plain string, or a reference {env: NAME} / {file: PATH} / {vcap: SERVICE}.")])
"""A plain string, or a secret reference (for values such as usernames that may be either)."""

Purpose = Literal["monitoring", "transport-management", "api"]
CfLogin = Literal["password", "client_credentials", "cf-env", "cf-cli", "vcap"]
Mode = Literal["auto", "create", "locate"]
Route = Literal["subaccount", "cloud-foundry"]
GeneratedPlatform = Literal["auto", "subaccount", "cloud-foundry"]
OrgCheck = Literal["auto", "required", "off"]




class Tenant(Section):
    """The SAP Cloud ALM tenant."""

    subdomain: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$", description=(
        "The tenant's identity zone (subaccount subdomain), checked against uaa.identityzone of the key."))
    provisioned: dt.date = Field(description=(
        "Date the tenant was provisioned (YYYY-MM-DD); decides which steps are needed."))
    purposes: UniqueTuple[Purpose] = Field(default=("monitoring",), description=(
        "What the key is for: monitoring, transport-management (needs an instance and key of its own in tenants "
        "provisioned 2023-06-12 to 2023-10-15), api. One run handles every purpose listed, each key downloaded "
        "to its own file (steps.purposes, {purpose} in steps.key.name and steps.download.path)."))
    landscape_management: Literal["monitoring", "transport-management"] | None = Field(default=None, description=(
        "The purpose whose key is uploaded to Landscape Management (it holds one key per tenant; never an api "
        "key, which is for your own programs). Default: monitoring when listed, else transport-management; a "
        "tenant with only api has none."))


class BtpSettings(Section):
    """The BTP subaccount of the tenant and the Cloud Management (cis, plan central) service key of its global
    account."""

    subaccount: NonEmpty = Field(description="Subaccount GUID or subdomain.")
    cis_key: SecretRef | None = Field(default=None, description=(
        "The cis service key (JSON) from a file or an environment variable. Needed for the entitlement step and, "
        "on the subaccount route without sm_key, for the Service Manager credentials."))
    sm_key: SecretRef | None = Field(default=None, description=(
        "Subaccount route: Service Manager credentials (clientid, clientsecret, url, sm_url: a key of a "
        "service-manager instance of plan subaccount-admin), for users who are not global account "
        "administrators. Default: the subaccount's serviceManagerBindings binding sm_binding, through cis_key."))
    sm_binding: str = Field(default="provisioner", pattern=r"^[A-Za-z0-9._-]{1,100}$", description=(
        "Subaccount route: name of the subaccount's Service Manager binding (Accounts service v2 "
        "serviceManagerBindings) the tool finds, or creates once, with cis_key and reuses on every run."))
    username: Value | None = Field(default=None, description=(
        "User for the password grant, needed when the cis key's grant_type is user_token."))
    password: SecretRef | None = Field(default=None, description="Password for the password grant.")
    org_check: OrgCheck = Field(default="auto", description=(
        "CF route, before the first write: is cf.org the org of the subaccount's CF environment (GET /provisioning/"
        "v1/environments)? auto = required: stop, writing nothing, when it cannot be checked; off: no check."))
    environments_key: SecretRef | None = Field(default=None, description=(
        "For org_check, when cis_key may not read them: a cis key of plan local in the subaccount (its scope "
        "subaccount.environment.read reads the environments)."))


class CfSettings(Section):
    """The Cloud Foundry environment of the subaccount."""

    api: NonEmpty | None = Field(default=None, description=(
        "CF API URL, e.g. https://api.cf.eu10.hana.ondemand.com (with login: cf-cli, default: the cf CLI's "
        "target)."))
    org: NonEmpty = Field(description="CF org of the Cloud ALM subaccount.")
    login: CfLogin | None = Field(default=None, description=(
        "Where the CF credentials come from. password: username and password below (the default when given); "
        "client_credentials: client_id and client_secret below; cf-env: CF_USERNAME and CF_PASSWORD, as `cf auth` "
        "reads them; cf-cli: the current cf CLI login ($CF_HOME/.cf/config.json or ~/.cf/config.json: target, "
        "access and refresh tokens); vcap: VCAP_SERVICES when running in Cloud Foundry (the bound service "
        "vcap_service with username/password or clientid/clientsecret). A loaded playbook has password for "
        "cf-env, with username and password referring to those variables."))
    vcap_service: NonEmpty | None = Field(default=None, description=(
        "With login: vcap, the name of the bound service holding the CF credentials."))
    username: Value | None = Field(default=None, description="User for the password grant (needs Org Manager).")
    password: SecretRef | None = Field(default=None, description="Password of that user.")
    client_id: str | None = Field(default=None, description=(
        "UAA client for the client-credentials grant (instead of username/password)."))
    client_secret: SecretRef | None = Field(default=None, description="Secret of that client.")
    origin: str | None = Field(default=None, description=(
        "Identity provider origin, e.g. sap.ids or a custom IdP's origin key: the password grant signs in there "
        "(as `cf auth --origin`) and the listed developers are looked up there (as `cf set-space-role --origin`). "
        "Default: the platform's (uaa for the password grant; CF resolves the users)."))


class SpaceSettings(Section):
    """The CF space of the instance (created if missing)."""

    name: Annotated[str, Field(min_length=1, max_length=255)] = Field(default="cloudalm", description=(
        "Name of the space."))
    developers: tuple[NonEmpty, ...] = Field(default=(), description=(
        "Users given the Space Developer role (default: the signed-in user)."))


class EntitlementSettings(Section):
    """The entitlement of the subaccount to the service plan."""

    enabled: bool = Field(default=True, description=(
        "Whether to entitle the subaccount (false: it is entitled already)."))


class InstanceSettings(Section):
    """The service instance."""

    name: str = Field(default="cloudalm-api", max_length=32, pattern=NAME_PATTERN, description=(
        "At most 32 characters: letters, digits, '.', '-', '_' (underscores instead of spaces). When the "
        "credentials generated with the tenant are located on the subaccount route, a name given here pins one "
        "instance (else they are found by plan and creator); such a name may hold spaces (SAP's \"SAP Cloud "
        "ALM API\"), for locating only: a playbook that would create an instance so named is refused."))


class KeySettings(Section):
    """The service key (a binding on the subaccount route) of the instance. When the credentials generated with
    the tenant are located on the subaccount route, a name given here pins one binding."""

    name: Annotated[str, Field(min_length=1, max_length=255)] = Field(default="cloudalm-api-key", description=(
        "Name of the service key."))


class GeneratedSettings(Section):
    """Where the credentials SAP generated with the tenant are looked for (SAP does not document their names:
    UNCONFIRMED, so configurable; docs/sap-facts.md "Generated credentials")."""

    platform: GeneratedPlatform = Field(default="auto", description=(
        "auto: tenants provisioned on or after 2023-10-16 at subaccount level (Service Manager), 2023-06-12 to "
        "2023-10-15 in Cloud Foundry (steps.space.name); or subaccount / cloud-foundry for every era."))
    instance_names: tuple[NonEmpty, ...] = Field(default=("SAP Cloud ALM API",), description=(
        "Names of the instance SAP generates with the tenant (SAP's screenshot: \"SAP Cloud ALM API\")."))
    binding_prefix: NonEmpty = Field(default="binding-key-", description=(
        "How the name of the binding SAP generates starts (SAP's screenshot: binding-key-...)."))


class DownloadSettings(Section):
    """Where the key goes."""

    path: NonEmpty = Field(description="Where the key's JSON is written (mode 0600).")


class StepsSettings(Section):
    """The steps and their settings, in the order of SAP's procedure "Enabling SAP Cloud ALM API in Cloud
    Foundry": space, entitlement, instance, key, then download, check and test of the key."""

    mode: Mode = Field(default="auto", description=(
        "auto: the steps the tenant's provisioning date needs (SAP's table of tenants provisioned before "
        "2023-06-12, until 2023-10-15, and from 2023-10-16 on); create: every step, whatever the date; locate: "
        "only find the existing instance and key, then download, check and test."))
    space: SpaceSettings = Field(default=SpaceSettings(), description=SpaceSettings.__doc__)
    entitlement: EntitlementSettings = Field(default=EntitlementSettings(), description=EntitlementSettings.__doc__)
    instance: InstanceSettings = Field(default=InstanceSettings(), description=InstanceSettings.__doc__)
    key: KeySettings = Field(default=KeySettings(), description=KeySettings.__doc__)
    download: DownloadSettings = Field(description=DownloadSettings.__doc__)
    generated: GeneratedSettings = Field(default=GeneratedSettings(), description=GeneratedSettings.__doc__)
    purposes: dict[Purpose, PurposeSettings] = Field(default={}, description=(
        "Per purpose of tenant.purposes: its instance, key name and file, when they differ from the steps' "
        "settings (several purposes need distinct keys and files)."))
