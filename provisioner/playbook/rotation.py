"""The playbook's ``rotation`` section (part of the format of :mod:`provisioner.playbook.model`): how long a key
replaced by ``provisioner key rotate`` is kept before a plain ``run`` retires it (the grace period in which
Landscape Management and managed systems move to the new key)."""

from __future__ import annotations

from pydantic import Field

from provisioner.playbook.durations import PATTERN, parse_duration
from provisioner.playbook.strictinput import Section


class RotationSettings(Section):
    """Key rotation: the grace period of the key a rotation replaced."""

    grace: str | None = Field(default=None, pattern=PATTERN, description=(
        "How long the key a `key rotate` replaced keeps working, counted from the new key's creation: a whole "
        "number and a unit s, m, h, d or w (7d). Once it has passed, a plain `run` deletes the replaced key "
        "(`key retire` does it at any time). Default: never by `run`, only by `key retire` or `key rotate "
        "--retire`."))

    @property
    def grace_seconds(self) -> int | None:
        """``grace`` in seconds; None when not set (``run`` retires nothing)."""
        return None if self.grace is None else parse_duration(self.grace)
