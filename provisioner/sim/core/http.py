"""Request context and JSON responses shared by every simulated API."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from werkzeug.wrappers import Request, Response

from provisioner.sim.core.tokens import Tokens


class SimError(Exception):
    """Raised by handlers to answer with an error response (see errors.py for the envelopes)."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status)
        self.response = response


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None,
                  content_type: str = "application/json") -> Response:
    return Response(json.dumps(body), status=status, headers=headers, content_type=content_type)


def accepted(location: str) -> Response:
    """202 with an empty body and a Location header (CF async operations)."""
    return Response(b"", status=202, headers={"Location": location})


@dataclass
class Ctx:
    """One request: the werkzeug request, the simulator's base URL and the token service."""

    request: Request
    url: str  # "http://HOST:PORT"
    tokens: Tokens
    fault: str | None = None  # a fault a handler injected (e.g. "lock"), for the journal

    def bearer(self) -> str | None:
        """None without an Authorization header, "" when it is not a bearer token."""
        header = self.request.headers.get("Authorization")
        if header is None:
            return None
        scheme, _, token = header.partition(" ")
        return token.strip() if scheme.lower() == "bearer" else ""

    def access_claims(self, token: str) -> dict[str, Any] | None:
        return self.tokens.access_claims(token)

    def json_body(self, default: str = "null") -> Any:
        """The parsed JSON body (`default` when empty), or None when it is not JSON."""
        try:
            return json.loads(self.request.get_data(as_text=True) or default)
        except ValueError:
            return None
