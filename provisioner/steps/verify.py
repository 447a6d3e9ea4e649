"""Steps 6 and 7, check and test: the Landscape Management format checks on the downloaded key (seed 002), and a
sign-in with the key's client credentials with the token's scopes checked ("Test Service Key"). Neither writes.
"""

from __future__ import annotations

from pathlib import Path

from provisioner.errors import StepFailed
from provisioner.keyfile import Check, check_key, read_key_file
from provisioner.keytest import test_key
from provisioner.steps.base import NONE, Change, Context, Step


def _summary(checks: list[Check]) -> Change:
    failed = [c for c in checks if not c.passed]
    if failed:
        raise StepFailed("; ".join(f"{c.name}: FAILED ({c.message})" for c in failed))
    return Change(NONE, [f"{len(checks)}/{len(checks)} passed: " + ", ".join(c.name for c in checks)])


class CheckStep(Step):
    name = "check"

    def read(self, ctx: Context) -> list[Check] | None:
        path = Path(ctx.playbook.download_path)
        if ctx.dry_run and ("download" in ctx.pending or not path.exists()):
            return None
        pb = ctx.playbook
        return check_key(read_key_file(path), pb.tenant.subdomain, (pb.service.credential_type,))

    def compare(self, ctx: Context, checks: list[Check] | None) -> Change:
        if checks is None:
            return Change(NONE, ["check the downloaded key (after the download)"])
        return _summary(checks)

    def apply(self, ctx: Context, observed, change: Change) -> None:  # never has anything to apply
        return None


class TestStep(Step):
    name = "test"
    __test__ = False  # not a pytest class

    def read(self, ctx: Context) -> list[Check] | None:
        if ctx.dry_run:
            return None  # plan does not sign in with the key
        creds = read_key_file(Path(ctx.playbook.download_path))
        return test_key(creds, required_scopes=ctx.playbook.service.required_scopes, pool=ctx.cf.pool,
                        stats=ctx.cf.stats)

    def compare(self, ctx: Context, checks: list[Check] | None) -> Change:
        if checks is None:
            return Change(NONE, ["sign in with the key and check its scopes (on run)"])
        return _summary(checks)

    def apply(self, ctx: Context, observed, change: Change) -> None:
        return None
