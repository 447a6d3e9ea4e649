"""What an API's error answer means is decided once, at the client boundary (provisioner.clients.http_errors), and
the typed errors keep every ApiError caller working: same message, same attributes, same transient rule."""

from __future__ import annotations

import pytest

from provisioner.clients.http_errors import error_type
from provisioner.errors import (
    ApiError,
    Conflict,
    Disconnected,
    Forbidden,
    InProgress,
    Locked,
    Malformed,
    MalformedAnswer,
    NameTaken,
    NoAnswer,
    NotFound,
    QuotaKindRefused,
    Throttled,
    TlsFailed,
    TokensRefused,
    Transient,
    Unauthorized,
    Unavailable,
)


@pytest.mark.parametrize(("method", "status", "code", "detail", "kind"), [
    ("GET", 401, None, "", Unauthorized),
    ("GET", 403, None, "", Forbidden),
    ("GET", 404, 10010, "Service instance not found", NotFound),
    ("DELETE", 410, None, "", NotFound),
    ("PATCH", 409, 60016, "An operation for service instance x is in progress.", InProgress),
    ("PATCH", 422, None, "Another concurrent operation in progress for this resource", Transient),
    ("POST", 422, 10008, "The service instance name is taken: cloudalm-api", NameTaken),
    ("POST", 422, 10008, "Name must be unique per organization", NameTaken),
    ("POST", 422, 10008, "Key binding names must be unique.", NameTaken),
    ("POST", 409, None, "a binding with this name exists", NameTaken),
    ("PUT", 409, 30009, "quota exceeded", Conflict),
    ("PUT", 400, 30004, "locked", Locked),
    ("PUT", 400, 12003, "amount for enable", QuotaKindRefused),
    ("GET", 429, None, "", Throttled),
    ("GET", 500, None, "", Transient),
    ("GET", 503, None, "", Unavailable),
    ("POST", 422, 10008, "User already has 'space_developer' role", ApiError),
    ("GET", 400, None, "bad query", ApiError),
])
def test_each_answer_has_one_class(method, status, code, detail, kind):
    assert error_type(method, status, code, detail) is kind


def test_typed_errors_are_api_errors_with_the_same_line_and_transient_rule():
    made = {kind: kind(503, None, "Title", "detail", "GET", "https://api.example.com/v3/x")
            for kind in (NotFound, NameTaken, Unauthorized, Forbidden, Transient, Unavailable, InProgress, NoAnswer,
                         Disconnected, Throttled, Locked, QuotaKindRefused)}
    for kind, exc in made.items():
        assert isinstance(exc, ApiError), kind
        assert str(exc) == "GET https://api.example.com/v3/x -> HTTP 503 Title: detail", kind
    assert {k for k, e in made.items() if e.transient} == {Transient, Unavailable, InProgress, Disconnected, Throttled}
    too_long = Throttled(429, None, "Throttled", "asked to wait 999 s", "GET", "https://x", "re-run", too_long=True)
    assert not too_long.transient
    assert issubclass(NameTaken, Conflict) and issubclass(TokensRefused, Unauthorized)
    assert Malformed is MalformedAnswer and not ApiError(503, None, None, "", "GET", "https://x").transient
    tls = TlsFailed(0, None, "TLS", "TLS verification failed", "GET", "https://x")
    assert isinstance(tls, Disconnected) and tls.transient
