"""x509 service keys: the client certificate XSUAA puts in a key created with ``{"credential-type": "x509"}`` (SAP
Authorization and Trust Management, "Parameters for X.509 Certificates Managed by SAP Authorization and Trust
Management Service"): ``uaa.certificate`` (PEM, the client certificate first, then its chain), ``uaa.key`` (its
PEM private key) and ``uaa.certurl`` (the host the certificate signs in at: ``<certurl>/oauth/token``) instead
of ``uaa.clientsecret``. XSUAA does not check revocation: a certificate signs in until it expires or its key is
deleted.

- :func:`certificate_expiry`: when a key's certificate expires (``key check``, ``inventory``, ``key test``; and
  what a rotation schedule reads; :func:`provisioner.keys.keyfile.key_file_expiry` for a key file).
- :func:`pem_files`: the certificate and private key as files of mode 0600 in a private temporary folder, for
  the TLS layer (which reads files only), removed when the block ends.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import shutil
import tempfile
from collections.abc import Iterator
from typing import Any

from provisioner.errors import BadInput

X509 = "x509"


def _uaa(creds: dict[str, Any]) -> dict[str, Any]:
    found = creds.get("uaa")
    return found if isinstance(found, dict) else {}


def is_x509(creds: dict[str, Any]) -> bool:
    """Whether the key is an x509 key (``uaa.credential-type`` x509, or a certificate and no secret)."""
    uaa = _uaa(creds)
    return uaa.get("credential-type") == X509 or (isinstance(uaa.get("certificate"), str)
                                                 and not uaa.get("clientsecret"))


def certificate_expiry(creds: dict[str, Any], source: str = "the key") -> dt.datetime | None:
    """The UTC time the key's client certificate (the first of ``uaa.certificate``) stops being valid; None when
    the key holds no certificate. Raises :class:`BadInput` when ``uaa.certificate`` is not a PEM certificate."""
    pem = _uaa(creds).get("certificate")
    if pem is None:
        return None
    if not isinstance(pem, str) or "BEGIN CERTIFICATE" not in pem:
        raise BadInput(f"{source}: uaa.certificate is not a PEM certificate; download the key again")
    from cryptography import x509  # only for x509 keys: reading a playbook never loads it

    try:
        cert = x509.load_pem_x509_certificate(pem.replace("\\n", "\n").encode())
    except ValueError:
        raise BadInput(f"{source}: uaa.certificate is not a readable PEM certificate; download the key again") \
            from None
    return cert.not_valid_after_utc


def describe_expiry(expiry: dt.datetime, now: dt.datetime | None = None) -> tuple[bool, str]:
    """(still valid, ``valid until 2026-12-12 13:00 UTC (6 days left)`` / ``expired on ...``)."""
    now = now or dt.datetime.now(dt.UTC)
    when = expiry.strftime("%Y-%m-%d %H:%M UTC")
    if expiry <= now:
        return False, f"expired on {when}"
    left = expiry - now
    days = left.days
    return True, f"valid until {when} ({days} day{'s' if days != 1 else ''} left)" if days else \
        f"valid until {when} (less than a day left)"


@contextlib.contextmanager
def pem_files(creds: dict[str, Any], source: str = "the key") -> Iterator[tuple[str, str]]:
    """``(certificate file, private key file)`` of the key's ``uaa.certificate`` and ``uaa.key``, mode 0600 in a
    folder of mode 0700, deleted when the block ends. Raises :class:`BadInput` when either is missing."""
    uaa = _uaa(creds)
    cert, key = uaa.get("certificate"), uaa.get("key")
    if not (isinstance(cert, str) and "BEGIN" in cert and isinstance(key, str) and "PRIVATE KEY" in key):
        raise BadInput(f"{source}: the x509 key lacks uaa.certificate or uaa.key (PEM); download it again")
    folder = tempfile.mkdtemp(prefix="provisioner-x509-")
    try:
        paths = []
        for name, text in (("certificate.pem", cert), ("key.pem", key)):
            path = os.path.join(folder, name)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(text.replace("\\n", "\n"))
            paths.append(path)
        yield paths[0], paths[1]
    finally:
        shutil.rmtree(folder, ignore_errors=True)
