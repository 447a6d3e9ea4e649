"""``provisioner key migrate PLAYBOOK``: move an instance off instance secrets, in the order SAP gives ("Migrate
from Instance Secrets to Binding Secrets", SAP BTP, 2026-03-04; docs/sap-facts.md §6):

1. allow both types: ``oauth2-configuration.credential-types: ["binding-secret", "instance-secret"]`` (new keys
   get binding secrets, the old instance secret keeps signing in);
2. a new key (``NAME-YYYYMMDDhhmmss``) with its own secret, downloaded to the playbook's path (the old file kept
   as ``.bak``) and tested (sign-in, token, scopes);
3. the old keys this tool made are deleted (and the foreign ones ``--include-foreign`` names), after the user
   confirms (``--yes`` in CI);
4. ``instanceSecretLastUsedAt`` (XSUAA Authorization API) must not be later than the new key: something that
   still signs in with the instance secret stops the migration before it breaks (``--skip-usage-check`` when the
   API cannot be read and the admin checked otherwise);
5. ``credential-types: ["binding-secret"]``: the instance secret stops signing in.

Each step is skipped when already done, so an interrupted migration is finished by running it again, and a
migrated instance gets no write at all ("nothing to migrate"). Never on an instance this tool did not make (SAP's
generated credentials) unless ``--include-foreign`` names it; foreign keys that still hold the instance secret stop
it before step 1 unless named too. Holds the key file's lease throughout (:mod:`provisioner.keys.keylease`), as
``key rotate`` does.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from provisioner.clients.xsuaa_api import instance_secret_last_used
from provisioner.engine.handoff import replaced_notes
from provisioner.errors import ApiError, StepFailed
from provisioner.keylife.lifecycle import _create_key, _delete_key, _generation_name, _included, _lease
from provisioner.keylife.locate import Located, locate
from provisioner.keys.keyfile import existing_key, write_key_file
from provisioner.keys.keytest import test_key
from provisioner.platform import HASH_RECORD, XSAPPNAME_RECORD, ServiceKey
from provisioner.playbook.load import Playbook
from provisioner.steps.parameters import (
    INSTANCE_SECRET_TYPES,
    credential_types,
    desired_parameters,
    merged_parameters,
    parameters_hash,
    with_credential_types,
)
from provisioner.waits.wait import WaitSettings

BOTH, BINDING = ["binding-secret", "instance-secret"], ["binding-secret"]


def _ctype(creds: Mapping[str, Any] | None) -> str | None:
    uaa = (creds or {}).get("uaa")
    return str(uaa.get("credential-type")) if isinstance(uaa, Mapping) and uaa.get("credential-type") else None


def _xsappname(pb: Playbook, found: Located, params: Mapping[str, Any] | None) -> str:
    """The xsappname an update sends: the instance's GUID on the subaccount route (SAP's page), else the one it
    has (its parameters, else the record on it), else its name."""
    xs = (params or {}).get("xs-security")
    current = str(xs["xsappname"]) if isinstance(xs, Mapping) and isinstance(xs.get("xsappname"), str) else \
        found.instance.record.get(XSAPPNAME_RECORD) or found.instance.name
    return found.platform.update_xsappname(found.instance, current)


def _types(pb: Playbook, found: Located, params: Mapping[str, Any] | None) -> list[str] | None:
    """The instance's credential types: read from its parameters, else from the record the tool keeps on it."""
    if params is not None:
        return credential_types(params)
    recorded = found.instance.record.get(HASH_RECORD)
    base = desired_parameters(pb.service, _xsappname(pb, found, None), "binding-secret")
    for types in (BINDING, *INSTANCE_SECRET_TYPES):
        if parameters_hash(with_credential_types(base, types)) == recorded:
            return types
    raise StepFailed(f"the credential types of instance {found.instance.name} cannot be read (the broker returns no "
                     "parameters and the record on the instance matches none); run `provisioner run` first")


def _set_types(pb: Playbook, found: Located, params: Mapping[str, Any] | None, types: list[str]) -> None:
    desired = with_credential_types(desired_parameters(pb.service, _xsappname(pb, found, params), "binding-secret"),
                                    types)
    record = {HASH_RECORD: parameters_hash(desired), XSAPPNAME_RECORD: desired["xs-security"]["xsappname"]}
    operation = found.platform.update_instance(found.instance.guid, parameters=merged_parameters(params, desired),
                                               record=record)
    if operation:
        found.platform.wait_operation(operation, WaitSettings(timeout=pb.timeouts.instance),
                                      f"instance {found.instance.name}")


