"""The simulator's own certificate authority: HTTPS for its API port (every real CF, UAA, XSUAA, BTP and Service
Manager endpoint is HTTPS; SAP's sap-xssec reads ``https://<uaadomain>/token_keys``), the mTLS port of XSUAA's
``certurl`` (a client certificate signs in instead of a secret), and the X.509 credentials of ``x509`` bindings.

One CA and one server certificate per process (EC P-256: made in milliseconds), valid for the loopback names
``127.0.0.1``, ``::1`` and ``localhost``; the CA's certificate is written to a private folder of the process
(:attr:`Authority.ca_file`), which clients trust (``REQUESTS_CA_BUNDLE``, ``SSL_CERT_FILE``, a playbook's
``http.ca_bundle``). The CA's private key never leaves memory. Client certificates carry an RSA key of the
binding's ``key-length`` (2048, 4096 or 8192 bits, as XSUAA's parameters allow); RSA keys are slow to make, so
each length's key is made once per process and reused by every certificate of that length (each certificate has
its own serial number and fingerprint, which is what the token endpoint matches).
"""

from __future__ import annotations

import atexit
import datetime as dt
import hashlib
import ipaddress
import shutil
import ssl
import tempfile
import threading
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

KEY_LENGTHS = (2048, 4096, 8192)
_lock = threading.Lock()


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def _key_pem(key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


@cache
def _rsa_key(bits: int) -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


@dataclass(frozen=True)
class ClientCertificate:
    """An issued client certificate: ``certificate`` and ``key`` (PEM text, as XSUAA puts them in a binding),
    its SHA-256 ``fingerprint`` (hex) and its ``not_after`` (UTC)."""

    certificate: str
    key: str
    fingerprint: str
    not_after: dt.datetime


class Authority:
    """The process's CA (see the module). ``ca_file``: the CA certificate (PEM); :meth:`server_context` and
    :meth:`mtls_context` serve HTTPS; :meth:`issue` makes a client certificate."""

    def __init__(self) -> None:
        now = dt.datetime.now(dt.UTC)
        self._key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "provisioner landscape simulator"),
                          x509.NameAttribute(NameOID.COMMON_NAME, "provisioner simulator CA")])
        self.name = name
        self.cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
                     .public_key(self._key.public_key()).serial_number(x509.random_serial_number())
                     .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=3650))
                     .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                     .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                                  content_commitment=False, key_encipherment=False,
                                                  data_encipherment=False, key_agreement=False,
                                                  encipher_only=False, decipher_only=False), critical=True)
                     .sign(self._key, hashes.SHA256()))
        self.folder = Path(tempfile.mkdtemp(prefix="provisioner-sim-tls-"))
        atexit.register(shutil.rmtree, self.folder, True)
        self.ca_file = self.folder / "ca.pem"
        self.ca_file.write_bytes(_pem(self.cert))
        server_key = ec.generate_private_key(ec.SECP256R1())
        names = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                 x509.IPAddress(ipaddress.ip_address("::1"))]
        server = (x509.CertificateBuilder()
                  .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
                  .issuer_name(name).public_key(server_key.public_key()).serial_number(x509.random_serial_number())
                  .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=825))
                  .add_extension(x509.SubjectAlternativeName(names), critical=False)
                  .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
                  .sign(self._key, hashes.SHA256()))
        self._chain = self.folder / "server.pem"
        self._chain.write_bytes(_pem(server) + _pem(self.cert))
        self._server_key = self.folder / "server-key.pem"
        self._server_key.touch(mode=0o600)
        self._server_key.write_bytes(_key_pem(server_key))

    def server_context(self) -> ssl.SSLContext:
        """A server context for the API port (no client certificate asked for)."""
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self._chain, self._server_key)
        return context

    def mtls_context(self) -> ssl.SSLContext:
        """A server context for the ``certurl`` port: a client certificate of this CA is required (an expired one,
        or one of another CA, fails the TLS handshake)."""
        context = self.server_context()
        context.verify_mode = ssl.CERT_REQUIRED
        context.load_verify_locations(cafile=str(self.ca_file))
        return context

    def issue(self, common_name: str, *, days: int, key_length: int = 2048,
              not_before: dt.datetime | None = None) -> ClientCertificate:
        """A client certificate for ``common_name`` valid ``days`` days from ``not_before`` (default now), with an
        RSA key of ``key_length`` bits (one key per length and process, see the module)."""
        start = not_before or dt.datetime.now(dt.UTC)
        end = start + dt.timedelta(days=days)
        key = _rsa_key(key_length)
        subject = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "SAP SE"),
                             x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "provisioner simulator"),
                             x509.NameAttribute(NameOID.COMMON_NAME, common_name[:64])])
        cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(self.name)
                .public_key(key.public_key()).serial_number(x509.random_serial_number())
                .not_valid_before(start).not_valid_after(end)
                .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
                .sign(self._key, hashes.SHA256()))
        return ClientCertificate(_pem(cert).decode(), _key_pem(key).decode(), fingerprint(_pem(cert).decode()),
                                 end)


def fingerprint(pem: str) -> str:
    """SHA-256 (hex) of a PEM certificate's DER bytes."""
    return hashlib.sha256(ssl.PEM_cert_to_DER_cert(pem.strip())).hexdigest()


_authority: Authority | None = None


def authority() -> Authority:
    """The process's CA, made on first use."""
    global _authority
    with _lock:
        if _authority is None:
            _authority = Authority()
        return _authority
