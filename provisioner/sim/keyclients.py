"""Wiring the XSUAA clients of service keys into the token endpoints: which secret, certificate or application of
a zone the Cloud Foundry keys (``cf/clients.py``), the local ``cis`` keys (``btp``) and Service Manager's bindings
(``sm/clients.py``) stand for (the API packages never import each other; app.py calls this)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from provisioner.sim.btp.backend import BtpBackend
from provisioner.sim.cf import clients as cf_clients
from provisioner.sim.cf.backend import CfBackend
from provisioner.sim.sm import clients as sm_clients
from provisioner.sim.sm.backend import SmBackend
from provisioner.sim.uaa.backend import UaaBackend

cf_dump, sm_dump = cf_clients.dump, sm_clients.dump


def wire_key_clients(uaa: UaaBackend, cf: CfBackend, sm: SmBackend, btp: BtpBackend) -> None:
    """Set ``uaa.key_client_scopes``, ``uaa.key_certificate_scopes`` and ``uaa.app_info``."""

    def key_client_scopes(subdomain: str, clientid: str, clientsecret: str) -> list[str] | None:
        lookups: tuple[Callable[[], list[str] | None], ...] = (
            lambda: cf_clients.client_scopes(cf, subdomain, clientid, clientsecret),
            lambda: btp.local_client_scopes(subdomain, clientid, clientsecret),
            lambda: sm_clients.client_scopes(sm, subdomain, clientid, clientsecret))
        for lookup in lookups:
            found = lookup()  # in turn: the first that knows the client (an instance secret's use is recorded)
            if found is not None:
                return found
        return None

    def key_certificate_scopes(subdomain: str, clientid: str, fingerprint: str) -> list[str] | None:
        found = cf_clients.certificate_scopes(cf, subdomain, clientid, fingerprint)
        return found if found is not None else sm_clients.certificate_scopes(sm, subdomain, clientid, fingerprint)

    def app_info(subdomain: str, app: str) -> dict[str, Any] | None:
        inst = cf_clients.instance_by_app(cf, subdomain, app) or sm_clients.instance_by_app(sm, subdomain, app)
        zone = uaa.subaccount_zone(subdomain)
        return None if inst is None else {"appid": app, "serviceinstanceid": inst.guid,
                                          "tenantid": zone.zone_id if zone else None,
                                          "instanceSecretLastUsedAt": inst.secret_used_at}

    uaa.key_client_scopes = key_client_scopes
    uaa.key_certificate_scopes = key_certificate_scopes
    uaa.app_info = app_info
