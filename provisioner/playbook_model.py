"""The playbook format, declared once: pydantic models from which the shipped JSON Schema is generated
(:mod:`provisioner.playbook_schema`) and into which :mod:`provisioner.playbook` loads validated playbooks.

Every field carries its type, default, constraints and description here. The models are frozen; copy one with a
change with ``pb.model_copy(update={...})``. Secret fields hold :class:`~provisioner.secretref.SecretRef` objects,
resolved only when needed. Times are seconds.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from pydantic.json_schema import SkipJsonSchema
from typing_extensions import TypeAliasType

from provisioner.secretref import SecretRef

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


class Section(BaseModel):
    """Base of the playbook's models: unknown keys refused, frozen, defaults validated like given values."""

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)


class Tenant(Section):
    """The SAP Cloud ALM tenant."""

    subdomain: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$", description=(
        "The tenant's identity zone (subaccount subdomain), checked against uaa.identityzone of the key."))
    provisioned: dt.date = Field(description=(
        "Date the tenant was provisioned (YYYY-MM-DD); decides which steps are needed."))
    purposes: UniqueTuple[Purpose] = Field(default=("monitoring",), description=(
        "What the key is for: monitoring, transport-management (needs an instance and key of its own in tenants "
        "provisioned 2023-06-12 to 2023-10-15), api."))


class BtpSettings(Section):
    """The BTP subaccount of the tenant and the Cloud Management (cis, plan central) service key of its global
    account."""

    subaccount: NonEmpty = Field(description="Subaccount GUID or subdomain.")
    cis_key: SecretRef = Field(description="The cis service key (JSON) from a file or an environment variable.")
    username: Value | None = Field(default=None, description=(
        "User for the password grant, needed when the cis key's grant_type is user_token."))
    password: SecretRef | None = Field(default=None, description="Password for the password grant.")


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
        "Identity provider origin of the listed users, e.g. sap.ids (default: let CF resolve)."))


class ServiceSettings(Section):
    """The service offering and its settings; the defaults are SAP Cloud ALM API's."""

    offering: str = Field(default="SAPCloudALMAPIs", description=(
        "CF service offering and BTP entitlement service name."))
    plan: str = Field(default="standard", description="Service plan, in CF and in the BTP entitlement.")
    authorities: Annotated[tuple[str, ...], Field(min_length=1)] = Field(
        default=("$XSMASTERAPPNAME.imp-cdm-feature-display-ui", "$XSMASTERAPPNAME.imp-cdm-feature-manage-ui"),
        description="The instance's xs-security authorities.")
    credential_type: Literal["instance-secret", "binding-secret"] = Field(default="instance-secret", description=(
        "Expected uaa.credential-type: instance-secret for keys from Cloud Foundry."))
    required_scopes: tuple[str, ...] = Field(
        default=("imp-cdm-feature-display-ui", "imp-cdm-feature-manage-ui"),
        description="Scopes the key's token must carry (matched after the xsappname prefix).")
    amount: int = Field(default=1, ge=1, description="Entitlement amount for a plan with a numeric quota.")


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

    name: str = Field(max_length=32, pattern=r"^[A-Za-z0-9._-]{1,32}$", description=(
        "At most 32 characters: letters, digits, '.', '-', '_' (underscores instead of spaces)."))


class KeySettings(Section):
    """The service key of the instance."""

    name: Annotated[str, Field(min_length=1, max_length=255)] = Field(default="cloudalm-api-key", description=(
        "Name of the service key."))


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
    instance: InstanceSettings = Field(description=InstanceSettings.__doc__)
    key: KeySettings = Field(default=KeySettings(), description=KeySettings.__doc__)
    download: DownloadSettings = Field(description=DownloadSettings.__doc__)


#: the longest wait a step may be given, in seconds (a week): longer is a typo, and would overflow timers
MAX_WAIT_SECONDS = 7 * 24 * 3600


