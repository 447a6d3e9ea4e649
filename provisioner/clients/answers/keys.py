"""The fields of a service key the tool reads (docs/sap-facts.md §4: a SAP Cloud ALM API key's ``uaa`` section and
``endpoints.Api``), typed: each is optional (what is missing is for the checks to say), and when present a string of
a bounded length; ``uaa`` and ``endpoints`` are objects. The same model reads the credentials in an API answer (CF
``/details``, a Service Manager binding: :class:`~provisioner.errors.MalformedAnswer`) and a key file a user gives
(``key check``, ``key test``, ``key export``: :func:`check_key_fields` raises :class:`~provisioner.errors.BadInput`,
exit code 2).
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, StringConstraints, ValidationError

from provisioner.clients.answers import Answer, Name, Url, problems
from provisioner.errors import BadInput

#: a PEM public key or a client secret: longer than a name, still bounded
Long = Annotated[str, StringConstraints(max_length=16384)]


class Uaa(Answer):
    url: Url | None = None
    clientid: Name | None = None
    clientsecret: Long | None = None
    identityzone: Name | None = None
    identityzoneid: Name | None = None
    tenantid: Name | None = None
    zoneid: Name | None = None
    subaccountid: Name | None = None
    uaadomain: Name | None = None
    verificationkey: Long | None = None
    xsappname: Name | None = None
    credential_type: Name | None = Field(None, alias="credential-type")
    apiurl: Url | None = None
    sburl: Url | None = None
    certurl: Url | None = None


class Endpoints(Answer):
    Api: Url | None = None


class KeyCredentials(Answer):
    """A service key's credentials: ``uaa`` and ``endpoints`` (both optional)."""

    uaa: Uaa | None = None
    endpoints: Endpoints | None = None


def key_problems(creds: Any) -> str | None:
    """What is wrong with the types of a key's fields (``uaa.uaadomain: not a string``), or None."""
    try:
        KeyCredentials.model_validate(creds)
    except RecursionError:
        return "nested too deep"
    except ValidationError as exc:
        return problems(exc)
    return None


def check_key_fields(creds: Any, source: str) -> None:
    """Raise :class:`BadInput` (one line, ``SOURCE: field: what is wrong; ...``) when a field the tool reads has the
    wrong type or length (a list where a string belongs, a URL of 100 kB)."""
    found = key_problems(creds)
    if found:
        raise BadInput(f"{source}: {found}; use the service key's JSON as downloaded (BTP cockpit: Instances and "
                       "Subscriptions > Credentials)")
