"""The key's life after it exists: revocation of the service keys a playbook manages (rotation and retirement:
:mod:`provisioner.keylife.rotation`; where the keys are: :mod:`provisioner.keylife.locate`), and the helpers they share.

Revocations of one key file hold its lease for their whole duration (:mod:`provisioner.keys.keylease`: an exclusive
``flock`` on ``.<file>.lease`` beside the key file, released by the system when the process is killed; a held
lease is waited for at most the playbook's longest step timeout, saying who holds it), so overlapping rotations
and revocations run one after the other and none deletes a key another one downloaded. Revocation deletes every
key the playbook manages.

Credentials this tool did not create are never deleted unless ``include_foreign`` names them: SAP's generated
ones (a playbook that locates its credentials), per-system bindings, other tools' keys.

On the subaccount route the keys are Service Manager bindings of the subaccount-level instance, and only bindings
carrying this tool's label are managed: the binding generated with the tenant (``binding-key-…``) and per-system
bindings (``<SID>_<client>_<system number>``) are never touched. Each binding has its own secret
(``binding-secret``), so a rotation changes the secret and the replaced binding's secret stops signing in.

Note (XSUAA "Service Instance Secrets"): with ``instance-secret`` credentials all keys of an instance share the
instance's secret, so a new key does not change the secret; ``binding-secret`` keys each have their own.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

from provisioner.engine.handoff import replaced_notes
from provisioner.engine.runner import run as run_playbook
from provisioner.errors import BadInput, NotFound, StepFailed
from provisioner.keylife.locate import Located, locate
from provisioner.keys import keylease
from provisioner.keys.keyfile import existing_key
from provisioner.platform import ServiceKey, ServicePlatform
from provisioner.platform.generated import per_system
from provisioner.platform.generations import GENERATION
from provisioner.playbook.load import Playbook
from provisioner.steps.key import current_key
from provisioner.steps.parameters import holds_instance_secret
from provisioner.waits.wait import WaitSettings

SECRET_STAYS = (
    "the secret stays valid while instance {instance} exists: its keys share the instance's secret "
    "(instance-secret), so deleting keys does not revoke it and {path}, if any, may still sign in; `provisioner "
    "revoke --recreate-instance` deletes the instance and its keys and creates them again with a new secret")


def _included(found: Located, include_foreign: tuple[str, ...]) -> list[ServiceKey]:
    """The foreign keys ``--include-foreign`` names; a name that is no foreign key of the instance is bad input."""
    names = {k.name for k in found.foreign}
    unknown = [n for n in include_foreign if n not in names and n != found.instance.name]
    if unknown:
        raise BadInput(f"--include-foreign {unknown[0]}: no such key on instance {found.instance.name} that this "
                       f"tool did not make (found: {', '.join(sorted(names)) or 'none'})")
    return [k for k in found.foreign if k.name in include_foreign]


def _say_kept(pb: Playbook, found: Located, included: list[ServiceKey], say: Callable[[str], None]) -> None:
    """Name the keys left alone and why: SAP's generated key, per-system bindings, keys of other purposes or
    tools."""
    def why(key: ServiceKey) -> str:
        if per_system(key.name):
            return "a per-system binding"
        if key.name == pb.key_name or key.name.startswith(pb.steps.generated.binding_prefix):
            return "generated with the tenant"
        return "another purpose's or another tool's key"

    for key in found.foreign:
        if key not in included:
            say(f"kept {key.name}: not made by this tool for this key ({why(key)}); --include-foreign {key.name} "
                "deletes it")


def _generation_name(name: str, keys: list[ServiceKey]) -> str:
    """``NAME-YYYYMMDDhhmmss`` (UTC now), one second after the newest existing generation when that is later."""
    stamps = [int(k.name[-14:]) for k in keys if k.name.startswith(name + "-") and GENERATION.fullmatch(
        k.name[len(name):])]
    now = time.time()
    if stamps:
        newest = time.mktime(time.strptime(str(max(stamps)), "%Y%m%d%H%M%S")) - time.timezone
        now = max(now, newest + 1)
    return f"{name}-{time.strftime('%Y%m%d%H%M%S', time.gmtime(now))}"


def _delete_key(platform: ServicePlatform, key: ServiceKey, timeout: float) -> None:
    """Delete a key and wait; one already gone is fine."""
    try:
        operation = platform.delete_key(key.guid)
    except NotFound:
        return
    if operation:
        platform.wait_operation(operation, WaitSettings(timeout=timeout), f"delete service key {key.name}")


def _create_key(pb: Playbook, found: Located, name: str, parameters: Mapping[str, Any] | None = None,
                record: Mapping[str, str] | None = None) -> tuple[ServiceKey, dict[str, Any]]:
    """Create the key ``name`` of the located instance, wait for its operation (``timeouts.key``) and read it →
    (the key, its credentials). Raises :class:`ApiError` or :class:`StepFailed` (the key missing afterwards)."""
    platform = found.platform
    operation = platform.create_key(found.instance.guid, name, parameters, record)
    if operation:
        platform.wait_operation(operation, WaitSettings(timeout=pb.timeouts.key), f"service key {name}")
    new = platform.find_key(found.instance.guid, name)
    if new is None:
        raise StepFailed(f"service key {name} is missing after its creation")
    return new, platform.key_credentials(new.guid)


def _the_key_in(path: str, found: Located, keys: list[ServiceKey]) -> ServiceKey | None:
    """The newest of ``keys`` whose credentials the file at ``path`` holds, else the newest live one."""
    on_disk = existing_key(Path(path))
    live = [k for k in keys if k.last_operation.type != "delete"]
    if on_disk and len(live) > 1:
        held = [k for k in live if found.platform.key_credentials(k.guid) == on_disk]
        if held:
            return held[-1]
    return current_key(keys)


def revoke(pb: Playbook, confirm: Callable[[list[str]], bool], say: Callable[[str], None],
           include_foreign: tuple[str, ...] = (), recreate_instance: bool = False) -> int:
    """Delete every key this tool made for the playbook (and the foreign keys ``include_foreign`` names) after
    ``confirm(names)``; return how many were deleted. With ``recreate_instance``: :func:`recreate`. Holds the key
    file's lease throughout (as :func:`rotate` does)."""
    with _lease(pb, "revoke", say):
        return _revoke(pb, confirm, say, include_foreign, recreate_instance)


