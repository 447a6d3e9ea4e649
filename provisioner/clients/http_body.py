"""Answers read with a size cap, before anything parses them: the body is streamed from the socket and reading
stops as soon as it passes ``http.max_body_bytes``, counted twice: the bytes on the wire and, for a gzip or deflate
answer, the bytes inflated (a 199 KB gzip body that inflates to 200 MB stops at the cap, holding at most the cap
in memory). The tool asks for ``gzip, deflate`` only; another ``Content-Encoding`` is refused.
"""

from __future__ import annotations

import zlib
from typing import Any

from provisioner.clients.http_errors import error_type
from provisioner.errors import ApiError, TooLarge

ACCEPT_ENCODING = "gzip, deflate"
CHUNK = 64 * 1024


class _Inflater:
    """gzip (one or more members) or deflate (zlib-wrapped or raw), inflated at most ``room`` bytes at a time."""

    def __init__(self, encoding: str) -> None:
        self.encoding = encoding
        self._d: Any = None
        self._ended = False  # a whole gzip member was read: what follows may be garbage (ignored, as urllib3 does)

    def _new(self, first: bytes) -> Any:
        if self.encoding == "gzip":
            return zlib.decompressobj(16 + zlib.MAX_WBITS)
        zlib_wrapped = len(first) >= 2 and first[0] & 0x0F == 8 and (first[0] << 8 | first[1]) % 31 == 0
        return zlib.decompressobj(zlib.MAX_WBITS if zlib_wrapped else -zlib.MAX_WBITS)

    def feed(self, data: bytes, room: int) -> list[bytes]:
        """Inflate ``data``; stops once more than ``room`` bytes came out (the caller then refuses the answer)."""
        out: list[bytes] = []
        while data and room >= 0:
            if self._d is None:
                self._d = self._new(data)
            try:
                piece = self._d.decompress(data, room + 1)
            except zlib.error:
                if self._ended:  # trailing bytes after a complete member
                    return out
                raise
            out.append(piece)
            room -= len(piece)
            if self._d.eof:  # the end of a gzip member: another may follow
                data, self._d, self._ended = self._d.unused_data, None, True
            else:
                data = self._d.unconsumed_tail
        return out

    def flush(self) -> bytes:
        return self._d.flush() if self._d is not None else b""


def read_body(resp: Any, limit: int, method: str, display: str) -> bytes:
    """The whole body of ``resp`` (a ``requests`` response sent with ``stream=True``), inflated, at most ``limit``
    bytes on the wire and after inflating. Raises :class:`~provisioner.errors.TooLarge` past the cap (the connection
    is closed, not reused) and :class:`~provisioner.errors.ApiError` (of the class its status gives:
    :func:`~provisioner.clients.http_errors.error_type`) for an encoding the tool did not ask for or that does not
    inflate; errors of the socket propagate (the caller words them)."""
    encoding = (resp.headers.get("Content-Encoding") or "identity").strip().lower()
    if encoding not in ("identity", "gzip", "deflate", "x-gzip", ""):
        resp.close()
        raise _bad_encoding(resp, method, display, f"answered with Content-Encoding {encoding[:20]!r}, which was "
                            f"not asked for ({ACCEPT_ENCODING}): a proxy in between? check the proxy settings")
    length = (resp.headers.get("Content-Length") or "").strip()
    if length.isascii() and length.isdigit() and len(length) < 20 and int(length) > limit:
        resp.close()
        raise _too_large(resp, limit, method, display, f"Content-Length {int(length)}")
    inflater = _Inflater("gzip" if encoding == "x-gzip" else encoding) if encoding in ("gzip", "deflate",
                                                                                        "x-gzip") else None
    parts: list[bytes] = []
    wire = size = 0
    try:
        for chunk in resp.raw.stream(CHUNK, decode_content=False):
            wire += len(chunk)
            if wire > limit:
                raise _too_large(resp, limit, method, display, "on the wire")
            pieces = inflater.feed(chunk, limit - size) if inflater is not None else [chunk]
            size += sum(len(p) for p in pieces)
            if size > limit:
                raise _too_large(resp, limit, method, display, f"once {encoding} inflated")
            parts.extend(p for p in pieces if p)
        if inflater is not None:
            parts.append(inflater.flush())
            if size + len(parts[-1]) > limit:
                raise _too_large(resp, limit, method, display, f"once {encoding} inflated")
    except zlib.error:
        resp.close()
        raise _bad_encoding(resp, method, display, f"answered {encoding} data that does not inflate: a proxy in "
                            "between? check the proxy settings") from None
    except TooLarge:
        resp.close()
        raise
    return b"".join(parts)


def _bad_encoding(resp: Any, method: str, display: str, detail: str) -> ApiError:
    """The error of a body that cannot be read, of the class its status gives (a 503 stays transient)."""
    return error_type(method, resp.status_code, None, "")(resp.status_code, None, "BadEncoding", detail, method,
                                                           display)


def _too_large(resp: Any, limit: int, method: str, display: str, what: str) -> TooLarge:
    return TooLarge(resp.status_code, None, "TooLarge", f"the answer is larger than http.max_body_bytes ({limit} "
                    f"bytes; {what}); reading stopped there: a broken API or proxy? raise http.max_body_bytes if the "
                    "answer is really that large", method, display)
