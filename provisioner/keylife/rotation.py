"""``provisioner key rotate`` with a grace period, and ``provisioner key retire``: as Cloud Foundry's credential
rotation RFC and crossplane's ServiceBinding rotation do, a rotation makes a second key and keeps the old one, so
that Landscape Management and managed systems move to the new key before the old one stops signing in.

Rotation creates ``<name>-<UTC YYYYMMDDhhmmss>`` (recording the key it replaces,
:mod:`provisioner.platform.generations`), waits for it, tests it (sign-in, token, scopes) and writes it to the
download path (the old file kept as ``.bak``); the old key is kept and still signs in. ``key retire`` (or ``key
rotate --retire``) deletes the keys rotations replaced, after a confirmation; a plain ``run`` does once
``rotation.grace`` has passed. A key this tool did not make (SAP's generated binding ``binding-key-…``) is rotated
only when ``--include-foreign`` names it. On an ``instance-secret`` key nothing is created or deleted: all keys
of the instance share its secret (XSUAA "Service Instance Secrets"), and ``key migrate`` is the way to a new one.
Each command holds the key file's lease throughout (:mod:`provisioner.keys.keylease`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from provisioner.engine.handoff import replaced_notes
from provisioner.errors import ApiError, StepFailed
from provisioner.keylife.lifecycle import _create_key, _delete_key, _generation_name, _included, _lease, _the_key_in
from provisioner.keylife.locate import Located, locate
from provisioner.keys.keyfile import write_key_file
from provisioner.keys.keytest import test_key
from provisioner.platform import ServiceKey
from provisioner.platform.generations import SUPERSEDES, Replaced, base_name, replaced
from provisioner.playbook.load import Playbook
from provisioner.steps.parameters import key_parameters

Confirm = Callable[[list[str]], bool]
SHARED_SECRET = (
    "nothing was created or deleted: key {key} is instance-secret, and all keys of instance {instance} share the "
    "instance's secret (XSUAA \"Service Instance Secrets\"), so a new key would sign in with the same secret. For "
    "a secret per key: `provisioner key migrate {playbook}` (SAP's \"Migrate from Instance Secrets to Binding "
    "Secrets\"), then `key rotate`")


def _retire_hint(pb: Playbook, since: ServiceKey) -> str:
    grace = pb.rotation.grace
    when = f"; a `provisioner run` retires it once rotation.grace ({grace}) has passed" if grace else \
        " (rotation.grace in the playbook lets a later `provisioner run` retire it)"
    return f"`provisioner key retire {pb.source}` deletes it once {since.name} is in Landscape Management{when}"


def rotate(pb: Playbook, say: Callable[[str], None], include_foreign: tuple[str, ...] = (), *,
           retire_old: bool = False, confirm: Confirm | None = None) -> None:
    """Rotate the playbook's key (see the module); with ``retire_old`` then delete the keys it and earlier
    rotations replaced after ``confirm(names)``. Raises :class:`StepFailed` naming the key that still works,
    :class:`~provisioner.errors.BadInput` for an ``include_foreign`` name that is no key of the instance."""
    with _lease(pb, "key rotate", say):
        found = locate(pb)
        included = _included(found, include_foreign)
        old = _the_key_in(pb.download_path, found, found.family)
        if old is None:
            raise StepFailed(f"no key to rotate on instance {found.instance.name}: run the playbook first")
        creds = found.platform.key_credentials(old.guid)
        if (creds.get("uaa") or {}).get("credential-type") == "instance-secret":
            say(SHARED_SECRET.format(key=old.name, instance=found.instance.name, playbook=pb.source))
            return
        if old not in found.keys and old not in included:
            raise StepFailed(f"key {old.name} of instance {found.instance.name} was not made by this tool (generated "
                             f"with the tenant); nothing was changed; `provisioner key rotate --include-foreign "
                             f"{old.name} {pb.source}` makes a new key beside it and keeps it until `key retire`")
        new = _new_key(pb, found, old, included, say)
        say(f"kept {old.name}: it still signs in; " + _retire_hint(pb, new))
        retired = 0
        if retire_old:
            assert confirm is not None
            retired = _retire(pb, found, new, found.family + [new], confirm, say)
    notes = replaced_notes(pb.download_path)
    for note in notes if retired else notes[:1]:  # the old key's deletion note only once one was deleted
        say(note)


def _new_key(pb: Playbook, found: Located, old: ServiceKey, included: list[ServiceKey],
             say: Callable[[str], None]) -> ServiceKey:
    """Create, read, test and download the key replacing ``old`` (and ``included``); → the new key."""
    keep = f"the old key {old.name} still works"
    name = _generation_name(base_name(old.name), found.family + found.foreign)
    replaces = [old, *(k for k in included if k is not old)]
    say(f"plan: create {name} on instance {found.instance.name} beside {', '.join(k.name for k in replaces)} "
        f"(kept: both sign in until retired), test it and download it to {pb.download_path}")
    say(f"create service key {name}")
    try:
        new, creds = _create_key(pb, found, name, key_parameters(pb), {SUPERSEDES: ",".join(k.guid for k in replaces)})
    except (ApiError, StepFailed) as exc:
        raise StepFailed(f"rotation stopped creating {name}: {exc}; {keep}") from None
    say(f"test service key {name}")
    failed = [c for c in test_key(creds, required_scopes=pb.service.required_scopes, pool=found.pool,
                                  stats=found.stats) if not c.passed]
    if failed:
        raise StepFailed(f"the new key {name} failed its test ({failed[0].name}: {failed[0].message}); {keep} and "
                         f"{pb.download_path} is unchanged; delete {name} with `provisioner revoke` or retry")
    action = write_key_file(pb.download_path, creds, force=True, key_name=name)
    kept = "; the old file is kept as .bak" if action == "updated" else ""
    say(f"download service key {name} to {pb.download_path} ({action}{kept})")
    return new


def retire(pb: Playbook, confirm: Confirm, say: Callable[[str], None]) -> int:
    """``key retire``: delete the keys rotations replaced (older than the key in use: the one the key file holds,
    else the newest), whatever ``rotation.grace`` says, after ``confirm(names)``; → how many were deleted."""
    with _lease(pb, "key retire", say):
        found = locate(pb)
        current = _the_key_in(pb.download_path, found, found.family)
        if current is None:
            say(f"no key on instance {found.instance.name}: nothing to retire")
            return 0
        return _retire(pb, found, current, found.family, confirm, say)


def _retire(pb: Playbook, found: Located, current: ServiceKey, family: list[ServiceKey], confirm: Confirm,
            say: Callable[[str], None]) -> int:
    own = {k.guid for k in found.keys} | ({current.guid} if current not in found.family else set())
    targets = replaced(family, current, own, pb.rotation.grace_seconds)
    if not targets:
        say(f"nothing to retire: no key on instance {found.instance.name} was replaced by a rotation "
            f"({current.name} is in use)")
        return 0
    for r in targets:
        say(f"retire {r.key.name}: replaced by {r.by.name}{_since(r)}; it stops signing in")
    if not confirm([r.key.name for r in targets]):
        say("nothing deleted")
        return 0
    for r in targets:
        say(f"delete service key {r.key.name}")
        _delete_key(found.platform, r.key, pb.timeouts.key)
    say(f"{current.name} is the key in use ({pb.download_path}); delete the retired key(s) in Landscape "
        "Management too, if it still holds one")
    return len(targets)


def _since(r: Replaced) -> str:
    if r.by.created_at is None:
        return ""
    if r.due is None:
        return f" on {r.by.created_at}"
    left = r.due - dt.datetime.now(dt.UTC)
    return f" on {r.by.created_at}" + ("" if left.total_seconds() <= 0 else
                                       f", {left.days} day(s) before rotation.grace ends")
