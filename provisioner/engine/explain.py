"""One-line fixes for API errors a person can act on, by the error's class (typed at the client boundary:
:mod:`provisioner.clients.http_errors`) and the step that met it; the BTP entitlements service's codes get theirs
where they are answered (:mod:`provisioner.clients.btp`).

Sources: docs/sap-facts.md §8 (CF error codes) and §2, the roles SAP's guide *Enabling SAP Cloud ALM API* requires
(Global Account Administrator, Org Manager, Space Developer).
"""

from __future__ import annotations

from provisioner.errors import (
    ApiError,
    Conflict,
    Forbidden,
    InProgress,
    NameTaken,
    NoAnswer,
    Throttled,
    Unauthorized,
    Unavailable,
)

ROLE_BY_STEP = {
    "space": "the Org Manager role in the org (to create spaces and give roles)",
    "instance": "the Space Developer role in the space (to create and update service instances)",
    "key": "the Space Developer role in the space (to create service keys)",
    "download": "the Space Developer role in the space (to read service key credentials)",
    "entitlement": "the Global Account Administrator role, i.e. a cis key of plan central (to assign entitlements)",
    "sign-in": "access to this API",
}


def hint(exc: ApiError, step: str) -> str | None:
    """A fix for ``exc`` met in ``step``, or None when the API's own text says it all."""
    if isinstance(exc, Forbidden):
        return f"the signed-in identity lacks {ROLE_BY_STEP.get(step, 'a required role')}"
    if isinstance(exc, Unauthorized):
        return "the API refused the credentials sent; sign in again or check the credentials"
    if isinstance(exc, Throttled):
        return "rate limited and retries ran out; re-run later or lower --parallel"
    if isinstance(exc, Unavailable):
        return "the API is unavailable after retries; re-run later (a re-run adopts what exists)"
    if isinstance(exc, NoAnswer):
        return "check the URL and the network; a re-run adopts what exists"
    if isinstance(exc, InProgress) or (isinstance(exc, Conflict) and not isinstance(exc, NameTaken)):
        return "another operation is in progress on this resource; re-run once it ends"
    return None
