"""Inputs of the credential features, property-based: whatever a key file or an API answer holds, reading a
certificate's expiry, `instanceSecretLastUsedAt` and a purpose's settings ends in a value or one line of bad input,
never a traceback; the simulator refuses plain HTTP off loopback."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from provisioner.clients.xsuaa_api import parse_time
from provisioner.errors import BadInput
from provisioner.keys.keyfile import check_key
from provisioner.keys.x509key import certificate_expiry, describe_expiry, is_x509
from provisioner.sim import Simulator

json_scalars = st.one_of(st.none(), st.booleans(), st.integers(-10**15, 10**15), st.floats(allow_nan=False),
                         st.text(max_size=40))
pem_like = st.one_of(json_scalars, st.text(max_size=30).map(
    lambda t: f"-----BEGIN CERTIFICATE-----\n{t}\n-----END CERTIFICATE-----"))


@given(st.dictionaries(st.sampled_from(["certificate", "key", "credential-type", "clientsecret", "certurl"]),
                       pem_like, max_size=5))
def test_a_certificate_expiry_is_a_time_none_or_one_line_of_bad_input(uaa):
    creds = {"uaa": uaa}
    try:
        found = certificate_expiry(creds, "k.json")
    except BadInput as exc:
        assert str(exc).startswith("k.json: uaa.certificate is not") and "\n" not in str(exc)
    else:
        assert found is None or isinstance(found, dt.datetime)
    is_x509(creds)
    checks = check_key(creds, "acme-cloudalm", ("x509",))  # never raises, a fifth check for an x509 key
    assert all("\n" not in c.message for c in checks)
    if isinstance(uaa.get("key"), str) and uaa["key"]:
        assert all(uaa["key"] not in c.message for c in checks if len(uaa["key"]) > 8)


@given(st.one_of(json_scalars, st.datetimes(timezones=st.just(dt.UTC)).map(dt.datetime.isoformat)))
def test_instance_secret_last_used_at_is_a_time_none_or_refused(value):
    try:
        found = parse_time(value)
    except (ValueError, OverflowError, OSError):
        return
    assert found is None or found.tzinfo is not None


@given(st.integers(-10**6, 10**6))
def test_expiry_words_say_valid_or_expired(seconds):
    now = dt.datetime(2026, 12, 5, tzinfo=dt.UTC)
    valid, words = describe_expiry(now + dt.timedelta(seconds=seconds), now)
    assert valid == (seconds > 0) and words.startswith("valid until" if valid else "expired on")


def test_plain_http_is_served_on_loopback_only():
    with pytest.raises(ValueError, match="plain HTTP is served on a loopback host only"):
        Simulator(host="0.0.0.0", tls=False)
    with Simulator(job_seconds=0, tls=False) as sim:
        assert sim.url.startswith("http://") and sim.info()["ca_file"] is None
        assert sim.mtls_url.startswith("https://")  # the mTLS port is TLS whatever the API port serves
