"""Route table of the token endpoints; each handler gets `(ctx, backend, **url arguments)`."""

from __future__ import annotations

from collections.abc import Callable

from werkzeug.routing import Rule

from provisioner.sim.uaa import almapi, authz
from provisioner.sim.uaa import handlers as h

# methods None: any method (the token endpoints answer 405 in the OAuth shape themselves)
ROUTES: list[tuple[list[str] | None, str, Callable[..., object]]] = [
    (None, "/uaa/oauth/token", h.uaa_token),
    (["GET"], "/uaa/login", h.login_info),
    (["GET"], "/uaa/info", h.login_info),
    (["GET"], "/uaa/token_keys", h.uaa_token_keys),
    (["GET"], "/token_keys", h.domain_token_keys),
    (None, "/xsuaa/<zone>/oauth/token", h.xsuaa_token),
    (["GET"], "/xsuaa/<zone>/token_keys", h.xsuaa_token_keys),
    (["GET"], "/authorization/sap/rest/authorization/v2/apps/<path:app>", authz.get_app),
    (None, "/alm/<tenant>/api", almapi.alm_api),
    (None, "/alm/<tenant>/api/<path:rest>", almapi.alm_api),
    (["GET", "PUT"], "/_sim/xsuaa/<zone>/signing-key", h.signing_key),  # admin: no faults, not journalled
]


def rules() -> list[Rule]:
    """The routes; each endpoint is ``("uaa", handler)``: the app calls ``handler(ctx, uaa=backend, **args)``."""
    return [Rule(path, endpoint=("uaa", handler), methods=methods) for methods, path, handler in ROUTES]
