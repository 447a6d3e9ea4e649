"""Every URL the tool requests, parsed once by the parser the HTTP library uses (``urllib3.util.parse_url``, which
``requests`` and ``urllib3`` use to pick the host they connect to), and refused where that reading is not the only
one.

A URL is refused (:class:`~provisioner.errors.UnsafeLink`) when it holds a backslash, a control character or
whitespace, userinfo (``user@``), a port that is empty, has a leading zero or is out of range, a host that is not
ASCII, a scheme other than http/https, or when ``urllib.parse.urlsplit`` (what most other code, and the tool's own
checks before this boundary, read) finds another host or port than ``urllib3``: for example
``https://evil\\@api.cf.example/v3/jobs/x``, where ``urllib`` reads the host ``api.cf.example`` and ``urllib3``
connects to ``evil``. What is left has one reading; its :attr:`Target.origin` is what credentials are matched
against.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from urllib3.exceptions import LocationParseError
from urllib3.util import parse_url

from provisioner.clients.http_guards import ambiguity, shown_url
from provisioner.errors import UnsafeLink

DEFAULT_PORTS = {"http": 80, "https": 443}
#: a host name (labels of letters, digits, "-" and "_", an optional final dot) or a bracketed IPv6 address
_HOST = re.compile(r"\[[0-9a-f:.]+\]|[a-z0-9_-]+(\.[a-z0-9_-]+)*\.?")


@dataclass(frozen=True)
class Target:
    """A URL with one reading: ``url`` (as given, sent as is), ``origin`` (``scheme://host:port``, lower case,
    the port always written), ``site`` (``scheme://host[:port]`` as written) and ``path``."""

    url: str
    origin: str
    site: str
    path: str

    @property
    def display(self) -> str:
        """``scheme://host[:port]/path``: no query, for messages."""
        return self.site + self.path


def target(url: str) -> Target:
    """``url`` as :class:`Target`. Raises :class:`~provisioner.errors.UnsafeLink` (a one-line reason, the URL cut
    to 80 characters) when it has more than one reading (see the module) or is not http(s) with a host."""
    why = ambiguity(url)
    parsed = None
    if why is None:
        try:
            parsed = parse_url(url)
        except LocationParseError:
            why = "cannot be parsed"
    if parsed is not None:
        scheme, host, port = parsed.scheme or "", (parsed.host or "").lower(), parsed.port
        try:
            split = urlsplit(url)
            other = ((split.hostname or "").lower(), split.port)
        except ValueError:
            other = ("", None)
        if scheme not in DEFAULT_PORTS or not host:
            why = "is not an http(s) URL with a host"
        elif not _HOST.fullmatch(host):
            why = f"has the host {host[:40]!r}, which is not a host name"
        elif parsed.auth is not None:
            why = "has userinfo (user@) before its host"
        elif other != (host.strip("[]"), port):
            why = f"names the host {host!r} for urllib3 but {other[0]!r} for urllib"
        else:
            port = port or DEFAULT_PORTS[scheme]
            written = f":{parsed.port}" if parsed.port else ""
            return Target(url, f"{scheme}://{host}:{port}", f"{scheme}://{host}{written}", parsed.path or "")
    raise UnsafeLink(f"the URL {shown_url(url)} {why}")


def origin(url: str) -> str:
    """:attr:`Target.origin` of ``url`` (raises as :func:`target`)."""
    return target(url).origin
