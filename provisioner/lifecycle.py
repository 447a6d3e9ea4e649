"""The key's life after it exists: rotation and revocation of the service keys a playbook manages.

Rotation creates ``<key name>-<UTC YYYYMMDDhhmmss>``, reads its credentials, tests them (sign-in and scopes),
writes them to the download path (the old file kept as .bak), and only then deletes the older keys. A failure at
any point leaves a working key and says which one. Revocation deletes every key the playbook manages.

On the subaccount route the keys are Service Manager bindings of the subaccount-level instance, and only bindings
carrying this tool's label are managed: the binding generated with the tenant (``binding-key-…``) and per-system
bindings (``<SID>_<client>_<system number>``) are never touched. Each binding has its own secret
(``binding-secret``), so a rotation changes the secret and the replaced binding's secret stops signing in.

Note (XSUAA "Service Instance Secrets"): with ``instance-secret`` credentials all keys of an instance share the
instance's secret, so a new key does not change the secret; ``binding-secret`` keys each have their own.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from provisioner.eras import platform_for
from provisioner.errors import ApiError, StepFailed
from provisioner.http import RequestStats, SessionPool
from provisioner.keyfile import write_key_file
from provisioner.keytest import test_key
from provisioner.platform import ServiceInstance, ServiceKey, ServicePlatform
from provisioner.playbook import Playbook
from provisioner.runner import connect_platform, pool_for, resolve_secrets
from provisioner.steps.key import current_key, managed_keys
from provisioner.wait import WaitSettings

LANDSCAPE_CAUTION = ("Caution (SAP Cloud ALM): a copy of a deleted key uploaded to Landscape Management stays there "
                     "until you delete it there; it can no longer be used to sign in.")
SHARED_SECRET_NOTE = ("Note: this instance issues instance-secret credentials: all its keys share one secret, so the "
                      "new key has the same client secret (binding-secret keys each get their own).")


@dataclass(frozen=True)
class Located:
    """The connection (pool, request counts), the service platform, the playbook's instance and its managed
    keys."""

    pool: SessionPool
    stats: RequestStats
    platform: ServicePlatform
    instance: ServiceInstance
    keys: list[ServiceKey]


def locate(pb: Playbook) -> Located:
    """Sign in and find the playbook's instance and its managed keys (read only): in its CF space, or at subaccount
    level (SAP Service Manager, only bindings this tool created). Raises :class:`StepFailed` when the org, the
    space or the instance is missing."""
    resolve_secrets(pb)
    pool, stats = pool_for(pb), RequestStats()
    conn = connect_platform(pb, pool, stats, need_btp=False)
    platform = conn.platform
    generated = (" (this tenant's credentials were generated with it, and the tool rotates or revokes only keys "
                 "it created)" if platform_for(pb) != pb.route_name or pb.mode == "locate" else "")
    if conn.on_subaccount:
        scope, where = pb.btp.subaccount, "the subaccount"
    else:
        assert conn.cf is not None and pb.cf is not None
        org, space = conn.cf.find_org_and_space(pb.cf.org, pb.space_name)
        if org is None:
            raise StepFailed(f"CF org {pb.cf.org!r} not found or not visible")
        if space is None:
            raise StepFailed(f"space {pb.space_name} not found in org {pb.cf.org}; run the playbook first{generated}")
        scope, where = space["guid"], f"space {pb.space_name}"
    inst = platform.find_instance(scope, pb.instance_name)
    if inst is None:
        raise StepFailed(f"instance {pb.instance_name} not found in {where}; run the playbook first{generated}")
    return Located(pool, stats, platform, inst, managed_keys(platform, inst.guid, pb.key_name,
                                                             marked=conn.on_subaccount))


def _delete_key(platform: ServicePlatform, key: ServiceKey, timeout: float) -> None:
    operation = platform.delete_key(key.guid)
    if operation:
        platform.wait_operation(operation, WaitSettings(timeout=timeout), f"delete service key {key.name}")


def rotate(pb: Playbook, say: Callable[[str], None]) -> None:
    """Rotate the playbook's key. Raises :class:`StepFailed` naming the key that still works on failure."""
    found = locate(pb)
    platform, old = found.platform, current_key(found.keys)
    if old is None:
        raise StepFailed(f"no service key {pb.key_name} on instance {pb.instance_name} to rotate; run the playbook")
    keep = f"the old key {old.name} still works"
    new_name = f"{pb.key_name}-{time.strftime('%Y%m%d%H%M%S', time.gmtime())}"
    say(f"create service key {new_name}")
    try:
        operation = platform.create_key(found.instance.guid, new_name)
        if operation:
            platform.wait_operation(operation, WaitSettings(timeout=pb.timeouts.key), f"service key {new_name}")
        new = platform.find_key(found.instance.guid, new_name)
        if new is None:
            raise StepFailed(f"service key {new_name} is missing after its creation")
        creds = platform.key_credentials(new.guid)
    except (ApiError, StepFailed) as exc:
        raise StepFailed(f"rotation stopped creating {new_name}: {exc}; {keep}") from None
    say(f"test service key {new_name}")
    failed = [c for c in test_key(creds, required_scopes=pb.service.required_scopes, pool=found.pool,
                                  stats=found.stats) if not c.passed]
    if failed:
        raise StepFailed(f"the new key {new_name} failed its test ({failed[0].name}: {failed[0].message}); {keep} "
                         f"and {pb.download_path} is unchanged; delete {new_name} with `provisioner revoke` or retry")
    action = write_key_file(pb.download_path, creds, force=True, key_name=new_name)
    kept = "; the old file is kept as .bak" if action == "updated" else ""
    say(f"download service key {new_name} to {pb.download_path} ({action}{kept})")
    for key in found.keys:
        say(f"delete service key {key.name}")
        try:
            _delete_key(platform, key, pb.timeouts.key)
        except (ApiError, StepFailed) as exc:
            raise StepFailed(f"the new key {new_name} is in {pb.download_path} and works, but deleting the old key "
                             f"{key.name} failed: {exc}; re-run `provisioner key rotate` or delete it") from None
    ctype = (creds.get("uaa") or {}).get("credential-type")
    if ctype == "instance-secret":
        say(SHARED_SECRET_NOTE)
    say(LANDSCAPE_CAUTION)


def revoke(pb: Playbook, confirm: Callable[[list[str]], bool], say: Callable[[str], None]) -> int:
    """Delete every key the playbook manages after ``confirm(names)``; return how many were deleted."""
    found = locate(pb)
    names = [k.name for k in found.keys]
    if not names:
        say(f"no service key {pb.key_name} on instance {pb.instance_name}: nothing to revoke")
        return 0
    if not confirm(names):
        say("nothing deleted")
        return 0
    for key in found.keys:
        say(f"delete service key {key.name}")
        _delete_key(found.platform, key, pb.timeouts.key)
    say(f"the local copy {pb.download_path}, if any, can no longer sign in; delete it")
    say(LANDSCAPE_CAUTION)
    return len(names)
