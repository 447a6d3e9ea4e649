"""Serving the WSGI app from a thread: a quiet werkzeug request handler and the injected connection reset."""

from __future__ import annotations

import io
import socket
from typing import Any, NoReturn

from werkzeug.serving import WSGIRequestHandler


class QuietHandler(WSGIRequestHandler):
    """No per-request log lines (they would show paths and clients on stderr), and HTTP/1.1 keep-alive, as real CF
    and BTP endpoints keep connections open: werkzeug always answers ``Connection: close`` because Python's
    ``http.server`` cannot drain an unread request body before the next request line; this handler reads each
    request body whole before the application sees it (:meth:`make_environ`), so the connection stays usable.
    A client's ``Connection: close``, an injected reset and an error after the headers still close it; an idle
    connection is closed after :attr:`timeout` seconds."""

    protocol_version = "HTTP/1.1"
    timeout = 60  # seconds a kept-alive connection may sit idle
    _stream: Any = None

    def setup(self) -> None:
        super().setup()
        try:  # headers and body go out in separate writes: without this, Nagle waits for the client's delayed ACK
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass

    def log_request(self, *args: Any, **kwargs: Any) -> None:
        pass

    def make_environ(self) -> Any:
        environ = super().make_environ()
        stream = environ["wsgi.input"]
        if environ.get("wsgi.input_terminated"):  # chunked: read to the terminating chunk
            body = stream.read()
        else:
            length = environ.get("CONTENT_LENGTH") or "0"
            body = stream.read(int(length)) if length.isdigit() and int(length) > 0 else b""
        environ["wsgi.input"] = io.BytesIO(body)
        # werkzeug "discards remaining data" after the response by reading rfile to its end, which on a kept-alive
        # connection would swallow (and block on) the next request: during the request it reads an empty stream
        self._stream, self.rfile = self.rfile, io.BytesIO()
        return environ

    def run_wsgi(self) -> None:
        self._stream = self.rfile
        try:
            super().run_wsgi()
        finally:
            self.rfile = self._stream

    def send_header(self, keyword: str, value: str) -> None:
        if keyword.lower() == "connection" and value.lower() == "close" and not self.close_connection:
            return  # werkzeug's unconditional close: the body was drained, keep the connection
        super().send_header(keyword, value)

    def connection_dropped(self, error: BaseException, environ: Any = None) -> None:
        self.close_connection = True  # an injected reset: the socket is shut
        super().connection_dropped(error, environ)

    def log(self, type: str, message: str, *args: Any) -> None:
        if type == "error" and not message.startswith("Request timed out"):  # an idle kept-alive connection
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
