"""Step 4, service key ("Create a Service Key" in SAP's setup guide): find the service key by name on the
instance, else create it and wait for it. A create that finds the name taken (a parallel run) adopts that key.
A key whose creation is already running is waited for (:attr:`Action.WAIT`). Several generations of the key made by
this tool (``NAME``, ``NAME-YYYYMMDDhhmmss``: a rotation killed midway) converge to one: the one the local key file
holds (else the newest) is kept, the others are deleted (:attr:`Action.UPDATE`, saying which). Talks only to the
:class:`~provisioner.platform.ServicePlatform`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from provisioner.errors import NameTaken, NotFound, StepFailed
from provisioner.keys.keyfile import existing_key
from provisioner.platform import Operation, ServiceKey, ServicePlatform, settle_key
from provisioner.platform.generated import per_system
from provisioner.platform.generations import GENERATION, Replaced, made_here, now_utc, replaced
from provisioner.playbook.load import Playbook
from provisioner.steps.base import Action, Change, Env, Output, Step, Upstream
from provisioner.steps.generated import listed
from provisioner.steps.instance import InstanceOutput
from provisioner.steps.parameters import key_parameters
from provisioner.waits.wait import started


def managed_keys(platform: ServicePlatform, instance: str, name: str) -> list[ServiceKey]:
    """The playbook's keys on the instance (guid), oldest first: ``NAME`` and its rotations
    ``NAME-YYYYMMDDhhmmss``, none the platform tells is someone else's (Service Manager: only bindings carrying this
    tool's label). Never a per-system binding (``<SID>_<client>_<system number>``)."""
    keys = [k for k in platform.list_keys(instance)
            if (k.name == name or (k.name.startswith(name + "-") and GENERATION.fullmatch(k.name[len(name):])))
            and not per_system(k.name) and not platform.foreign(k.record)]
    return sorted(keys, key=lambda k: (k.created_at or "", k.name))


def current_key(keys: list[ServiceKey]) -> ServiceKey | None:
    """The newest key that is not being deleted (the one the playbook's download path should hold)."""
    live = [k for k in keys if k.last_operation.type != "delete"]
    return live[-1] if live else None


@dataclass(frozen=True)
class KeyObservation:
    """``instance``: the instance guid (None when the instance step will create it); ``key``: the current managed
    key (None: none)."""

    instance: str | None
    key: ServiceKey | None = None
    #: located at subaccount level: why discovery chose ``key``
    located: str | None = None
    #: keys to delete: generations made by this tool newer than ``key`` (a rotation killed midway) and the keys
    #: rotations replaced whose ``rotation.grace`` has passed (``retiring``)
    superseded: tuple[ServiceKey, ...] = ()
    retiring: tuple[Replaced, ...] = ()
    #: keys rotations replaced that are still in their grace period (or wait for `key retire`)
    waiting: tuple[Replaced, ...] = ()
    #: the local key file holds ``key`` (False: none of the keys; its file may then be replaced)
    in_file: bool = True
    #: locating, the named key missing: the names of the instance's keys
    others: tuple[str, ...] = ()
    #: what a key is called on the platform (``service key``, ``service binding``), for messages
    kind: str = "service key"


@dataclass(frozen=True)
class KeyOutput(Output):
    """The key, settled; ``created``: this run created it (a file of an older key may then be replaced)."""

    key: ServiceKey
    created: bool = False
    #: superseded generations were removed and the local file held none of the keys: it may be replaced
    replaces_file: bool = False
    #: the key's credentials when the wait for its create read them (secrets: never print them); None: not read
    credentials: Mapping[str, Any] | None = field(default=None, repr=False, compare=False)


