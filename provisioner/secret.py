"""A wrapper that keeps secrets (passwords, client secrets, tokens) out of output.

``str()``, ``repr()`` and f-strings of a :class:`Secret` give ``***``; only :meth:`Secret.reveal` returns the value,
and it is called only where the value goes onto the wire or into a key file.
"""

from __future__ import annotations


class Secret:
    __slots__ = ("_value",)

    def __init__(self, value: str):
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    def __str__(self) -> str:
        return "***"

    def __format__(self, spec: str) -> str:
        return "***"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __bool__(self) -> bool:
        return bool(self._value)
