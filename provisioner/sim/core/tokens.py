"""Tokens of the simulated UAA and XSUAA zones: RS256 JWTs signed with one RSA key per identity zone, as XSUAA does.

Each zone (its zone id; CF's UAA is the zone ``uaa``) has a 2048-bit RSA key pair, made on first use and kept for
the life of the process (tokens never survive a restart of the simulator); beyond 16 zones, zones share keys
(``zone_key``). A token's header carries ``alg: RS256``,
``kid`` (the zone's key id) and ``jku`` (the zone's ``.../token_keys`` URL, given by the caller); the zone's
public key is served as a JWKS by the token endpoints and printed as PEM in a key's ``uaa.verificationkey``.

Every token carries `rev_sig` (the revocation generation at issue time); `Tokens.revoke()`
(`POST /_sim/tokens/expire`) invalidates every access token issued so far, refresh tokens stay usable.
`Tokens.forge(zone_id)` makes a zone sign with a key that is not its own (same ``kid``): such tokens fail every
signature check, the simulator's own included. `iat`/`exp` are wall-clock epoch seconds (`time.time()`).
"""

from __future__ import annotations

import json
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from provisioner.sim.core.config import Config
from provisioner.sim.core.ids import new_guid

REFRESH_SECONDS = 30 * 24 * 3600
POOL_SIZE = 16
_ALGORITHM = "RS256"
#: tokens whose signature check is remembered (their claims; the least recently read is dropped first)
VERIFIED_SIZE = 4096


@dataclass(frozen=True)
class ZoneKey:
    """One zone's signing key: the private key, its id and its public half as PEM (``uaa.verificationkey``)."""

    private: rsa.RSAPrivateKey
    public_pem: str
    kid: str

    def jwk(self) -> dict[str, Any]:
        """The JWKS entry, as XSUAA's ``/token_keys`` serves it (``value``: the PEM)."""
        entry: dict[str, Any] = json.loads(RSAAlgorithm.to_jwk(self.private.public_key()))
        return {**entry, "kid": self.kid, "alg": _ALGORITHM, "use": "sig", "value": self.public_pem}


def _new_key(kid: str) -> ZoneKey:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)  # about 0.06 s
    pem = private.public_key().public_bytes(serialization.Encoding.PEM,
                                            serialization.PublicFormat.SubjectPublicKeyInfo).decode("ascii")
    return ZoneKey(private, pem, kid)


_pool: list[ZoneKey] = []  # at most POOL_SIZE keys: a fleet of 500 zones makes 16 keys, not 500
_by_zone: dict[str, ZoneKey] = {}
_foreign: list[ZoneKey] = []
_keys_lock = threading.Lock()
_verified: OrderedDict[str, dict[str, Any]] = OrderedDict()  # token -> its claims, signature checked
_verified_lock = threading.Lock()


def zone_key(zone_id: str) -> ZoneKey:
    """The signing key of zone ``zone_id``, the same for the life of the process. The first ``POOL_SIZE`` zones
    that need a key get a key of their own (``kid`` ``key-id-<n>``); later zones share those keys in turn, so a
    signature alone does not always tell such zones apart (the ``zid`` claim does)."""
    with _keys_lock:
        found = _by_zone.get(zone_id)
        if found is None:
            index = len(_by_zone) % POOL_SIZE
            if index == len(_pool):
                _pool.append(_new_key(f"key-id-{index + 1}"))
            found = _by_zone[zone_id] = _pool[index]
        return found


def make_key_pool() -> None:
    """Make every key of the pool now (``POOL_SIZE`` 2048-bit keys, about 0.06 s of CPU each, once per process),
    so that a run measured afterwards does not pay for them, as a long-running XSUAA has its keys already."""
    with _keys_lock:
        while len(_pool) < POOL_SIZE:
            _pool.append(_new_key(f"key-id-{len(_pool) + 1}"))


def has_zone_key(zone_id: str) -> bool:
    """Whether zone ``zone_id`` has a signing key yet (it signed a token or a key shows its public key)."""
    with _keys_lock:
        return zone_id in _by_zone


def _foreign_key() -> rsa.RSAPrivateKey:
    with _keys_lock:
        if not _foreign:
            _foreign.append(_new_key("foreign"))
        return _foreign[0].private


