"""A wrapper that keeps secrets (passwords, client secrets, tokens) out of output, and the process-wide register of
the secrets in play, so that what a server echoes of one is removed before it is shown (:func:`scrub`).

``str()``, ``repr()`` and f-strings of a :class:`Secret` give ``***``; only :meth:`Secret.reveal` returns the value,
and it is called only where the value goes onto the wire or into a key file.

Every :class:`Secret` registers its value when made (tokens are Secrets too), and :func:`register_basic` the
``Authorization: Basic`` pair of a client id and its secret when it is sent. :func:`scrub` replaces in a text each
form in which a server may echo a registered value: as it is, URL-encoded (``%20`` and ``+`` for a space, upper-
and lower-case hex, ``/`` kept or encoded), JSON-escaped (``\\u00e9`` or raw, ``\\/`` or ``/``), HTML-escaped, and
for a pair the base64 of ``clientid:clientsecret`` (standard and URL-safe, with and without padding, of the raw and
of the form-encoded pair, RFC 6749 §2.3.1). Values shorter than :data:`MIN_LENGTH` characters are not registered (they
cannot be told from ordinary text). The register keeps the :data:`KEPT` latest values (a long fleet run signs in
many times); it is thread-safe.
"""

from __future__ import annotations

import threading

MIN_LENGTH = 4
KEPT = 8192
MASK = "***"
_TAIL = 8  # variants are found by their last _TAIL characters (a JWT's first ones are the same for every token)


class Secret:
    """A secret value (see the module docstring); ``registered=False`` for a value held as a Secret that is not
    secret (a username that a secret reference gave)."""

    __slots__ = ("_value",)

    def __init__(self, value: str, *, registered: bool = True):
        self._value = value
        if registered:
            register(value)

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    def __str__(self) -> str:
        return "***"

    def __format__(self, spec: str) -> str:
        return "***"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __bool__(self) -> bool:
        return bool(self._value)


_lock = threading.Lock()
_values: dict[str, tuple[str, ...]] = {}  # a registered value (or "id:secret" pair) -> its variants, oldest first
_index: tuple[dict[str, tuple[str, ...]], tuple[str, ...]] | None = None  # (by tail, the short ones); None: stale
def _url_forms(value: str) -> set[str]:
    import re
    from urllib.parse import quote, quote_plus

    forms = {quote(value, safe=safe) for safe in ("", "/")} | {quote_plus(value, safe=safe) for safe in ("", "/")}
    return forms | {re.sub(r"%[0-9A-F]{2}", lambda m: m.group().lower(), f) for f in forms}


def _variants(value: str) -> set[str]:
    """The forms of ``value`` a server may echo (see the module docstring)."""
    import html
    import json

    forms = {value} | _url_forms(value)
    for escaped in (json.dumps(value)[1:-1], json.dumps(value, ensure_ascii=False)[1:-1]):
        forms |= {escaped, escaped.replace("/", "\\/")}
    forms |= {html.escape(value), html.escape(value, quote=False)}
    return forms


def _b64(raw: bytes) -> set[str]:
    import base64

    std, safe = base64.b64encode(raw).decode(), base64.urlsafe_b64encode(raw).decode()
    return {std, safe, std.rstrip("="), safe.rstrip("=")}


def _pair_variants(client_id: str, secret: str) -> set[str]:
    from urllib.parse import quote_plus

    forms: set[str] = set()
    for pair in (f"{client_id}:{secret}", f"{quote_plus(client_id)}:{quote_plus(secret)}"):
        for encoding in ("utf-8", "latin-1"):
            try:
                forms |= _b64(pair.encode(encoding))
            except UnicodeEncodeError:
                continue
    return forms


def _add(key: str, forms: set[str]) -> None:
    global _index
    kept = tuple(sorted((f for f in forms if len(f) >= MIN_LENGTH), key=len, reverse=True))
    if not kept:
        return
    with _lock:
        if key in _values:
            _values[key] = _values.pop(key)  # the latest use: kept longest
            return
        _values[key] = kept
        while len(_values) > KEPT:
            del _values[next(iter(_values))]
        _index = None


def register(value: str) -> None:
    """Register a secret value in play (done by :class:`Secret`; a value shorter than :data:`MIN_LENGTH`
    characters is not)."""
    if isinstance(value, str) and len(value) >= MIN_LENGTH:
        _add(value, _variants(value))


def register_basic(client_id: str, secret: str) -> None:
    """Register the HTTP Basic credentials ``client_id:secret`` being sent (their base64 forms) and the secret."""
    register(secret)
    if secret:
        _add(f"\x00basic\x00{client_id}\x00{secret}", _pair_variants(client_id, secret))


def forget() -> None:
    """Empty the register (for a process that runs many unrelated commands, such as a test suite: a secret of one
    is not in play in the next)."""
    global _index
    with _lock:
        _values.clear()
        _index = None


def _current() -> tuple[dict[str, tuple[str, ...]], tuple[str, ...]]:
    global _index
    index = _index
    if index is not None:
        return index
    with _lock:
        by_tail: dict[str, list[str]] = {}
        short: set[str] = set()
        for forms in _values.values():
            for form in forms:
                if len(form) >= _TAIL:
                    by_tail.setdefault(form[-_TAIL:], []).append(form)
                else:
                    short.add(form)
        index = ({tail: tuple(sorted(set(f), key=len, reverse=True)) for tail, f in by_tail.items()},
                 tuple(sorted(short, key=len, reverse=True)))
        _index = index
        return index


def scrub(text: str) -> str:
    """``text`` with every form of every registered secret replaced by ``***`` (see the module docstring); a text
    without any is returned as it is. Linear in the length of ``text`` (one look-up per position)."""
    if not text or not _values:
        return text
    by_tail, short = _current()
    spans: list[tuple[int, int]] = []
    if by_tail:
        for end in range(_TAIL, len(text) + 1):
            found = by_tail.get(text[end - _TAIL:end])
            if found:
                for form in found:  # longest first
                    start = end - len(form)
                    if start >= 0 and text.startswith(form, start):
                        spans.append((start, end))
                        break
    for form in short:
        at = text.find(form)
        while at >= 0:
            spans.append((at, at + len(form)))
            at = text.find(form, at + 1)
    if not spans:
        return text
    spans.sort()
    merged: list[tuple[int, int]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    out, pos = [], 0
    for start, end in merged:
        out += [text[pos:start], MASK]
        pos = end
    out.append(text[pos:])
    return "".join(out)
