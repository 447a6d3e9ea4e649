"""Serving the WSGI app from a thread: a quiet werkzeug request handler and the injected connection reset."""

from __future__ import annotations

import socket
from typing import Any, NoReturn

from werkzeug.serving import WSGIRequestHandler


class QuietHandler(WSGIRequestHandler):
    """No per-request log lines (they would show paths and clients on stderr)."""

    def log_request(self, *args: Any, **kwargs: Any) -> None:
        pass

    def run_wsgi(self) -> None:
        try:
            super().run_wsgi()
        finally:
            # One request per connection, as werkzeug's "Connection: close" says; after an injected reset no
            # header was sent, and unread request bytes must not be parsed as a next request.
            self.close_connection = True

    def log(self, type: str, message: str, *args: Any) -> None:
        if type == "error":
            super().log(type, message, *args)


def reset_connection(environ: dict[str, Any]) -> NoReturn:
    """Close the client's connection without any HTTP response, then raise ConnectionResetError.

    werkzeug's request handler treats a ConnectionError from the application as a dropped connection: it
    writes nothing and logs nothing. The client sees the connection closed before a status line
    (`http.client.RemoteDisconnected`, a `ConnectionResetError`; requests raises `ConnectionError`).
    """
    sock = environ.get("werkzeug.socket")
    if sock is not None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
    raise ConnectionResetError("connection reset by the landscape simulator (injected fault)")
