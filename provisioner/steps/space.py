"""Step 1, space ("Create a Space" in SAP's setup guide): find the org and the space by name, create the space if
missing (``POST /v3/spaces``), and give each listed user the Space Developer role (``POST /v3/roles``; an existing
role is fine). Reads ``GET /v3/spaces?include=organization`` (or ``GET /v3/organizations``) and
``GET /v3/roles?include=user``. Cloud Foundry specific.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from provisioner.clients.uaa import claims
from provisioner.errors import NameTaken, StepFailed
from provisioner.playbook.load import Playbook
from provisioner.steps.base import Action, Change, Env, Output, Step, Upstream
from provisioner.threads import helpers, in_step

ROLE = "space_developer"


@dataclass(frozen=True)
class SpaceObservation:
    """The org, the space (None when missing), the lower-cased Space Developers and the users wanted."""

    org: Mapping[str, Any]
    space: Mapping[str, Any] | None
    developers: frozenset[str]
    wanted: tuple[str, ...]

    @property
    def missing(self) -> tuple[str, ...]:
        return tuple(u for u in self.wanted if u.lower() not in self.developers)


@dataclass(frozen=True)
class SpaceOutput(Output):
    """The org and the space (CF v3 JSON objects)."""

    org: Mapping[str, Any]
    space: Mapping[str, Any]
    #: this run created the space (it holds no service instance yet)
    created: bool = False


def wanted_developers(env: Env) -> tuple[str, ...]:
    """The playbook's users (first spelling of each, compared case-insensitively), or else the signed-in user (its
    ``user_name`` claim)."""
    if env.settings.space_developers:
        first: dict[str, str] = {}
        for user in env.settings.space_developers:
            first.setdefault(user.lower(), user)
        return tuple(first.values())
    source = env.cf_client().http.token_source
    name = claims(source.token()).get("user_name") if source is not None else None
    return (name,) if name else ()


class SpaceStep(Step[SpaceObservation, SpaceOutput]):
    name = "space"

    def read(self, env: Env, upstream: Upstream) -> SpaceObservation:
        pb = env.settings
        org_name = pb.cf_settings.org
        org, space = env.cf_client().find_org_and_space(org_name, pb.space_name)
        if org is None:
            raise StepFailed(f"CF org {org_name!r} not found or not visible to the signed-in user; check cf.org "
                             "(the user needs the Org Manager role in it)")
        devs = frozenset(env.cf_client().space_role_usernames(space["guid"], ROLE)) if space else frozenset()
        return SpaceObservation(org, space, devs, wanted_developers(env))

    def compare(self, settings: Playbook, observation: SpaceObservation, upstream: Upstream) -> Change:
        space, org = settings.space_name, settings.cf_settings.org
        missing = observation.missing
        grant = (f"give Space Developer to {', '.join(missing)}",) if missing else ()
        if observation.space is None and self.locate:
            raise StepFailed(f"space {space} not found in org {org}; the generated credentials are expected there: "
                             "set steps.space.name (or steps.mode: create to create them)")
        if observation.space is None:
            return Change(Action.CREATE, (f"create space {space} in org {org}", *grant))
        if self.locate:
            return Change.of(Action.NONE, f"found space {space} in org {org}")
        if grant:
            return Change(Action.UPDATE, grant)
        who = ", ".join(observation.wanted) or "nobody listed"
        return Change.of(Action.NONE, f"space {space} exists in org {org}; Space Developer: {who}")

    def apply(self, env: Env, observation: SpaceObservation, change: Change, upstream: Upstream) -> SpaceOutput:
        pb = env.settings
        space = observation.space
        cf = env.cf_client()
        notes: tuple[str, ...] = ()
        created = False
        if space is None:
            try:
                space = cf.create_space(observation.org["guid"], pb.space_name)
                created = True
            except NameTaken:
                # created meanwhile (a parallel run): adopt it
                space = cf.find_space(observation.org["guid"], pb.space_name)
                if space is None:
                    raise
                notes = ("adopted the space a parallel run created",)
        guid = space["guid"]
        # independent requests: one role per user, sent concurrently (a role that exists meanwhile is fine: 422)
        list(helpers().map(in_step(lambda user: cf.create_space_role(guid, ROLE, user, pb.cf_settings.origin)),
                           observation.missing))
        return SpaceOutput(observation.org, space, created=created, notes=notes)

    def current(self, observation: SpaceObservation) -> SpaceOutput | None:
        if observation.space is None:
            return None
        return SpaceOutput(observation.org, observation.space)
