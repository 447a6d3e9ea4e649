"""What the token endpoints know: users and clients (core identity), the token service, and the identity zones.

The zones and their clients belong to other APIs; the wiring module (app.py) sets the lookups:
`global_zone()` (the global account's zone and its `cis` client), `subaccount_zone(subdomain)` and
`key_client_scopes(subdomain, client id, client secret)` (the scopes of a service key's XSUAA client),
`key_certificate_scopes(subdomain, client id, certificate fingerprint)` (an x509 key's) and `app_info(subdomain,
xsappname)` (an instance's application, as the XSUAA Authorization API shows it).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from provisioner.sim.broker.brokers import Zone
from provisioner.sim.core.identity import Identity
from provisioner.sim.core.tokens import Tokens


@dataclass(frozen=True)
class GlobalZone:
    """The global account's identity zone and the client of its `cis` key."""

    subdomain: str
    zone_id: str
    clientid: str
    clientsecret: str
    grant_type: str  # "client_credentials" or "user_token" (password grant by a user)
    xsappname: str


def _no_zone(subdomain: str) -> Zone | None:
    return None


def _no_client(subdomain: str, clientid: str, clientsecret: str) -> list[str] | None:
    return None


def _no_app(subdomain: str, app: str) -> dict[str, Any] | None:
    return None


class UaaBackend:
    def __init__(self, identity: Identity, tokens: Tokens) -> None:
        self.identity = identity
        self.tokens = tokens
        self.global_zone: Callable[[], GlobalZone | None] = lambda: None
        self.subaccount_zone: Callable[[str], Zone | None] = _no_zone
        self.key_client_scopes: Callable[[str, str, str], list[str] | None] = _no_client
        #: (subdomain, client id, certificate fingerprint) -> scopes of a live x509 key, or None
        self.key_certificate_scopes: Callable[[str, str, str], list[str] | None] = _no_client
        #: (subdomain, xsappname) -> the XSUAA Authorization API's application record, or None
        self.app_info: Callable[[str, str], dict[str, Any] | None] = _no_app

    def zone(self, subdomain: str) -> tuple[str, str | None] | None:
        """(zone id, subaccount guid or None for the global account zone) of an identity zone subdomain."""
        ga = self.global_zone()
        if ga is not None and subdomain == ga.subdomain:
            return ga.zone_id, None
        sub = self.subaccount_zone(subdomain)
        return (sub.zone_id, sub.subaccount_guid) if sub else None
