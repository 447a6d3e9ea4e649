"""Tokens for x509 keys: the client credentials grant over mutual TLS at ``uaa.certurl`` (SAP Authorization and
Trust Management: an x509 binding has ``certificate``, ``key`` and ``certurl`` instead of ``clientsecret``; SAP's
sap-xssec signs in with ``POST <certurl>/oauth/token`` and the certificate, docs/sap-facts.md §6). The private key
reaches the TLS layer as a file of mode 0600 in a private folder that is removed right after
(:func:`provisioner.keys.x509key.pem_files`); it never reaches a message.
"""

from __future__ import annotations

from typing import Any

from provisioner.clients.http import HttpClient, RequestStats, SessionPool
from provisioner.errors import Disconnected, StepFailed, Unauthorized
from provisioner.keys.x509key import pem_files


def certificate_token(certurl: str, cid: str, creds: dict[str, Any], source: str, *,
                      pool: SessionPool | None = None, stats: RequestStats | None = None) -> dict[str, Any]:
    """``POST {uaa.certurl}/oauth/token`` ``grant_type=client_credentials&client_id=<uaa.clientid>`` over mutual TLS
    with the key's certificate (as SAP's sap-xssec does for an x509 key) → the token response. Raises
    :class:`StepFailed` when the certificate is refused, :class:`ApiError` for other failures."""
    client = HttpClient(certurl, what="key's XSUAA mTLS endpoint (uaa.certurl)", pool=pool, stats=stats)
    with pem_files(creds, source) as cert:
        try:
            resp = client.request("POST", "/oauth/token", data={"grant_type": "client_credentials", "client_id": cid},
                                  auth=False, expect=(200,), idempotent=True, cert=cert)
        except Unauthorized as exc:
            raise StepFailed(f"key test: the token endpoint {exc.url} refused the client certificate of "
                             f"{source} (uaa.clientid {cid}): {exc.detail or 'Bad credentials'}; was the key "
                             "deleted?") from None
        except Disconnected as exc:  # TLS failed, or the connection was dropped in the handshake
            raise StepFailed(f"key test: the TLS handshake with {exc.url} failed: the endpoint did not take the "
                             f"client certificate of {source} (deleted or not XSUAA's?), or its own certificate "
                             "is not trusted (http.ca_bundle)") from None
    try:
        body = resp.json()
        if not isinstance(body.get("access_token"), str):
            raise ValueError
    except ValueError:
        raise StepFailed("key test: the token endpoint answered without an access_token") from None
    return dict(body)
