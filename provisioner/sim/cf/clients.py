"""The XSUAA clients of the Cloud Foundry service keys (who may sign in at a zone's token endpoint, with which
scopes: :mod:`provisioner.sim.broker.xsuaa`), and the CF part of the admin view ``GET /_sim/state``."""

from __future__ import annotations

from typing import Any

from provisioner.sim.broker import brokers
from provisioner.sim.cf.backend import CfBackend
from provisioner.sim.cf.model import Instance, Key
from provisioner.sim.core.ids import iso_now


def client_scopes(cf: CfBackend, subdomain: str, clientid: str, clientsecret: str) -> list[str] | None:
    """The token scopes of the XSUAA client of zone `subdomain` that signs in with `clientsecret`: an instance's
    secret (valid while the instance exists and accepts it; the sign-in is recorded) or a key's binding secret
    (valid while the key exists); None for neither."""
    for inst in cf.instances.values():
        zone = cf.zone_of_instance(inst)
        if zone is not None and zone.subdomain == subdomain and brokers.instance_secret_signs_in(
                inst, clientid, clientsecret):
            inst.secret_used_at = iso_now()
            return brokers.scopes(inst)
    for key in cf.keys.values():
        if brokers.carries_client(key.credentials, subdomain, clientid, clientsecret):
            found = cf.instances.get(key.instance_guid)
            return brokers.scopes(found) if found else None
    return None


def certificate_scopes(cf: CfBackend, subdomain: str, clientid: str, fingerprint: str) -> list[str] | None:
    """The token scopes of the x509 key of zone `subdomain` whose certificate has this fingerprint, while the key
    exists; None otherwise."""
    for key in cf.keys.values():
        if brokers.carries_certificate(key.credentials, subdomain, clientid, fingerprint):
            found = cf.instances.get(key.instance_guid)
            return brokers.scopes(found) if found else None
    return None


def instance_by_app(cf: CfBackend, subdomain: str, app: str) -> Instance | None:
    """The instance of zone `subdomain` whose XSUAA application is `app`."""
    for inst in cf.instances.values():
        zone = cf.zone_of_instance(inst)
        if zone is not None and zone.subdomain == subdomain and brokers.xsappname(inst) == app:
            return inst
    return None


def dump(cf: CfBackend) -> dict[str, Any]:
    """The CF part of `GET /_sim/state`, without secrets."""
    def op(obj: Instance | Key) -> dict[str, Any]:
        return {"type": obj.last_operation.type, "state": cf.operation_state(obj),
                "description": obj.last_operation.description}

    return {
        "orgs": [{"guid": o.guid, "name": o.name, "subaccount_guid": o.subaccount_guid} for o in cf.orgs.values()],
        "spaces": [{"guid": s.guid, "name": s.name, "org_guid": s.org_guid} for s in cf.spaces.values()],
        "roles": [{"guid": r.guid, "type": r.type, "user_guid": r.user_guid, "org_guid": r.org_guid,
                   "space_guid": r.space_guid} for r in cf.roles.values()],
        "service_instances": [
            {"guid": i.guid, "name": i.name, "space_guid": i.space_guid, "plan_guid": i.plan_guid,
             "parameters": i.parameters, "tags": i.tags, "labels": i.labels, "annotations": i.annotations,
             "last_operation": op(i), "instance_secret_last_used_at": i.secret_used_at}
            for i in cf.instances.values()],
        "service_keys": [
            {"guid": k.guid, "name": k.name, "instance_guid": k.instance_guid,
             "has_credentials": k.credentials is not None, "last_operation": op(k),
             "credential_type": ((k.credentials or {}).get("uaa") or {}).get("credential-type")}
            for k in cf.keys.values()],
    }
