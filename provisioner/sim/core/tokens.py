"""Tokens of the simulated UAA and XSUAA zones: HS256 JWTs signed with a random secret per process.

Every token carries `rev_sig` (the revocation generation at issue time); `Tokens.revoke()`
(`POST /_sim/tokens/expire`) invalidates every access token issued so far, refresh tokens stay usable.
`iat`/`exp` are wall-clock epoch seconds (`time.time()`).
"""

from __future__ import annotations

import secrets
import time
from typing import Any

import jwt

from provisioner.sim.core.config import Config
from provisioner.sim.core.ids import new_guid

_SIGNING_SECRET = secrets.token_bytes(32)  # tokens never survive a restart of the simulator
REFRESH_SECONDS = 30 * 24 * 3600


def mint_token(claims: dict[str, Any]) -> str:
    return jwt.encode(claims, _SIGNING_SECRET, algorithm="HS256")


def read_token(token: str) -> dict[str, Any] | None:
    """The claims of a token this process issued and that has not expired, else None."""
    try:
        claims = jwt.decode(token, _SIGNING_SECRET, algorithms=["HS256"],
                            options={"verify_exp": False, "verify_aud": False, "verify_iat": False})
    except jwt.PyJWTError:
        return None
    exp = claims.get("exp")
    if not isinstance(exp, int | float) or exp <= time.time():
        return None
    return claims


class Tokens:
    """Issues and reads tokens; the lifetime of access tokens is `config.token_seconds`."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self._generation = 0

    @property
    def rev_sig(self) -> str:
        """The revocation signature of tokens issued now (UAA's `rev_sig` claim)."""
        return f"{self._generation:08x}"

    def revoke(self) -> None:
        """Invalidate every access token issued so far."""
        self._generation += 1

    def access_claims(self, token: str) -> dict[str, Any] | None:
        """The claims of a valid, unexpired, unrevoked access token (not a refresh token), else None."""
        claims = read_token(token) if token else None
        if claims is None or claims.get("token_use") == "refresh" or claims.get("rev_sig") != self.rev_sig:
            return None
        return claims

    def issue(self, claims: dict[str, Any], refresh: bool) -> dict[str, Any]:
        """The OAuth token response body (cloud-foundry-v3-api.md 2.2) for `claims` completed with
        `jti`/`iat`/`exp`/`rev_sig`; with `refresh`, also a refresh token valid 30 days."""
        now = int(time.time())
        seconds = self.config.token_seconds
        claims = {"jti": new_guid().replace("-", ""), **claims, "iat": now, "exp": now + seconds,
                  "rev_sig": self.rev_sig}
        body: dict[str, Any] = {"access_token": mint_token(claims), "token_type": "bearer",
                                "expires_in": seconds, "scope": " ".join(claims["scope"]), "jti": claims["jti"]}
        if refresh:
            refresh_claims = {**claims, "jti": f"{claims['jti']}-r", "exp": now + REFRESH_SECONDS,
                              "token_use": "refresh"}
            body["refresh_token"] = mint_token(refresh_claims)
        return body
