"""One-line fixes for API errors a person can act on, by CF/BTP error code, HTTP status and the step that met it.

Sources: docs/sap-facts.md §8 (CF error codes), §7.3 (BTP entitlement codes 30015, 30009, 12003, 30001, 30004,
11006), and §2, the roles SAP's guide *Enabling SAP Cloud ALM API* requires (Global Account Administrator, Org
Manager, Space Developer).
"""

from __future__ import annotations

from provisioner.errors import ApiError

ROLE_BY_STEP = {
    "space": "the Org Manager role in the org (to create spaces and give roles)",
    "instance": "the Space Developer role in the space (to create and update service instances)",
    "key": "the Space Developer role in the space (to create service keys)",
    "download": "the Space Developer role in the space (to read service key credentials)",
    "entitlement": "the Global Account Administrator role, i.e. a cis key of plan central (to assign entitlements)",
    "sign-in": "access to this API",
}

BTP_HINTS = {
    30015: "the global account lacks this service plan: ask SAP or the global account administrator to add it to "
           "the global account's entitlements",
    30009: "the global account's quota for this plan is used up: free it in another subaccount or raise the "
           "global account's quota",
    12003: "the plan takes the other of enable/amount than sent; check service.amount and the plan's category",
    30001: "several plans share this name: the entitlement needs the plan's unique identifier",
    30004: "another entitlement change holds the lock; it was retried; re-run in a few minutes",
    11006: "the BTP rate limit was hit and retries ran out; re-run later or lower --parallel",
}


def hint(exc: ApiError, step: str) -> str | None:
    """A fix for ``exc`` met in ``step``, or None when the API's own text says it all."""
    if exc.code in BTP_HINTS and "entitlements" in exc.url:
        return BTP_HINTS[exc.code]
    if exc.status == 403:
        return f"the signed-in identity lacks {ROLE_BY_STEP.get(step, 'a required role')}"
    if exc.status == 401:
        return "the API refused the credentials sent; sign in again or check the credentials"
    if exc.status == 429:
        return "rate limited and retries ran out; re-run later or lower --parallel"
    if exc.status in (502, 503, 504):
        return "the API is unavailable after retries; re-run later (a re-run adopts what exists)"
    if exc.status == 0:
        return "check the URL and the network; a re-run adopts what exists"
    if exc.code == 60016 or exc.status == 409:
        return "another operation is in progress on this resource; re-run once it ends"
    return None
