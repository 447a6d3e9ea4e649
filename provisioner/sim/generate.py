"""Generated landscapes for fleet tests and benchmarks: the default landscape's global account, user and service
offering, with ``count`` Cloud ALM tenants ``<prefix>-001`` ... provisioned before 2023-06-12 (nothing exists)."""

from __future__ import annotations

import copy
import uuid
from importlib import resources
from typing import Any

import yaml


def default_landscape() -> dict[str, Any]:
    """The built-in default landscape as a dict (a fresh copy)."""
    text = resources.files("provisioner.sim").joinpath("landscapes/default.yaml").read_text("utf-8")
    data: dict[str, Any] = yaml.safe_load(text)
    return data


def fleet_landscape(count: int, prefix: str = "tenant", *, without_roles: tuple[int, ...] = ()) -> dict[str, Any]:
    """A landscape with ``count`` tenants (subaccount subdomain = CF org name = ``<prefix>-NNN``). The admin user is
    Org Manager in every org except those numbered in ``without_roles`` (their org is invisible to it)."""
    land = default_landscape()
    template = land["subaccounts"][0]
    land["subaccounts"] = []
    for i in range(1, count + 1):
        name = f"{prefix}-{i:03d}"
        sub = copy.deepcopy(template)
        sub.pop("tenant_id", None)
        guid = str(uuid.uuid5(uuid.NAMESPACE_DNS, f"{name}.subaccount.sim"))
        sub.update(guid=guid, display_name=f"{name} Cloud ALM", subdomain=name, assignments=[])
        roles = {} if i in without_roles else {"organization_user": [land["default_user"]],
                                               "organization_manager": [land["default_user"]]}
        sub["cf_org"] = {"name": name, "guid": str(uuid.uuid5(uuid.NAMESPACE_DNS, f"{name}.org.sim")),
                         "roles": roles, "spaces": []}
        land["subaccounts"].append(sub)
    for ent in land["global_account"]["entitlements"]:
        ent["amount"] = max(int(ent.get("amount", 1)), count)
    return land
