"""Step 5, download: write the key's credentials (the bare object, as the cockpit's download) to the output path,
atomically with mode 0600. Same content there → unchanged; different content → refused unless ``--force`` (the old
file is then kept as a .bak). Credentials come from ``GET /v3/service_credential_bindings/:guid/details``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from provisioner.errors import StepFailed
from provisioner.keyfile import existing_key, write_key_file
from provisioner.steps.base import CREATE, NONE, UPDATE, Change, Context, Step


@dataclass
class Observed:
    credentials: dict[str, Any] | None
    on_disk: dict[str, Any] | None


class DownloadStep(Step):
    name = "download"

    def read(self, ctx: Context) -> Observed:
        key = ctx.facts.get("key")
        creds = None
        if key is not None and "key" not in ctx.pending:
            creds = ctx.cf.key_credentials(key["guid"])
        return Observed(creds, existing_key(Path(ctx.playbook.download_path)))

    def compare(self, ctx: Context, observed: Observed) -> Change:
        change = self._compare(ctx, observed)
        if change.action != NONE:
            ctx.pending.add("download")
        return change

    def _compare(self, ctx: Context, observed: Observed) -> Change:
        path = ctx.playbook.download_path
        if observed.credentials is None:
            return Change(CREATE if observed.on_disk is None else UPDATE,
                          [f"download the new service key to {path}"])
        if observed.on_disk is None:
            return Change(CREATE, [f"download service key {ctx.playbook.key_name} to {path}"])
        if observed.on_disk == observed.credentials:
            return Change(NONE, [f"{path} holds the service key"])
        reason = f"{path} differs from service key {ctx.playbook.key_name}"
        if self._replaceable(ctx):
            reason += " (the key was re-created; the old file is kept as .bak)"
        elif not ctx.force:
            reason += "; it is kept unless --force"
        return Change(UPDATE, [reason])

    def apply(self, ctx: Context, observed: Observed, change: Change) -> None:
        creds = observed.credentials
        if creds is None:
            key = ctx.facts.get("key")
            if key is None:
                raise StepFailed("no service key to download")
            creds = ctx.cf.key_credentials(key["guid"])
        ctx.pending.discard("download")
        write_key_file(ctx.playbook.download_path, creds, force=ctx.force or self._replaceable(ctx),
                       key_name=ctx.playbook.key_name)

    @staticmethod
    def _replaceable(ctx: Context) -> bool:
        """A file may be replaced (kept as .bak) without --force when this run re-created the key it came from:
        that key no longer exists."""
        return bool(ctx.facts.get("key_created")) or "key" in ctx.pending