def token_keys(zone_id: str) -> dict[str, Any]:
    """The JWKS of a zone: ``{"keys": [{"kty": "RSA", "kid", "alg", "use", "n", "e", "value"}]}``."""
    return {"keys": [zone_key(zone_id).jwk()]}


def mint_token(claims: dict[str, Any], jku: str, *, forged: bool = False) -> str:
    """Sign ``claims`` with the key of zone ``claims["zid"]`` (``forged``: with a key of no zone, same ``kid``)."""
    key = zone_key(str(claims["zid"]))
    signer = _foreign_key() if forged else key.private
    return jwt.encode(claims, signer, algorithm=_ALGORITHM, headers={"jku": jku, "kid": key.kid})


def read_token(token: str) -> dict[str, Any] | None:
    """The claims of a token signed with its zone's key (``zid``) that has not expired, else None."""
    with _verified_lock:
        claims = _verified.get(token)
        if claims is not None:
            _verified.move_to_end(token)
    if claims is None:
        claims = _verify(token)
        if claims is None:
            return None
        with _verified_lock:
            _verified[token] = claims
            if len(_verified) > VERIFIED_SIZE:
                _verified.popitem(last=False)
    exp = claims.get("exp")
    if not isinstance(exp, int | float) or exp <= time.time():
        return None
    return dict(claims)


def _verify(token: str) -> dict[str, Any] | None:
    """The claims of a token signed with its zone's current key, expiry not checked; None otherwise."""
    try:
        header = jwt.get_unverified_header(token)
        unverified = jwt.decode(token, options={"verify_signature": False})
        zid = unverified.get("zid")
        if header.get("alg") != _ALGORITHM or not isinstance(zid, str) or not has_zone_key(zid):
            return None
        key = zone_key(zid)
        if header.get("kid") != key.kid:
            return None
        claims: dict[str, Any] = jwt.decode(
            token, key.private.public_key(), algorithms=[_ALGORITHM],
            options={"verify_exp": False, "verify_aud": False, "verify_iat": False})
    except jwt.PyJWTError:
        return None
    return claims


class Tokens:
    """Issues and reads tokens; the lifetime of access tokens is `config.token_seconds`."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self._generation = 0
        self._forged: set[str] = set()

    @property
    def rev_sig(self) -> str:
        """The revocation signature of tokens issued now (UAA's `rev_sig` claim)."""
        return f"{self._generation:08x}"

    def revoke(self) -> None:
        """Invalidate every access token issued so far."""
        self._generation += 1

    def forge(self, zone_id: str, on: bool) -> None:
        """From now on, zone ``zone_id`` signs with a key that is not its own (``on``) or with its own again."""
        if on:
            self._forged.add(zone_id)
        else:
            self._forged.discard(zone_id)

    def forged(self) -> list[str]:
        """The zone ids that sign with a wrong key."""
        return sorted(self._forged)

    def access_claims(self, token: str) -> dict[str, Any] | None:
        """The claims of a valid, unexpired, unrevoked access token (not a refresh token), else None."""
        claims = read_token(token) if token else None
        if claims is None or claims.get("token_use") == "refresh" or claims.get("rev_sig") != self.rev_sig:
            return None
        return claims

    def issue(self, claims: dict[str, Any], refresh: bool, jku: str) -> dict[str, Any]:
        """The OAuth token response body (cloud-foundry-v3-api.md 2.2) for `claims` (which name the zone in
        ``zid``) completed with `jti`/`iat`/`exp`/`rev_sig`; with `refresh`, also a refresh token valid 30 days.
        ``jku``: the zone's ``token_keys`` URL, put in the tokens' header."""
        now = int(time.time())
        seconds = self.config.token_seconds
        claims = {"jti": new_guid().replace("-", ""), **claims, "iat": now, "exp": now + seconds,
                  "rev_sig": self.rev_sig}
        forged = str(claims["zid"]) in self._forged
        body: dict[str, Any] = {"access_token": mint_token(claims, jku, forged=forged), "token_type": "bearer",
                                "expires_in": seconds, "scope": " ".join(claims["scope"]), "jti": claims["jti"]}
        if refresh:
            refresh_claims = {**claims, "jti": f"{claims['jti']}-r", "exp": now + REFRESH_SECONDS,
                              "token_use": "refresh"}
            body["refresh_token"] = mint_token(refresh_claims, jku, forged=forged)
        return body