class Timeouts(Section):
    """Per-step timeouts for async waits, in seconds."""

    entitlement: float = Field(default=600, gt=0, le=MAX_WAIT_SECONDS,
                               description="Seconds the entitlement may take to be assigned.")
    instance: float = Field(default=1800, gt=0, le=MAX_WAIT_SECONDS,
                            description="Seconds the instance may take to be created or updated.")
    key: float = Field(default=600, gt=0, le=MAX_WAIT_SECONDS,
                       description="Seconds the service key may take to be created.")


class HttpConfig(Section):
    """Transport settings."""

    connect_timeout: float = Field(default=5, gt=0, le=300, description="Seconds to wait for a connection.")
    read_timeout: float = Field(default=30, gt=0, le=3600, description="Seconds to wait for a response.")
    retries: int = Field(default=5, ge=0, le=20, description=(
        "Retries of a request that failed on the way (connection errors, 429, 5xx) before giving up."))
    ca_bundle: str | None = Field(default=None, description=(
        "CA bundle file for TLS verification (default: the system's)."))


class Playbook(Section):
    """A loaded playbook of one tenant (the document's keys, plus ``source`` and shortcuts to the steps'
    settings). ``pb.model_copy(update={"timeouts": ...})`` makes a changed copy."""

    # the playbook's path as given (not part of the playbook format)
    source: SkipJsonSchema[str] = ""
    version: Literal[1] = Field(description="Playbook format version.")
    tenant: Tenant = Field(description=Tenant.__doc__)
    btp: BtpSettings = Field(description=BtpSettings.__doc__)
    cf: CfSettings = Field(description=CfSettings.__doc__)
    service: ServiceSettings = Field(default=ServiceSettings(), description=ServiceSettings.__doc__)
    steps: StepsSettings = Field(description=StepsSettings.__doc__)
    timeouts: Timeouts = Field(default=Timeouts(), description=Timeouts.__doc__)
    http: HttpConfig = Field(default=HttpConfig(), description=HttpConfig.__doc__)

    @property
    def mode(self) -> Mode:
        """``steps.mode``: auto, create or locate."""
        return self.steps.mode

    @property
    def space_name(self) -> str:
        """``steps.space.name``."""
        return self.steps.space.name

    @property
    def space_developers(self) -> tuple[str, ...]:
        """``steps.space.developers``: the users to give the Space Developer role."""
        return self.steps.space.developers

    @property
    def entitlement_enabled(self) -> bool:
        """``steps.entitlement.enabled``."""
        return self.steps.entitlement.enabled

    @property
    def instance_name(self) -> str:
        """``steps.instance.name``."""
        return self.steps.instance.name

    @property
    def key_name(self) -> str:
        """``steps.key.name``."""
        return self.steps.key.name

    @property
    def download_path(self) -> str:
        """``steps.download.path``: where the key's JSON is written."""
        return self.steps.download.path

    def secrets(self) -> list[SecretRef]:
        """Every secret reference of the playbook (usernames too when given as references)."""
        refs = [self.btp.cis_key, self.btp.password, self.cf.password, self.cf.client_secret,
                self.btp.username, self.cf.username]
        return [r for r in refs if isinstance(r, SecretRef)]


class PlaybookFile(Playbook):
    """Onboards one SAP Cloud ALM tenant to the SAP Cloud ALM API. Defaults carry the Cloud ALM specifics;
    relative paths are relative to the current directory. Secrets are never inline: give {env: NAME} or
    {file: PATH}. Any string may use ${NAME} to take an environment variable."""

    tenants: Annotated[list[dict[str, Any]], Field(min_length=1)] | None = Field(default=None, description=(
        "Several tenants sharing the settings above: each item holds the keys that differ (tenant, "
        "btp.subaccount, cf.org, steps.download.path, ...), merged over the rest of the playbook. '{tenant}' in "
        "steps.download.path becomes the tenant's subdomain."))