class KeyStep(Step[KeyObservation, KeyOutput]):
    name = "key"
    needs = ("instance",)

    def read(self, env: Env, upstream: Upstream) -> KeyObservation:
        return replace(self._read(env, upstream), kind=env.platform.key_kind())

    def _read(self, env: Env, upstream: Upstream) -> KeyObservation:
        inst = upstream.output("instance", InstanceOutput)
        if inst is None:
            return KeyObservation(None)
        guid = inst.instance.guid
        if self.locate and (loc := env.platform.locate_key(inst.instance, env.settings)) is not None:
            family = list(loc.family) or [loc.key]
            how = "named in the playbook (steps.key.name)" if env.settings.pinned_key else \
                "generated with the tenant (found by creator)"
            found = self._generations(env, guid, family, {k.guid for k in family if made_here(k, True)})
            assert found.key is not None
            if made_here(found.key, True):
                how = "this tool's rotation of the binding generated with the tenant"
            return replace(found, located=f"binding {found.key.name!r} of instance {inst.instance.name!r}: {how}")
        if inst.created and not self.locate and not env.again:
            # this run just created the instance: it has no key yet (one a parallel run makes meanwhile is adopted
            # when the create finds its name taken; after a transient failure the keys are listed)
            return KeyObservation(guid)
        keys = managed_keys(env.platform, guid, env.settings.key_name)
        live = [k for k in keys if k.last_operation.type != "delete"]
        if self.locate and not live:
            return KeyObservation(guid, None, others=tuple(k.name for k in env.platform.list_keys(guid)))
        # locating SAP's generated key: only its rotations (NAME-YYYYMMDDhhmmss) are this tool's
        return self._generations(env, guid, keys, {k.guid for k in keys
                                                   if not self.locate or k.name != env.settings.key_name})

    @staticmethod
    def _generations(env: Env, guid: str, keys: list[ServiceKey], own: set[str]) -> KeyObservation:
        """The key in use among ``keys`` (oldest first; the one the key file holds, else the newest), the tool's
        (``own``) newer ones to delete, and the keys rotations replaced: retiring (``rotation.grace`` passed) or
        waiting (:mod:`provisioner.platform.generations`)."""
        live = [k for k in keys if k.last_operation.type != "delete"]
        if len(live) < 2:
            return KeyObservation(guid, current_key(keys))
        on_disk = existing_key(Path(env.settings.download_path))
        held = [k for k in live if on_disk and env.platform.key_credentials(k.guid) == on_disk]
        key = (held or live)[-1]
        newer = [k for k in live[live.index(key) + 1:] if k.guid in own]
        found = replaced(live, key, own, env.settings.rotation.grace_seconds)
        now = now_utc()
        due = tuple(r for r in found if r.is_due(now))
        return KeyObservation(guid, key, superseded=(*newer, *(r.key for r in due)), in_file=bool(held),
                              retiring=due, waiting=tuple(r for r in found if not r.is_due(now)))

    def reread(self, env: Env, upstream: Upstream, observation: KeyObservation, output: KeyOutput) -> KeyObservation:
        """After waiting for the key: the key as the wait last read it (``output``), the other generations as read
        before (an update reads them all again; a run holds the key file's lease, :mod:`provisioner.keys.keylease`)."""
        if observation.instance is None or observation.located is not None:
            return self.read(env, upstream)
        return replace(observation, key=output.key)

    def compare(self, settings: Playbook, observation: KeyObservation, upstream: Upstream) -> Change:
        name = settings.key_name
        key = observation.key
        kind = observation.kind
        if observation.superseded and key is not None and key.last_operation.succeeded:
            return Change.of(Action.UPDATE, *_removals(observation, kind, name))
        waiting = "".join(f"; keeps {r.key.name}, which {r.by.name} replaced, " + (
            f"until {r.due:%Y-%m-%d %H:%M} UTC (rotation.grace)" if r.due else "until `provisioner key retire`")
            for r in observation.waiting)
        if observation.located is not None:
            return Change.of(Action.NONE, f"found {observation.located}; left as it is{waiting}")
        if per_system(name):
            raise StepFailed(f"steps.key.name {name} has the pattern of SAP's per-system bindings "
                             "(<SID>_<client>_<system number>), which conflict with them; choose another name")
        if key is None and self.locate:
            found = listed(list(observation.others), 5)
            raise StepFailed(f"service key {name} not found on instance {settings.instance_name}; found there: "
                             f"{found}; set steps.key.name to the generated key's name (or steps.mode: create to "
                             "create one)")
        if key is None:
            where = " (on the new instance)" if upstream.planned("instance", Action.CREATE) else ""
            return Change.of(Action.CREATE, f"create {kind} {name}{where}")
        op = key.last_operation
        if op.in_progress:
            return Change.of(Action.WAIT, f"{kind} {key.name} is being created; wait for it")
        if op.failed:
            return Change.of(Action.CREATE, f"the last {op.type} of {kind} {key.name} failed; create it "
                                            "again")
        return Change.of(Action.NONE, f"{kind} {key.name} exists{waiting}")

    def apply(self, env: Env, observation: KeyObservation, change: Change, upstream: Upstream) -> KeyOutput:
        pb = env.settings
        instance = observation.instance
        if instance is None:
            raise StepFailed(f"no instance {pb.instance_name} for service key {pb.key_name}")
        if change.action is Action.WAIT:
            assert observation.key is not None
            return KeyOutput(self._settle(env, observation.key.guid), recheck=True)
        if change.action is Action.UPDATE and observation.key is not None and observation.superseded:
            observation = self.read(env, upstream)  # the run holds the key file's lease: after any rotation
            for old in observation.superseded:
                self._delete(env, old)
            assert observation.key is not None
            removed = ", ".join(k.name for k in observation.superseded) or "nothing (a rotation had finished)"
            return KeyOutput(observation.key, replaces_file=not observation.in_file, notes=(f"removed {removed}",))
        guid: str | None = None
        credentials: dict[str, Any] | None = None
        notes: tuple[str, ...] = ()
        try:
            operation, origin = started(lambda: env.platform.create_key(instance, pb.key_name, key_parameters(pb)))
            if operation is not None:
                guid, credentials = env.platform.wait_key(
                    operation, replace(env.wait_settings(pb.timeouts.key), origin=origin), f"service key {pb.key_name}")
        except NameTaken:
            notes = ("adopted the key a parallel run created",)
        if guid is not None:  # the completed operation names the key: its create succeeded, no re-read
            return KeyOutput(ServiceKey(guid, pb.key_name, Operation("create", "succeeded"),
                                        record=env.platform.as_made({})), created=True, credentials=credentials)
        found = env.platform.find_key(instance, pb.key_name)
        if found is None:
            raise StepFailed(f"service key {pb.key_name} is gone right after its creation; re-run")
        if notes and env.platform.foreign(found.record):
            raise StepFailed(f"a binding named {pb.key_name} exists on the instance and was not made by this tool "
                             "(no label provisioner/managed-by); it is left alone: choose another steps.key.name")
        return KeyOutput(self._settle(env, found.guid), created=True, notes=notes)

    def current(self, observation: KeyObservation) -> KeyOutput | None:
        """The key when it is usable (its last operation succeeded), else None."""
        key = observation.key
        return KeyOutput(key) if key is not None and key.last_operation.succeeded else None

    @staticmethod
    def _delete(env: Env, key: ServiceKey) -> None:
        """Delete a superseded generation and wait; one already gone is fine."""
        try:
            operation = env.platform.delete_key(key.guid)
        except NotFound:
            return
        if operation:
            env.platform.wait_operation(operation, env.wait_settings(env.settings.timeouts.key),
                                        f"delete service key {key.name}")

    @staticmethod
    def _settle(env: Env, guid: str) -> ServiceKey:
        return settle_key(env.platform, guid, env.wait_settings(env.settings.timeouts.key),
                          f"service key {env.settings.key_name}")


def _removals(observation: KeyObservation, kind: str, name: str) -> list[str]:
    """Why the key step deletes keys: generations a stopped rotation left, and keys past their grace period."""
    assert observation.key is not None
    retiring = {r.key.guid for r in observation.retiring}
    stopped = [k.name for k in observation.superseded if k.guid not in retiring]
    why = "the one in the key file" if observation.in_file else "the newest; the key file holds none"
    out = [f"remove superseded generation(s) {', '.join(stopped)} of {kind} {name} made by this tool (a rotation "
           f"stopped midway); keep {observation.key.name} ({why})"] if stopped else []
    out += [f"retire {r.key.name}: {r.by.name} replaced it, and rotation.grace has passed since" for r in
            observation.retiring]
    return out