def _lease(pb: Playbook, command: str, say: Callable[[str], None]) -> AbstractContextManager[None]:
    """The lease of the playbook's key file (:func:`provisioner.keys.keylease.hold`), held for the tenant."""
    return keylease.hold(pb.download_path, tenant=pb.tenant.subdomain, command=f"provisioner {command} {pb.source}",
                         wait=keylease.lease_wait(pb), say=say)


def _revoke(pb: Playbook, confirm: Callable[[list[str]], bool], say: Callable[[str], None],
            include_foreign: tuple[str, ...], recreate_instance: bool) -> int:
    found = locate(pb)
    included = _included(found, include_foreign)
    if recreate_instance:
        return recreate(pb, found, include_foreign, confirm, say)
    shared = holds_instance_secret(pb.download_path, lambda: found.platform.instance_parameters(found.instance.guid))
    targets = found.keys + included
    if not targets:
        say(f"no service key made by this tool on instance {found.instance.name}: nothing to revoke")
        _say_kept(pb, found, included, say)
        return 0
    if not confirm([k.name for k in targets]):
        say("nothing deleted")
        return 0
    for key in targets:
        say(f"delete service key {key.name}")
        _delete_key(found.platform, key, pb.timeouts.key)
    _say_kept(pb, found, included, say)
    if shared:
        say(SECRET_STAYS.format(instance=found.instance.name, path=pb.download_path))
    else:
        say(f"the local copy {pb.download_path}, if any, can no longer sign in; delete it")
    for note in replaced_notes(""):
        say(note)
    return len(targets)


def recreate(pb: Playbook, found: Located, include_foreign: tuple[str, ...], confirm: Callable[[list[str]], bool],
             say: Callable[[str], None]) -> int:
    """``revoke --recreate-instance``: say the plan, ``confirm(names)``, delete the instance's keys and the
    instance (its secret with it), then run the playbook to create them again (a new secret) and download the new
    key (the old file kept as .bak). Refuses (:class:`StepFailed`) an instance or keys this tool did not make
    unless ``--include-foreign`` names them. Returns the number of keys deleted."""
    inst, included = found.instance, _included(found, include_foreign)
    if not found.own_instance and inst.name not in include_foreign:
        raise StepFailed(f"instance {inst.name} was not made by this tool; --include-foreign {inst.name} to "
                         "delete and re-create it")
    left = [k.name for k in found.foreign if k not in included]
    if left:
        raise StepFailed(f"instance {inst.name} also holds {', '.join(left)}, not made by this tool; name them with "
                         "--include-foreign to delete them with the instance")
    targets = found.keys + included
    keys = f"service key{'s' if len(targets) > 1 else ''} {', '.join(k.name for k in targets)} and " if targets else ""
    held = "its secret with it" if targets else "it holds no service key; its secret goes with it"
    say(f"plan: delete {keys}instance {inst.name} ({held}), then create instance {pb.instance_name} and key "
        f"{pb.key_name} again (a new secret) and download it to {pb.download_path}")
    if not confirm([*(k.name for k in targets), f"instance {inst.name}"]):
        say("nothing deleted")
        return 0
    for key in targets:
        say(f"delete service key {key.name}")
        _delete_key(found.platform, key, pb.timeouts.key)
    say(f"delete instance {inst.name}")
    operation = found.platform.delete_instance(inst.guid)
    if operation:
        found.platform.wait_operation(operation, WaitSettings(timeout=pb.timeouts.instance),
                                      f"delete instance {inst.name}")
    result = run_playbook(pb, force=True)
    bad = next((s for s in result.steps if s.error), None)
    if bad is not None:
        raise StepFailed(f"the instance was deleted, but re-creating it failed at {bad.step}: {bad.error}; re-run "
                         "`provisioner run`")
    say(f"instance {pb.instance_name} and key {pb.key_name} created again with a new secret; {pb.download_path} "
        "holds the new key (the old file is kept as .bak) and the old key no longer signs in")
    for note in replaced_notes(pb.download_path):
        say(note)
    return len(targets)

