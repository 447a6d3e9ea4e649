"""What the HTTP layer refuses or cleans, apart from sending: plain http:// to anything but loopback, a CA bundle
that is not a file, a bearer token for another origin (``origin_of``), a secret echoed by a server (``scrub``), an
HTML page where JSON belongs, and the API error envelopes (CF v3 ``{"errors": [...]}``, BTP ``{"error": {...}}``,
UAA ``{"error": "...", "error_description": "..."}``) read into ``(code, title, detail)``.
"""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from provisioner.errors import ApiError, BadInput, shown

if TYPE_CHECKING:  # annotations only: reading a playbook (url_problem) loads no HTTP stack
    import requests


def is_loopback(host: str | None) -> bool:
    """True for ``localhost`` and loopback IP addresses (127.0.0.0/8, ::1)."""
    if not host:
        return False
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def ca_bundle(verify: bool | str) -> bool | str:
    """What TLS verification uses: the given CA bundle path, else ``REQUESTS_CA_BUNDLE``, ``SSL_CERT_FILE`` or
    ``CURL_CA_BUNDLE`` when set to an existing file, else the system store (True)."""
    if isinstance(verify, str):
        path = os.path.expanduser(verify)
        if not os.path.isfile(path):  # also refuses a FIFO or a device, which would block or never end
            raise BadInput(f"http.ca_bundle: {_show(verify)} is not a file; give the path of a PEM CA bundle")
        return path
    if verify is not True:
        return verify
    for name in ("REQUESTS_CA_BUNDLE", "SSL_CERT_FILE", "CURL_CA_BUNDLE"):
        found = os.environ.get(name)
        if found and os.path.isfile(found):
            return found
    return True


def _show(value: str, limit: int = 80) -> str:
    """A value for an error line: printable, at most ``limit`` characters."""
    text = repr(value)
    return text if len(text) <= limit else text[:limit - 1] + "…"


def origin_of(url: str) -> str:
    """``scheme://host:port`` of a URL, lower case, the port always given (443/80 by default)."""
    p = urlsplit(url)
    try:
        port = p.port or (443 if p.scheme == "https" else 80)
    except ValueError:
        port = 0
    return f"{p.scheme}://{(p.hostname or '').lower()}:{port}"