def migrate(pb: Playbook, confirm: Callable[[list[str]], bool], say: Callable[[str], None],
            include_foreign: tuple[str, ...] = (), skip_usage_check: bool = False) -> bool:
    """Migrate the playbook's instance (see the module); → whether anything was written. Raises
    :class:`StepFailed` (naming what still works and how to go on) or :class:`~provisioner.errors.BadInput`."""
    if pb.credential_type == "instance-secret":
        raise StepFailed("service.credential_type is instance-secret: remove it (or set binding-secret) to migrate")
    with _lease(pb, "key migrate", say):
        found = locate(pb)
        inst, platform = found.instance, found.platform
        if not found.own_instance and inst.name not in include_foreign:
            raise StepFailed(f"instance {inst.name} was not made by this tool (SAP's generated credentials?); it is "
                             f"left alone: --include-foreign {inst.name} migrates it")
        params = platform.instance_parameters(inst.guid)
        types = _types(pb, found, params)
        if types is not None and "instance-secret" not in types:
            say(f"instance {inst.name} issues {', '.join(types)} credentials only: nothing to migrate")
            return False
        included = _included(found, include_foreign)
        on_disk = existing_key(Path(pb.download_path))
        held = [k for k in found.keys if _ctype(on_disk) == "binding-secret"
                and platform.key_credentials(k.guid) == on_disk]
        blocking = [k.name for k in found.foreign if k not in included
                    and _ctype(platform.key_credentials(k.guid)) in ("instance-secret", None)]
        if blocking:
            raise StepFailed(f"instance {inst.name} also holds {', '.join(blocking)}, not made by this tool, which may "
                             "hold the instance secret and would stop signing in: give their users new keys, then "
                             "name them with --include-foreign to delete them; nothing was changed")
        old = [k for k in found.keys if k not in held] + included
        new_name = _generation_name(pb.key_name, found.keys + found.foreign)
        say(f"plan for instance {inst.name} (SAP's \"Migrate from Instance Secrets to Binding Secrets\"):")
        say("  1. allow both types (credential-types [binding-secret, instance-secret])" +
            (": done" if types == BOTH else ""))
        say(f"  2. create key {new_name}, download it to {pb.download_path} and test it" +
            (f": done ({held[-1].name})" if held else ""))
        say(f"  3. delete the old key(s): {', '.join(k.name for k in old) or 'none'}")
        say("  4. check instanceSecretLastUsedAt (XSUAA Authorization API)")
        say("  5. drop instance-secret (credential-types [binding-secret]): the old secret stops signing in")
        if not confirm([*(k.name for k in old), f"instance-secret of instance {inst.name}"]):
            say("nothing changed")
            return False
        if types != BOTH:
            say(f"allow binding-secret and instance-secret on instance {inst.name}")
            _set_types(pb, found, params, BOTH)
        new = held[-1] if held else _new_key(pb, found, new_name, say)
        for key in old:
            say(f"delete service key {key.name}")
            _delete_key(platform, key, pb.timeouts.key)
        _usage_check(pb, found, new, skip_usage_check, say)
        say(f"drop instance-secret from instance {inst.name}")
        _set_types(pb, found, platform.instance_parameters(inst.guid), BINDING)
    say(f"instance {inst.name} issues binding-secret credentials only; {pb.download_path} holds key {new.name}; the "
        "old instance secret (and any copy of the old key file) no longer signs in")
    for note in replaced_notes(pb.download_path):
        say(note)
    return True


def _new_key(pb: Playbook, found: Located, name: str, say: Callable[[str], None]) -> ServiceKey:
    """Step 2: create, read, test and download the binding-secret key ``name``."""
    say(f"create service key {name}")
    try:
        new, creds = _create_key(pb, found, name)
    except (ApiError, StepFailed) as exc:
        raise StepFailed(f"migration stopped creating {name}: {exc}; the old keys still work") from None
    if _ctype(creds) != "binding-secret":
        raise StepFailed(f"the new key {name} is {_ctype(creds)}, not binding-secret; the old keys still work")
    failed = [c for c in test_key(creds, required_scopes=pb.service.required_scopes, pool=found.pool,
                                  stats=found.stats) if not c.passed]
    if failed:
        raise StepFailed(f"the new key {name} failed its test ({failed[0].name}: {failed[0].message}); the old keys "
                         f"still work and {pb.download_path} is unchanged")
    action = write_key_file(pb.download_path, creds, force=True, key_name=name)
    say(f"download service key {name} to {pb.download_path} ({action}; tested"
        + ("; the old file is kept as .bak)" if action == "updated" else ")"))
    return new


def _usage_check(pb: Playbook, found: Located, new: ServiceKey, skip: bool, say: Callable[[str], None]) -> None:
    """Step 4: stop when the instance secret signed in after the new key was made."""
    if skip:
        say("instanceSecretLastUsedAt not checked (--skip-usage-check)")
        return
    creds = found.platform.key_credentials(new.guid)
    try:
        used = instance_secret_last_used(creds, pool=found.pool, stats=found.stats)
    except (ApiError, StepFailed) as exc:
        raise StepFailed(f"could not read instanceSecretLastUsedAt ({exc}); instance-secret is still allowed: check "
                         "it with SAP's Authorization API (GET /sap/rest/authorization/v2/apps/{id}), then re-run "
                         "with --skip-usage-check") from None
    made = found.platform.read_key(new.guid).created_at or ""
    since = dt.datetime.fromisoformat(made.replace("Z", "+00:00")) if made else None
    if used is not None and since is not None and used > since:
        raise StepFailed(f"the instance secret of {found.instance.name} signed in at {used:%Y-%m-%d %H:%M:%S} UTC, "
                         f"after the new key was made ({since:%Y-%m-%d %H:%M:%S} UTC): something still uses it (a "
                         "managed system with the old key?); give it the new key, then re-run `provisioner key "
                         "migrate`; instance-secret is still allowed")
    say("instanceSecretLastUsedAt: " + (f"{used:%Y-%m-%d %H:%M:%S} UTC, before the new key" if used else "never"))
