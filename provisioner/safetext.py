"""The one function every text carrying server text passes before it is shown or written (:func:`shown`): the
secrets in play removed (:func:`provisioner.secret.scrub`), then what could act on a terminal, a CI log or an XML
parser escaped (:func:`escape`), then cut to a length.

Server text (a CF ``detail``, a job's error, a BTP ``error.message``, a Service Manager ``description``, instance
and binding names, the fields of a downloaded key) is data, never control: C0 and C1 control characters (ESC, so
ANSI/OSC sequences such as a screen clear, a window title or an OSC 52 clipboard write; CR; newlines; NUL), the
Unicode line and paragraph separators, the bidirectional overrides, lone surrogates and the non-characters
U+FFFE/U+FFFF (which XML 1.0 forbids) become visible escapes (``\\x1b``, ``\\n``, ``\\u2028``). A ``::`` (a GitHub
Actions workflow command such as ``::add-mask::`` starts a line with it) becomes ``:\\x3a``, except inside an
IPv6 address in brackets (``[::1]``), so no line of output can start with one. Rich markup is the printer's
business (:mod:`provisioner.cli.output` prints server text as plain text).

Applied where text is made (every :class:`~provisioner.errors.ProvisionerError`, every check) and again where it
is written (the printers, the JSON and JUnit reports, the ``provisioner`` loggers, doctor, inventory, the key
commands); applying it twice changes nothing.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from provisioner.secret import scrub

if TYPE_CHECKING:  # the logging module is loaded when a logger is asked for
    import logging

#: what is escaped (see the module docstring)
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069\ud800-\udfff\ufffe\uffff]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
#: ``::`` unless it is inside a bracketed IPv6 address (hex digits and colons up to a ``]``)
_COMMAND = re.compile(r"::(?![0-9A-Fa-f:.]*\])")
#: a line that starts (after blanks) with ``::``
_COMMAND_LINE = re.compile(r"^(\s*):(?=:)", re.MULTILINE)
_LONG_RUN = re.compile(r"\S{121,}")
LIMIT = 1000


def cut_runs(text: str) -> str:
    """``text`` with every run of more than 120 characters without a space cut to its first 70 and last 40
    characters with "…" between."""
    return _LONG_RUN.sub(lambda m: m.group()[:70] + "…" + m.group()[-40:], text)


def _escaped(match: re.Match[str]) -> str:
    char = match.group()
    named = _NAMED.get(char)
    if named:
        return named
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def escape(text: str) -> str:
    """``text`` with control characters and the other characters of the module docstring as visible escapes, and
    ``::`` as ``:\\x3a``; printable text is left as it is."""
    return _COMMAND.sub(":\\\\x3a", _CONTROL.sub(_escaped, text))


def clip(text: str, limit: int = LIMIT) -> str:
    """``text`` cut to ``limit`` characters (the last one "…") when longer; every run of more than 120
    characters without a space (a huge value echoed, a long URL) cut to its first 70 and last 40 characters with
    "…" between (the end of a URL names the endpoint)."""
    text = cut_runs(text)
    return text if len(text) <= limit else text[:limit - 1] + "…"


def shown(text: Any, limit: int | None = LIMIT) -> str:
    """``text`` (made a string) safe to show or write: scrubbed of the secrets in play, escaped, then cut to
    ``limit`` characters (None: not cut). Scrubbing comes first, so no cut leaves a part of a secret."""
    out = escape(scrub(text if isinstance(text, str) else str(text)))
    return clip(out, limit) if limit is not None else out


def guard_lines(text: str) -> str:
    """``text`` of several lines (a rendered table) with a line starting with ``::`` made to start with
    ``\\x3a:``: for output whose lines another library made (rich wraps long cells)."""
    return _COMMAND_LINE.sub(lambda m: m.group(1) + "\\x3a", text)


def deep(value: Any, limit: int | None = LIMIT) -> Any:
    """``value`` (JSON-like: dicts, lists, strings, numbers) with :func:`shown` applied to every string, keys
    included."""
    if isinstance(value, str):
        return shown(value, limit)
    if isinstance(value, dict):
        return {shown(k, limit) if isinstance(k, str) else k: deep(v, limit) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [deep(v, limit) for v in value]
    return value


class ShownFilter:
    """A logging filter (any object with ``filter(record)``) that makes a log record's message :func:`shown` (its
    arguments merged in first), so that no log line of the tool carries a secret or a control character, whatever
    a URL or a server said."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a bad format string: log what it was, escaped
            message = f"{record.msg!r} % {record.args!r}"
        record.msg, record.args = shown(message, None), None
        return True


def logger(name: str) -> logging.Logger:
    """``logging.getLogger(name)`` with :class:`ShownFilter` (a logger's filters apply to its own records only,
    so each ``provisioner.*`` logger gets one)."""
    import logging

    log = logging.getLogger(name)
    if not any(isinstance(f, ShownFilter) for f in log.filters):
        log.addFilter(ShownFilter())
    return log
