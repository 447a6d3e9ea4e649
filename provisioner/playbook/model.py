"""The playbook format, declared once: pydantic models from which the shipped JSON Schema is generated
(:mod:`provisioner.playbook.schema`) and into which :mod:`provisioner.playbook.load` loads validated playbooks.

Every field carries its type, default, constraints and description here. The models are frozen; copy one with a
change with ``pb.model_copy(update={...})``. Secret fields hold :class:`~provisioner.playbook.secretref.SecretRef`
objects,
resolved only when needed. Times are seconds.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, ValidationInfo, model_validator
from pydantic.json_schema import SkipJsonSchema

from provisioner.playbook.crossfield import cross_checks, date_problems, locate_refs, where_of
from provisioner.playbook.limits import MAX_WAIT_SECONDS, HttpConfig, Timeouts
from provisioner.playbook.locating import check_spaced_names
from provisioner.playbook.purposes import purpose_problems
from provisioner.playbook.rotation import RotationSettings
from provisioner.playbook.secretref import SecretRef
from provisioner.playbook.sections import (
    BtpSettings,
    CfLogin,
    CfSettings,
    DownloadSettings,
    EntitlementSettings,
    GeneratedPlatform,
    GeneratedSettings,
    InstanceSettings,
    KeySettings,
    Mode,
    NonEmpty,
    OrgCheck,
    Purpose,
    Route,
    SpaceSettings,
    StepsSettings,
    Tenant,
    UniqueTuple,
    Value,
)
from provisioner.playbook.service import (
    LANDSCAPE_TYPES,
    CredentialType,
    PurposeSettings,
    ServiceSettings,
    X509Settings,
)
from provisioner.playbook.strictinput import Section

__all__ = ["LANDSCAPE_TYPES", "MAX_WAIT_SECONDS", "BtpSettings", "CfLogin", "CfSettings", "CredentialType",
           "DownloadSettings", "EntitlementSettings", "GeneratedPlatform", "GeneratedSettings", "HttpConfig",
           "InstanceSettings", "KeySettings", "Mode", "NonEmpty", "OrgCheck", "Playbook", "Purpose", "PurposeSettings",
           "Route", "Section", "ServiceSettings", "SpaceSettings", "StepsSettings", "Tenant", "Timeouts",
           "UniqueTuple", "Value", "X509Settings"]  # declared in .limits, .sections and .service

class Playbook(Section):
    """A loaded playbook of one tenant (the document's keys, plus ``source`` and shortcuts to the steps'
    settings). ``pb.model_copy(update={"timeouts": ...})`` makes a changed copy."""

    # the playbook's path as given (not part of the playbook format)
    source: SkipJsonSchema[str] = ""
    version: Literal[1] = Field(description="Playbook format version.")
    tenant: Tenant = Field(description=Tenant.__doc__)
    route: Route | None = Field(default=None, description=(
        "subaccount: SAP's recommended route without Cloud Foundry (a subaccount-level instance through SAP "
        "Service Manager, a service binding with binding-secret credentials); cloud-foundry: a CF space, "
        "instance and service key. Default: cloud-foundry when the playbook has a cf section, else subaccount."))
    btp: BtpSettings = Field(description=BtpSettings.__doc__)
    cf: CfSettings | None = Field(default=None, description=(
        (CfSettings.__doc__ or "") + " Needed on the cloud-foundry route."))
    service: ServiceSettings = Field(default=ServiceSettings(), description=ServiceSettings.__doc__)
    steps: StepsSettings = Field(description=StepsSettings.__doc__)
    timeouts: Timeouts = Field(default=Timeouts(), description=Timeouts.__doc__)
    http: HttpConfig = Field(default=HttpConfig(), description=HttpConfig.__doc__)
    rotation: RotationSettings = Field(default=RotationSettings(), description=RotationSettings.__doc__)

    @model_validator(mode="after")
    def _rules(self, info: ValidationInfo) -> Playbook:
        """The rules across fields, in this order: ``cf`` and ``btp`` (:func:`~.crossfield.cross_checks`: one
        located line), the route, the purposes, then where each secret reference is written and the provisioning
        date. ``info.context`` carries the positions of the playbook's keys (``{"marks": ...}``)."""
        if isinstance(info.context, dict) and info.context.get("fields_only"):
            return self
        where = where_of(info.context, self.source)
        pb: Playbook = cross_checks(self, where)
        if pb.route == "cloud-foundry" and pb.cf is None:
            raise ValueError("route cloud-foundry needs a cf section (or route: subaccount)")
        if pb.btp.cis_key is None and pb.btp.sm_key is None:
            raise ValueError("btp needs cis_key (or, on the subaccount route, sm_key)")
        extra = sorted(set(pb.steps.purposes) - set(pb.tenant.purposes))
        if extra:
            raise ValueError(f"steps.purposes names {', '.join(extra)}, not in tenant.purposes; add it there or "
                             "remove it")
        chosen = pb.tenant.landscape_management
        if chosen is not None and chosen not in pb.tenant.purposes:
            raise ValueError(f"tenant.landscape_management {chosen} is not in tenant.purposes")
        purpose_problems(pb)
        date_problems(pb.tenant.provisioned, where)
        check_spaced_names(pb, where)
        located: Playbook = locate_refs(pb, where)
        return located

    def for_purpose(self, purpose: Purpose) -> Playbook:
        """The playbook of one purpose's key: ``tenant.purposes`` just that purpose, the instance, key name, path,
        credential type and (api) scopes of ``steps.purposes.<purpose>`` (else the steps' own, with ``{purpose}``
        and ``{tenant}`` replaced; the instance: :func:`purpose_instance`). A playbook of one purpose whose names
        hold no placeholder is returned as it is."""
        from provisioner.playbook.purposes import for_purpose

        copy: Playbook = for_purpose(self, purpose)
        return copy

    @property
    def landscape_management_purpose(self) -> Purpose | None:
        """The purpose whose key goes to Landscape Management: ``tenant.landscape_management``, else monitoring,
        else transport-management; None when only api is listed (an api key is never uploaded there)."""
        listed = self.tenant.purposes
        if self.tenant.landscape_management is not None:
            return self.tenant.landscape_management
        return next((p for p in ("monitoring", "transport-management") if p in listed), None)

    @property
    def route_name(self) -> Route:
        """``route``, else cloud-foundry when the playbook has a cf section, else subaccount."""
        return self.route or ("cloud-foundry" if self.cf is not None else "subaccount")

    @property
    def credential_type(self) -> CredentialType:
        """The type of the keys the tool makes: ``service.credential_type``, else binding-secret (both routes)."""
        return self.service.credential_type or "binding-secret"

    @property
    def accepted_credential_types(self) -> tuple[str, ...]:
        """What the check step accepts in ``uaa.credential-type``: ``service.credential_type`` when given (the
        user insists on it), else what Landscape Management accepts (binding-secret or instance-secret)."""
        return (self.service.credential_type,) if self.service.credential_type else LANDSCAPE_TYPES

    @property
    def cf_settings(self) -> CfSettings:
        """The ``cf`` section; raises ValueError on a playbook without one (the subaccount route)."""
        if self.cf is None:
            raise ValueError("the playbook has no cf section")
        return self.cf

    @property
    def pinned_instance(self) -> str | None:
        """``steps.instance.name`` when the playbook gives it (else None: the default name)."""
        given = "instance" in self.steps.model_fields_set and "name" in self.steps.instance.model_fields_set
        return self.steps.instance.name if given else None

    @property
    def pinned_key(self) -> str | None:
        """``steps.key.name`` when the playbook gives it (else None: the default name)."""
        given = "key" in self.steps.model_fields_set and "name" in self.steps.key.model_fields_set
        return self.steps.key.name if given else None

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
        cf = self.cf
        refs = [self.btp.cis_key, self.btp.sm_key, self.btp.environments_key, self.btp.password, self.btp.username,
                *((cf.password, cf.client_secret, cf.username) if cf is not None else ())]
        return [r for r in refs if isinstance(r, SecretRef)]
