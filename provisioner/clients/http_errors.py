"""What an API's error answer means, decided once, where the status is known (:meth:`provisioner.clients.http.
HttpClient.request`): the ``ApiError`` subclass to raise. Callers catch the class (``except NotFound:``), never the
status, the code or the text of an answer.

- 401: ``Unauthorized`` (``TokensRefused`` after renewed tokens); 403: ``Forbidden``; 404 and 410: ``NotFound``;
- CF code 60016 ``CF-AsyncServiceInstanceOperationInProgress``: ``InProgress``; a 422 saying "... operation in
  progress" (CF; SAP Service Manager's ``ConcurrentOperationInProgress``): ``Transient``;
- a CF 422 "... name is taken" / "... must be unique" (a space, instance or key name), and a 409 to a ``POST`` (SAP
  Service Manager, the BTP Accounts service: the name exists): ``NameTaken``; any other 409: ``Conflict``;
- BTP entitlements 30004 / 12003 (a 400): ``Locked`` / ``QuotaKindRefused``;
- after the HTTP layer's retries, 429: ``Throttled`` (transient); 500: ``Transient``; 502, 503 and 504:
  ``Unavailable`` (transient);
- any other status: ``ApiError``.

Sources: docs/sap-facts.md §8 (CF v3 error codes: 60016, the 422 texts of the Cloud Controller's validations), §7.3
(BTP entitlement codes), §5 (Service Manager: 409 name conflict, 422 concurrent operation); RFC 9110 (404, 409,
410, 429, 5xx).
"""

from __future__ import annotations

from provisioner.errors import (
    ApiError,
    Conflict,
    Forbidden,
    InProgress,
    Locked,
    NameTaken,
    NotFound,
    QuotaKindRefused,
    Throttled,
    Transient,
    Unauthorized,
    Unavailable,
)

#: CF ``CF-AsyncServiceInstanceOperationInProgress``: another operation runs on the service instance
CF_OPERATION_IN_PROGRESS = 60016
#: BTP entitlements: the subaccount's entitlement lock is held; the plan takes the other of enable and amount
BTP_LOCKED, BTP_QUOTA_KIND = 30004, 12003
#: what a Cloud Foundry 422 says when a name is taken (spaces, service instances, service keys)
CF_NAME_TAKEN = ("name is taken", "must be unique")

_BY_STATUS: dict[int, type[ApiError]] = {
    401: Unauthorized, 403: Forbidden, 404: NotFound, 410: NotFound, 409: Conflict, 429: Throttled, 500: Transient,
    502: Unavailable, 503: Unavailable, 504: Unavailable,
}


def error_type(method: str, status: int, code: object, detail: str) -> type[ApiError]:
    """The class of the error a ``method`` request answered with ``status``, the API's ``code`` (CF
    ``errors[0].code``, BTP ``error.code``) and ``detail`` (its message)."""
    if code == CF_OPERATION_IN_PROGRESS:
        return InProgress
    if status == 400 and code == BTP_LOCKED:
        return Locked
    if status == 400 and code == BTP_QUOTA_KIND:
        return QuotaKindRefused
    if status == 422 and "operation in progress" in detail:
        return Transient
    if status == 422 and any(text in detail for text in CF_NAME_TAKEN):
        return NameTaken
    if status == 409 and method == "POST":
        return NameTaken
    return _BY_STATUS.get(status, ApiError)
