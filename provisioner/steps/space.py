"""Step 1, space: find the org and the space by name, create the space if missing (``POST /v3/spaces``), and give
each listed user the Space Developer role (``POST /v3/roles``; an existing role is fine). Seed 003 "Create a Space".
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from provisioner.errors import ApiError, StepFailed
from provisioner.steps.base import CREATE, NONE, UPDATE, Change, Context, Step
from provisioner.uaa import claims

ROLE = "space_developer"


@dataclass
class Observed:
    org: dict[str, Any]
    space: dict[str, Any] | None
    developers: set[str]
    wanted: list[str]


def wanted_developers(ctx: Context) -> list[str]:
    """The playbook's users, or else the signed-in user (its ``user_name`` claim)."""
    if ctx.playbook.space_developers:  # usernames compare case-insensitively: keep the first spelling of each
        first: dict[str, str] = {}
        for user in ctx.playbook.space_developers:
            first.setdefault(user.lower(), user)
        return list(first.values())
    source = ctx.cf.http.token_source
    name = claims(source.token()).get("user_name") if source is not None else None
    return [name] if name else []


class SpaceStep(Step):
    name = "space"

    def read(self, ctx: Context) -> Observed:
        pb = ctx.playbook
        org, space = ctx.cf.find_org_and_space(pb.cf.org, pb.space_name)
        if org is None:
            raise StepFailed(f"CF org {pb.cf.org!r} not found or not visible to the signed-in user; check cf.org "
                             "(the user needs the Org Manager role in it)")
        ctx.facts["org"] = org
        devs = ctx.cf.space_role_usernames(space["guid"], ROLE) if space else set()
        return Observed(org, space, devs, wanted_developers(ctx))

    def compare(self, ctx: Context, observed: Observed) -> Change:
        pb = ctx.playbook
        missing = [u for u in observed.wanted if u.lower() not in observed.developers]
        grant = [f"give Space Developer to {', '.join(missing)}"] if missing else []
        if observed.space is None and self.locate:
            raise StepFailed(f"space {pb.space_name} not found in org {pb.cf.org}; the generated credentials are "
                             "expected there: set steps.space.name (or steps.mode: create to create them)")
        if observed.space is None:
            ctx.pending.add("space")
            return Change(CREATE, [f"create space {pb.space_name} in org {pb.cf.org}", *grant])
        ctx.facts["space"] = observed.space
        if self.locate:
            return Change(NONE, [f"found space {pb.space_name} in org {pb.cf.org}"])
        if grant:
            return Change(UPDATE, grant)
        who = ", ".join(observed.wanted) or "nobody listed"
        return Change(NONE, [f"space {pb.space_name} exists in org {pb.cf.org}; Space Developer: {who}"])

    def apply(self, ctx: Context, observed: Observed, change: Change) -> None:
        pb = ctx.playbook
        space = observed.space
        if space is None:
            try:
                space = ctx.cf.create_space(observed.org["guid"], pb.space_name)
            except ApiError as exc:
                if exc.status != 422:
                    raise
                # created meanwhile (a parallel run): adopt it
                space = ctx.cf.find_space(observed.org["guid"], pb.space_name)
                if space is None:
                    raise
                change.reasons.append("adopted the space a parallel run created")
        ctx.facts["space"] = space
        ctx.pending.discard("space")
        missing = [u for u in observed.wanted if u.lower() not in observed.developers]
        # independent requests: one role per user, sent concurrently (a role that exists meanwhile is fine: 422)
        with ThreadPoolExecutor(max_workers=min(8, len(missing) or 1)) as pool:
            list(pool.map(lambda user: ctx.cf.create_space_role(space["guid"], ROLE, user, pb.cf.origin), missing))
