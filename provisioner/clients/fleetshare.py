"""What the tenants of one run, or of one fleet run, share instead of asking again (:class:`FleetShare`): sign-ins
for identical credentials, the CF API root document (its UAA), the subaccount and environment lists of a global
account and their index by org, the Service Manager create budget. Owned by the run's context
(:class:`provisioner.engine.context.RunContext`), which hands it to the API clients it makes (``share=``), so it
lives exactly as long as one run or one fleet run.

Each cache is named and typed by its key: a sign-in is keyed by token endpoint, grant, client id, user, origin and
a SHA-256 digest of the secrets (client secret, password), so different credentials never share a token; the
digest is kept in memory only, never printed. A lookup is keyed by the service URL and the sign-in that read it.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

K = TypeVar("K", bound=Hashable)
T = TypeVar("T")


class Once(Generic[K]):
    """A thread-safe map of values made once per key: the first caller of :meth:`once` makes the value while later
    callers of the same key wait for it; a maker that raises caches nothing (the next caller tries again)."""

    def __init__(self) -> None:
        self._values: dict[K, Any] = {}
        self._locks: dict[K, threading.Lock] = {}
        self._lock = threading.Lock()

    def once(self, key: K, make: Callable[[], T]) -> T:
        """The value under ``key``, made by ``make()`` on first use; exceptions of ``make`` propagate."""
        with self._lock:
            key_lock = self._locks.setdefault(key, threading.Lock())
        with key_lock:
            if key in self._values:
                value: T = self._values[key]
                return value
            value = make()
            self._values[key] = value
            return value

    def __len__(self) -> int:
        with self._lock:
            return len(self._values)


@dataclass(frozen=True)
class SignIn:
    """The key of a token source: the token endpoint (lowercase, no trailing slash), the grant, the client id, the
    user and identity provider origin (password grant), the digest of the secrets (:func:`secret_digest`)."""

    token_url: str
    grant: str
    client_id: str
    user: str | None
    origin: str | None
    secrets: str = field(repr=False)


@dataclass(frozen=True, eq=False)
class Lookup:
    """The key of a list read once: the service's URL and the sign-in (token source) that read it, compared by
    identity (identical credentials share one token source, :attr:`FleetShare.sign_ins`)."""

    url: str
    signed_in: object

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Lookup) and other.url == self.url and other.signed_in is self.signed_in

    def __hash__(self) -> int:
        return hash((self.url, id(self.signed_in)))


@dataclass
class FleetShare:
    """The caches of one run or fleet run, each made once per key (see the module)."""

    #: token sources (:class:`provisioner.clients.uaa.OAuthTokenSource`) by their credentials
    sign_ins: Once[SignIn] = field(default_factory=Once)
    #: a CF API's UAA URL by the API URL (lowercase)
    cf_uaa: Once[str] = field(default_factory=Once)
    #: ``GET /accounts/v1/subaccounts`` by accounts service
    subaccounts: Once[Lookup] = field(default_factory=Once)
    #: ``GET /provisioning/v1/environments`` by provisioning service
    environments: Once[Lookup] = field(default_factory=Once)
    #: those environments by the CF org GUIDs they name (:mod:`provisioner.engine.orgcheck`)
    environments_by_org: Once[Lookup] = field(default_factory=Once)
    #: the Service Manager instance-create budget (:class:`provisioner.clients.budget.TokenBucket`) by SM URL
    sm_creates: Once[str] = field(default_factory=Once)


def secret_digest(*secrets: str | None) -> str:
    """A SHA-256 hex digest of the secrets (for cache keys only; never shown)."""
    h = hashlib.sha256()
    for s in secrets:
        h.update(b"\x00" if s is None else b"\x01" + s.encode("utf-8") + b"\x00")
    return h.hexdigest()
