"""Properties of the HTTP boundary's inputs (hypothesis): any URL is refused or has one reading, the origin
``requests`` connects to; any ``Retry-After`` or ``X-RateLimit-Reset`` value is read without an error; any body,
encoded or not, is read within the cap or refused."""

from __future__ import annotations

import gzip
import zlib
from types import SimpleNamespace
from urllib.parse import urlsplit

import requests
from hypothesis import given
from hypothesis import strategies as st
from urllib3.util import parse_url

from provisioner.clients.http_body import read_body
from provisioner.clients.http_retry import BoundedRetry
from provisioner.clients.http_urls import target
from provisioner.errors import ApiError, TooLarge, UnsafeLink

PIECES = ["127.0.0.1", "api.cf.example", "evil", "EVIL", "[::1]", "@", "\\", ":", "443", "0443", "99999", "8080",
          "/", "?", "#", "%40", "%5c", ".", " ", "\t", "\n", "\x00", "\u200b", "ü", "user:pw", ""]
URLS = st.builds(lambda scheme, parts, path: scheme + "".join(parts) + path,
                 st.sampled_from(["http://", "https://", "HTTPS://", "https:", "//", "ftp://"]),
                 st.lists(st.sampled_from(PIECES), max_size=6),
                 st.sampled_from(["", "/v3/jobs/x", "/x?a=b", "/%2F@evil"]))


@given(URLS)
def test_a_url_is_refused_or_has_the_one_origin_requests_connects_to(url):
    try:
        where = target(url)
    except UnsafeLink as exc:
        assert "\n" not in str(exc) and len(str(exc)) < 200
        return
    prepared = requests.Request("GET", where.url).prepare().url  # what requests hands to urllib3
    sent = parse_url(prepared)
    port = sent.port or {"http": 80, "https": 443}[sent.scheme]
    assert where.origin == f"{sent.scheme}://{sent.host}:{port}"
    split = urlsplit(url)
    assert (split.hostname or "") == (sent.host or "").strip("[]") and split.username is None
    assert (split.port or port) == port


@given(st.one_of(st.text(max_size=40), st.integers(min_value=0, max_value=10**400).map(str)),
       st.sampled_from(["Retry-After", "X-RateLimit-Reset"]))
def test_any_rate_limit_header_is_read_without_an_error(value, name):
    response = SimpleNamespace(status=429, headers={name: value})
    seconds = BoundedRetry(total=1).get_retry_after(response)
    assert seconds is None or seconds >= 0


class _Raw:
    def __init__(self, data: bytes) -> None:
        self.data = data

    def stream(self, amount: int, decode_content: bool = False):
        for i in range(0, len(self.data), amount):
            yield self.data[i:i + amount]


def _response(data: bytes, encoding: str | None):
    headers = {"Content-Encoding": encoding} if encoding else {}
    return SimpleNamespace(headers=headers, status_code=200, raw=_Raw(data), close=lambda: None)


@given(st.binary(max_size=3000), st.sampled_from([None, "gzip", "deflate"]), st.booleans(),
       st.integers(min_value=1024, max_value=4096))
def test_any_body_is_read_within_the_cap_or_refused(body, encoding, encode, limit):
    data, expected = body, body * 20 if encode and encoding else body
    if encode and encoding == "gzip":
        data = gzip.compress(body * 20)
    elif encode and encoding == "deflate":
        data = zlib.compress(body * 20)
    try:
        read = read_body(_response(data, encoding), limit, "GET", "https://api.example/x")
    except TooLarge:
        return
    except ApiError as exc:
        assert exc.title == "BadEncoding" and not encode
        return
    assert len(read) <= limit
    if encode or encoding is None:
        assert read == expected
