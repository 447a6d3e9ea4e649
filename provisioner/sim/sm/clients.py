"""The XSUAA clients of Service Manager's bindings and access bindings (who may sign in at a zone's token endpoint,
with which scopes: :mod:`provisioner.sim.broker.xsuaa`), and Service Manager's part of ``GET /_sim/state``."""

from __future__ import annotations

import secrets
from typing import Any

from provisioner.sim.broker import brokers
from provisioner.sim.core.ids import iso_now
from provisioner.sim.sm.backend import SM_SCOPES, SmBackend
from provisioner.sim.sm.model import Binding, Instance


def client_scopes(sm: SmBackend, subdomain: str, clientid: str, clientsecret: str) -> list[str] | None:
    """Token scopes of an XSUAA client of zone `subdomain`: an instance's secret (while the instance exists and
    accepts it; the sign-in is recorded), a binding's secret (while the binding exists) or an access binding's;
    None for none (a deleted binding's secret no longer signs in)."""
    for inst in sm.instances.values():
        zone = sm.zone_of(inst.subaccount_guid)
        if zone is not None and zone.subdomain == subdomain and brokers.instance_secret_signs_in(
                inst, clientid, clientsecret):
            inst.secret_used_at = iso_now()
            return brokers.scopes(inst)
    for b in sm.bindings.values():
        if brokers.carries_client(b.credentials, subdomain, clientid, clientsecret):
            return brokers.scopes(sm.instances[b.instance_id])
    for a in sm.access:
        zone = sm.zone_of(a.subaccount_guid)
        if (zone is not None and zone.subdomain == subdomain and a.clientid == clientid
                and secrets.compare_digest(a.clientsecret, clientsecret)):
            return list(SM_SCOPES)
    return None


def certificate_scopes(sm: SmBackend, subdomain: str, clientid: str, fingerprint: str) -> list[str] | None:
    """Token scopes of the x509 binding of zone `subdomain` whose certificate has this fingerprint, while the
    binding exists; None otherwise."""
    for b in sm.bindings.values():
        if brokers.carries_certificate(b.credentials, subdomain, clientid, fingerprint):
            return brokers.scopes(sm.instances[b.instance_id])
    return None


def instance_by_app(sm: SmBackend, subdomain: str, app: str) -> Instance | None:
    """The instance of zone `subdomain` whose XSUAA application is `app`."""
    for inst in sm.instances.values():
        zone = sm.zone_of(inst.subaccount_guid)
        if zone is not None and zone.subdomain == subdomain and brokers.xsappname(inst) == app:
            return inst
    return None


def dump(sm: SmBackend) -> dict[str, Any]:
    """The Service Manager part of `GET /_sim/state`, without secrets."""
    def op(obj: Instance | Binding) -> dict[str, Any] | None:
        o = obj.last_operation
        return None if o is None else {"type": o.type, "state": o.current_state(), "description": o.description}

    return {"sm_instances": [{"id": i.id, "name": i.name, "subaccount_guid": i.subaccount_guid,
                              "plan_id": i.plan_id, "parameters": i.parameters, "labels": i.labels,
                              "last_operation": op(i), "instance_secret_last_used_at": i.secret_used_at}
                             for i in sm.instances.values()],
            "sm_bindings": [{"id": b.id, "name": b.name, "instance_id": b.instance_id, "labels": b.labels,
                             "has_credentials": b.credentials is not None, "last_operation": op(b),
                             "credential_type": ((b.credentials or {}).get("uaa") or {}).get("credential-type")}
                            for b in sm.bindings.values()],
            "sm_access_bindings": [{"subaccount_guid": a.subaccount_guid, "name": a.name} for a in sm.access]}
