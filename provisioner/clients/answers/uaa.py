"""What the tool reads from UAA and XSUAA (docs/sap-facts.md §8 "UAA token endpoint", §4.7): the token answer
of ``POST /oauth/token`` (CF UAA, the cis key's XSUAA, Service Manager's XSUAA, a key's XSUAA), a zone's token keys
(``GET /token_keys``, a JWKS), and the answer of the SAP Cloud ALM API that ``key test --api`` calls.

``expires_in`` (RFC 6749 §5.1: the token's lifetime in seconds) is clamped to :data:`MIN_EXPIRES_IN` ..
:data:`MAX_EXPIRES_IN`: a server that says 10 or -5 would otherwise have a token asked for on every request (the
tool renews a token 30 s before it expires), and one that says ``10**400`` would have a token kept for ever; a
day is renewed daily all the same. A token that really expires sooner than the floor is refused with a 401, which
renews it. Not a number (``"soon"``, a list) is a malformed answer; missing, 600 s.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import BeforeValidator, StringConstraints, TypeAdapter

from provisioner.clients.answers import LAZY, Answer, Name, Text, read, read_model, read_object

if TYPE_CHECKING:
    import requests

MIN_EXPIRES_IN = 60.0
MAX_EXPIRES_IN = 86400.0
DEFAULT_EXPIRES_IN = 600.0


def _seconds(value: Any) -> Any:
    """A number (or a numeric string) of seconds, clamped; anything else is left for the type check to refuse."""
    if value is None:
        return DEFAULT_EXPIRES_IN
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        try:
            value = float(value.strip()) if len(value) <= 40 else math.nan
        except ValueError:
            return value
    if isinstance(value, int):
        return float(min(max(value, MIN_EXPIRES_IN), MAX_EXPIRES_IN))
    if isinstance(value, float):
        if math.isnan(value):
            return "not a number"
        return min(max(value, MIN_EXPIRES_IN), MAX_EXPIRES_IN)
    return value


#: the token itself: a JWT of a few kB (XSUAA tokens with many scopes reach 10 kB)
Token = Annotated[str, StringConstraints(min_length=1, max_length=65536)]


class TokenAnswer(Answer):
    """The token endpoint's 200: ``access_token``, ``expires_in`` (clamped, see the module docstring),
    ``refresh_token``, ``scope`` (a string of space-separated scopes; a list is accepted)."""

    access_token: Token
    expires_in: Annotated[float, BeforeValidator(_seconds)] = DEFAULT_EXPIRES_IN
    refresh_token: Token | None = None
    scope: Annotated[str, StringConstraints(max_length=65536)] | list[Name] | None = None
    token_type: Name | None = None


class Jwk(Answer):
    kid: Name | None = None
    kty: Name | None = None
    alg: Name | None = None
    value: Text | None = None


class Jwks(Answer):
    """A JWKS (``GET <uaa>/token_keys``): ``keys``, each with its ``kid`` and the key (``n``/``e``, ``x``/``y`` or
    a PEM ``value``)."""

    keys: list[Jwk]


_CALM: TypeAdapter[Any] = TypeAdapter(dict[str, Any] | list[Any], config=LAZY)


def token(resp: requests.Response) -> dict[str, Any]:
    """The token answer as a dict (``access_token``, ``expires_in`` in seconds, clamped, ``refresh_token`` when
    given, ``scope`` as one string)."""
    found = read_model(resp, TokenAnswer, "token answer")
    scope = " ".join(found.scope) if isinstance(found.scope, list) else found.scope or ""
    out: dict[str, Any] = {"access_token": found.access_token, "expires_in": found.expires_in, "scope": scope}
    if found.refresh_token:
        out["refresh_token"] = found.refresh_token
    return out


def token_keys(resp: requests.Response) -> dict[str, Any]:
    """A zone's token keys (a JWKS)."""
    return read_object(resp, Jwks, "token keys (JWKS)")


def calm_api(resp: requests.Response) -> Any:
    """The SAP Cloud ALM API's answer to a read (``calm-projects/v1/projects``): a JSON object or array (None for
    an answer without a body)."""
    return read(resp, _CALM, "Cloud ALM API answer") if resp.content.strip() else None