def scrub(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every secret this request sent replaced by ``***`` (a server may echo a form or a header)."""
    for value in secrets:
        if value and len(value) >= 4:
            text = text.replace(value, "***")
    return text


#: control characters (C0, DEL, C1), any whitespace, a backslash, and invisible format characters (zero-width
#: spaces and joiners, bidirectional overrides, the byte order mark), anywhere in a URL
_BAD = re.compile(r"[\x00-\x20\x7f-\x9f\\\s\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]")
_PORT = re.compile(r"[1-9][0-9]{0,4}")
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")


def has_scheme(url: str) -> bool:
    """Whether ``url`` starts with a scheme (``https:``), i.e. is not a path relative to an API's base URL."""
    return _SCHEME.match(url) is not None


def shown_url(url: str, limit: int = 80) -> str:
    """``url`` for a message: ``repr`` (control characters escaped), at most ``limit`` characters, then scrubbed
    and escaped as all server text (:func:`provisioner.errors.shown`)."""
    return shown(_show(url, limit), None)


def ambiguity(url: str) -> str | None:
    """Why ``url`` may be read in more than one way (a short clause: a backslash, a control character or space,
    userinfo, a port that is empty, has a leading zero or is out of range, a host that is not ASCII), or None.
    What passes is read alike by ``urllib.parse`` and ``urllib3`` (:mod:`provisioner.clients.http_urls` checks that)."""
    bad = _BAD.search(url)
    if bad is not None:
        char = bad.group()
        return "has a backslash" if char == "\\" else f"has the character {char!r} (a control character or space)"
    if not has_scheme(url) or "://" not in url[:16]:
        return "is not an absolute http(s) URL"
    authority = re.split(r"[/?#]", url.split("://", 1)[1], maxsplit=1)[0]
    if "@" in authority:
        return "has userinfo (user@) before its host"
    if "%" in authority:
        return "has a percent-encoded host"
    if not authority.isascii():
        return "has a host that is not ASCII"
    if authority.startswith("[") and "]" not in authority:
        return None  # an unclosed [address]: url_problem and both parsers refuse it
    after = authority.rsplit("]", 1)[-1]
    port = after.partition(":")[2] if ":" in after else None
    if port is not None and (not _PORT.fullmatch(port) or int(port) > 65535):
        return f"has the port {port!r} (not a number from 1 to 65535 without leading zeros)"
    return None


def url_problem(url: str) -> str | None:
    """What is wrong with ``url`` as an API URL (None when it is https, or http to a loopback host, with a host and
    a valid port, and read alike by every parser: :func:`ambiguity`): a short reason and the fix, never more than
    80 characters of the URL."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port out of range or not a number
    except ValueError:
        return f"{_show(url)} is not a valid URL (a bad port or [address]); write e.g. https://api.example.com"
    if parts.hostname and (parts.scheme == "https" or parts.scheme == "http" and is_loopback(parts.hostname)):
        unclear = ambiguity(url)
        return f"{_show(url)} {unclear}; write the URL plainly, e.g. https://api.example.com" if unclear else None
    if parts.scheme == "http" and parts.hostname:
        return (f"refusing plain http:// to {_show(parts.hostname, 60)}; use https:// (plain http is allowed to "
                "loopback addresses only)")
    return f"{_show(url)} is not an https:// URL; write e.g. https://api.example.com"


def check_url(url: str, what: str) -> str:
    """Return ``url`` if it is https, or http to a loopback host (:func:`url_problem`); else raise
    :class:`BadInput`."""
    problem = url_problem(url)
    if problem:
        raise BadInput(f"{what}: {problem}")
    return url


def parse_error(resp: requests.Response) -> tuple[int | None, str | None, str]:
    """Return ``(code, title, detail)`` from a CF v3, BTP or UAA error body; tolerate non-JSON bodies."""
    try:
        body = resp.json()
    except (ValueError, RecursionError):  # not JSON, or nested too deep to read: the text
        text = (resp.text or "").strip().splitlines()
        return None, None, (shown(text[0], 200) if text else resp.reason or "")  # scrubbed before it is cut
    if isinstance(body, dict):
        errs = body.get("errors")
        if isinstance(errs, list) and errs and isinstance(errs[0], dict):
            e = errs[0]
            return e.get("code"), e.get("title"), str(e.get("detail") or "")
        err = body.get("error")
        if isinstance(err, dict):
            msg = str(err.get("message") or "")
            details = err.get("details")
            if isinstance(details, list) and details and isinstance(details[0], dict) and details[0].get("message"):
                msg = f"{msg}: {details[0]['message']}" if msg else str(details[0]["message"])
            return err.get("code"), None, msg
        if isinstance(err, str):
            # UAA: error_description; SAP Service Manager: {"error": "<Word>", "description": ...}
            return None, err, str(body.get("error_description") or body.get("description") or "")
        if "description" in body:
            return None, None, str(body["description"])
    return None, None, resp.reason or ""


def display_url(url: str) -> str:
    """The URL without its query string or userinfo (neither ever carries a secret here, but keep logs short)."""
    p = urlsplit(url)
    host = p.hostname or ""
    if p.port:
        host = f"{host}:{p.port}"
    return f"{p.scheme}://{host}{p.path}"


JSON_STARTS = frozenset(b'{["-0123456789tfn')


def json_or_refuse(resp: requests.Response, method: str) -> requests.Response:
    """``resp`` unless its body is plainly not JSON (an HTML page from a proxy or a login screen in between):
    then :class:`ApiError` saying so, rather than a parse error later."""
    head = resp.content[:64].lstrip()[:1]
    if not head or head[0] in JSON_STARTS:
        return resp
    kind = (resp.headers.get("Content-Type") or "text").split(";")[0].strip()[:40]
    raise ApiError(resp.status_code, None, "NotJson", f"answered {kind}, not JSON: a proxy or a login page in "
                   "between? check the URL and the proxy settings", method, display_url(resp.url or ""))


def refused(exc: BaseException) -> bool:
    """Whether a connection error was a refused connection (somewhere in its chain of causes)."""
    seen: BaseException | None = exc
    for _ in range(8):
        if seen is None:
            return False
        if isinstance(seen, ConnectionRefusedError):
            return True
        nested = seen.args[0] if seen.args and isinstance(seen.args[0], BaseException) else None
        reason = getattr(seen, "reason", None)
        seen = reason if isinstance(reason, BaseException) else nested or seen.__cause__ or seen.__context__
    return False


def retried_on_429(resp: requests.Response) -> bool:
    """Whether the HTTP layer's retries met a 429 on the way to this answer (urllib3's retry history)."""
    retries = getattr(resp.raw, "retries", None)
    return any(getattr(h, "status", None) == 429 for h in getattr(retries, "history", None) or ())
