"""Route table of the token endpoints; each handler gets `(ctx, backend, **url arguments)`."""

from __future__ import annotations

from collections.abc import Callable

from werkzeug.routing import Rule

from provisioner.sim.uaa import handlers as h

# methods None: any method (the token endpoints answer 405 in the OAuth shape themselves)
ROUTES: list[tuple[list[str] | None, str, Callable[..., object]]] = [
    (None, "/uaa/oauth/token", h.uaa_token),
    (["GET"], "/uaa/login", h.login_info),
    (["GET"], "/uaa/info", h.login_info),
    (None, "/xsuaa/<zone>/oauth/token", h.xsuaa_token),
    (None, "/alm/<tenant>/api", h.alm_api),
    (None, "/alm/<tenant>/api/<path:rest>", h.alm_api),
]


def rules() -> list[Rule]:
    """The routes; each endpoint is ``("uaa", handler)``: the app calls ``handler(ctx, uaa=backend, **args)``."""
    return [Rule(path, endpoint=("uaa", handler), methods=methods) for methods, path, handler in ROUTES]
