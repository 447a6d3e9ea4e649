"""Step 4, service key: find the service key (a service credential binding of type ``key``) by name on the
instance, else create it (``POST /v3/service_credential_bindings``, 202 + job) and wait for it. A 422 "name is
taken" (a parallel run) re-reads and adopts. Seed 003 "Create a Service Key"; reference CF v3 §8.
"""

from __future__ import annotations

import re
from typing import Any

from provisioner.errors import ApiError, StepFailed
from provisioner.steps.base import CREATE, NONE, UPDATE, Change, Context, Step
from provisioner.wait import poll

IN_PROGRESS = ("initial", "in progress")
GENERATION = re.compile(r"-\d{14}$")  # NAME-YYYYMMDDhhmmss: a key made by `provisioner key rotate`


def managed_keys(cf, instance_guid: str, name: str) -> list[dict[str, Any]]:
    """The playbook's keys on the instance, oldest first: ``NAME`` and its rotations ``NAME-YYYYMMDDhhmmss``."""
    keys = [k for k in cf.list_keys(instance_guid)
            if k.get("name") == name or (str(k.get("name", "")).startswith(name + "-")
                                         and GENERATION.fullmatch(k["name"][len(name):]))]
    return sorted(keys, key=lambda k: (k.get("created_at") or "", k.get("name") or ""))


def current_key(keys: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The newest key that is not being deleted (the one the playbook's download path should hold)."""
    live = [k for k in keys if _op(k).get("type") != "delete"]
    return live[-1] if live else None


def _op(key: dict[str, Any]) -> dict[str, Any]:
    return key.get("last_operation") or {}


class KeyStep(Step):
    name = "key"

    def read(self, ctx: Context) -> dict[str, Any] | None:
        inst = ctx.facts.get("instance")
        if inst is None or "instance" in ctx.pending:
            return None
        return current_key(managed_keys(ctx.cf, inst["guid"], ctx.playbook.key_name))

    def compare(self, ctx: Context, key: dict[str, Any] | None) -> Change:
        name = ctx.playbook.key_name
        if key is None and self.locate:
            raise StepFailed(f"service key {name} not found on instance {ctx.playbook.instance_name}; set "
                             "steps.key.name to the generated key's name (or steps.mode: create to create one)")
        if key is None:
            ctx.pending.add("key")
            where = " (on the new instance)" if "instance" in ctx.pending else ""
            return Change(CREATE, [f"create service key {name}{where}"])
        name = key["name"]
        op = _op(key)
        if op.get("state") in IN_PROGRESS:
            ctx.facts["key"] = key
            return Change(UPDATE, [f"service key {name} is being created; wait for it"])
        if op.get("state") == "failed":
            ctx.pending.add("key")
            return Change(CREATE, [f"the last {op.get('type')} of service key {name} failed; create it again"])
        ctx.facts["key"] = key
        return Change(NONE, [f"service key {name} exists"])

    def apply(self, ctx: Context, key: dict[str, Any] | None, change: Change) -> None:
        pb = ctx.playbook
        inst = ctx.facts["instance"]
        if change.action == CREATE:
            ctx.facts["key_created"] = True
            guid = None
            try:
                job = ctx.cf.create_key(inst["guid"], pb.key_name)
                if job:
                    done = ctx.cf.wait_job(job, ctx.wait_settings(pb.timeouts.key), f"service key {pb.key_name}")
                    guid = ctx.cf.job_resource_guid(done, "service_credential_binding")
            except ApiError as exc:
                if exc.status != 422 or "must be unique" not in exc.detail:
                    raise
                change.reasons.append("adopted the key a parallel run created")
            key = {"guid": guid} if guid else ctx.cf.find_key(inst["guid"], pb.key_name)
            if key is None:
                raise StepFailed(f"service key {pb.key_name} is gone right after its creation; re-run")
        assert key is not None
        ctx.facts["key"] = self.wait(ctx, key["guid"])
        ctx.pending.discard("key")

    def wait(self, ctx: Context, guid: str) -> dict[str, Any]:
        name = ctx.playbook.key_name

        def done(key: dict[str, Any]) -> bool:
            if _op(key).get("state") == "failed":
                raise StepFailed(f"service key {name}: {_op(key).get('type')} failed: "
                                 f"{_op(key).get('description') or 'no detail'}")
            return _op(key).get("state") in ("succeeded", None)

        return poll(lambda: ctx.cf.get_key(guid), done, settings=ctx.wait_settings(ctx.playbook.timeouts.key),
                    what=f"service key {name}", describe=lambda k: f"last_operation is {_op(k).get('state')}")
