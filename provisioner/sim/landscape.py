"""Reading a landscape (docs/simulator.md, "Landscape file") into the backends of the simulated APIs.

A landscape is a YAML file, an already parsed dict, or None for the built-in default
(`landscapes/default.yaml`). It is validated against `data/landscape.schema.json`; then names that refer to
other entries (users in roles, offerings and plans of instances, assigned entitlements) are checked while the
backends load it. Every problem raises `LandscapeError` (a ValueError) with one line
`FILE:LINE:COLUMN: key: problem; fix` (`landscape: key: problem; fix` for a dict).
"""

from __future__ import annotations

import copy
from functools import lru_cache
from pathlib import Path
from typing import Any

from provisioner.sim.btp.backend import BtpBackend
from provisioner.sim.cf.backend import CfBackend
from provisioner.sim.cf.load import load_offering, load_org
from provisioner.sim.core.identity import CFClient, Identity, User
from provisioner.sim.core.ids import stable_guid
from provisioner.sim.core.schema import LandscapeError, Locator, location, plain, problem, read_yaml
from provisioner.sim.sm.backend import SmBackend
from provisioner.sim.sm.load import add_offering, catalog_ids, load_instances
from provisioner.sim.sm.model import CatalogOffering, CatalogPlan

__all__ = ["DEFAULT_LANDSCAPE", "LandscapeError", "load_landscape", "read_landscape"]

DEFAULT_LANDSCAPE = Path(__file__).parent / "landscapes" / "default.yaml"


def read_landscape(source: str | Path | dict[str, Any] | None) -> tuple[dict[str, Any], Locator]:
    """The schema-valid landscape data of `source` and a Locator for error messages. A file is parsed once per
    content (path, size and modification time) and process; each call gets its own copy."""
    if isinstance(source, dict):
        data: Any = plain(source)
        loc = Locator("landscape")
    else:
        path = Path(source) if source else DEFAULT_LANDSCAPE
        try:
            st = path.stat()
            stamp: tuple[int, int] | None = (st.st_size, st.st_mtime_ns)
        except OSError:
            stamp = None
        data, marks = copy.deepcopy(_parsed(path, stamp)) if stamp else read_yaml(path, "landscape", LandscapeError)
        loc = Locator(str(path), marks)
    if not isinstance(data, dict):
        raise LandscapeError(f"{location(loc.source, loc.marks, ())}: a landscape must be a mapping; write its keys "
                             "(global_account, users, service_offerings, subaccounts)")
    found = problem("landscape.schema.json", data, loc.source, loc.marks)
    if found:
        raise LandscapeError(found)
    return data, loc


@lru_cache(maxsize=16)
def _parsed(path: Path, stamp: tuple[int, int]) -> tuple[Any, Any]:
    return read_yaml(path, "landscape", LandscapeError)


def load_landscape(source: str | Path | dict[str, Any] | None, identity: Identity, btp: BtpBackend,
                   cf: CfBackend, sm: SmBackend) -> None:
    """Fill the (empty) backends from a landscape; raises LandscapeError."""
    data, loc = read_landscape(source)
    btp.load_global_account(data["global_account"])
    for u in data.get("users") or []:
        origin = u.get("origin", "uaa")
        identity.users.append(User(u.get("guid") or stable_guid("user", origin, u["username"]), u["username"],
                                   origin, u.get("password"), bool(u.get("global_account_admin")),
                                   bool(u.get("cf_admin"))))
    for c in data.get("cf_clients") or []:
        identity.cf_clients.append(CFClient(c["client_id"], c["client_secret"], bool(c.get("cf_admin"))))
    identity.default_user = data.get("default_user") or (identity.users[0].username if identity.users else "")
    for o in data.get("service_offerings") or []:
        load_offering(cf, o)
    _sm_catalog(cf, sm)
    for i, sa in enumerate(data.get("subaccounts") or []):
        sub = btp.load_subaccount(sa, ("subaccounts", i), loc)
        if sa.get("cf_org"):
            load_org(cf, sa["cf_org"], sub.guid, ("subaccounts", i, "cf_org"), loc)
        instances = (sa.get("service_manager") or {}).get("instances") or []
        load_instances(sm, instances, sub.guid, ("subaccounts", i, "service_manager", "instances"), loc)


def _sm_catalog(cf: CfBackend, sm: SmBackend) -> None:
    """Service Manager offers what the CF marketplace offers (one broker catalog), under its own ids."""
    for off in cf.offerings.values():
        offering = CatalogOffering(catalog_ids(off.guid), off.name, off.description, off.catalog_id,
                                   off.broker_guid, off.broker, off.bindable, off.instances_retrievable,
                                   off.plan_updateable, list(off.tags), off.created_at, off.seq)
        plans = [CatalogPlan(catalog_ids(p.guid), p.name, p.description, p.catalog_id, offering.id, p.entitlement,
                             p.guid, p.created_at, p.seq)
                 for p in cf.plans.values() if p.offering_guid == off.guid]
        add_offering(sm, offering, plans)
