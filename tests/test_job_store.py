"""The job-times cache (issue 18: "The job-times cache clobbers secrets and trusts anyone"): never written through
a link or over a file that is not a job-times cache, not trusted when others may write it, poisoned values
bounded, concurrent saves merged."""

from __future__ import annotations

import json
import logging
import os
import threading
from urllib.parse import urlsplit

import pytest
from conftest import cli
from hypothesis import given, settings
from hypothesis import strategies as st

from provisioner.waits.jobstore import MAX_END
from provisioner.waits.jobtimes import JobTimes

JOB = 0.5  # the simulator's jobs take this long: the waits learn durations, and the run saves them


def kinds(landscape) -> list[str]:
    host = urlsplit(landscape.url).netloc
    return [f"{host} btp entitlement assignment", f"{host} cf service_instance.create",
            f"{host} cf service_keys.create"]


@pytest.fixture
def cache_home(tmp_path, monkeypatch):
    """``$XDG_CACHE_HOME`` in the test's folder, ``$PROVISIONER_JOB_TIMES`` unset: the default cache path."""
    monkeypatch.delenv("PROVISIONER_JOB_TIMES", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    folder = tmp_path / "cache" / "provisioner"
    folder.mkdir(parents=True, mode=0o700)
    return folder / "job-times.json"


@pytest.fixture
def said(caplog):
    caplog.set_level(logging.WARNING, logger="provisioner.jobtimes")
    return lambda: [r.getMessage() for r in caplog.records if r.name == "provisioner.jobtimes"]


@pytest.mark.parametrize("pointed", ["cis key", "authorized_keys"])
def test_a_cache_that_is_a_link_leaves_what_it_points_to_untouched(make_landscape, cache_home, said, pointed):
    landscape = make_landscape(job_seconds=JOB)
    target = landscape.dir / "cis-key.json"
    if pointed == "authorized_keys":
        target = landscape.dir / ".ssh" / "authorized_keys"
        target.parent.mkdir()
        target.write_text("ssh-ed25519 AAAAC3Nza... admin@laptop\n")
    before = target.read_bytes()
    os.symlink(target, cache_home)
    out = cli("run", landscape.playbook())
    assert out.exit_code == 0, out.output
    assert target.read_bytes() == before and cache_home.is_symlink()
    assert said() == [f"job-times cache {cache_home}: is a symbolic link; ignored and never written through"]


def test_a_cache_naming_a_key_file_leaves_it_untouched(make_landscape, monkeypatch, said):
    landscape = make_landscape(job_seconds=JOB)
    cis = landscape.dir / "cis-key.json"
    before = cis.read_bytes()
    monkeypatch.setenv("PROVISIONER_JOB_TIMES", str(cis))
    out = cli("run", landscape.playbook())
    assert out.exit_code == 0, out.output
    assert cis.read_bytes() == before
    assert said() == [f"job-times cache {cis}: is not a job-times cache (a key or another file?); ignored and kept"]


def test_a_cache_others_may_write_is_ignored_and_said_once(make_landscape, cache_home, said):
    """Mode 0666: its values (jobs end at 200 s, which would make every wait sleep past --timeout 30) are not
    used, the file is not replaced, and the line is said once though two runs read it."""
    landscape = make_landscape(job_seconds=JOB)
    cache_home.write_text(json.dumps({kind: [[200.0, 200.0]] for kind in kinds(landscape)}))
    cache_home.chmod(0o666)
    before = cache_home.read_bytes()
    for _ in range(2):
        out = cli("run", landscape.playbook(), "--timeout", "30")
        assert out.exit_code == 0, out.output
    assert cache_home.read_bytes() == before
    assert said() == [f"job-times cache {cache_home}: is writable by group or others (mode 0666): not trusted, "
                      "ignored; `chmod go-w` it"]
    assert JobTimes(store=cache_home).expected(kinds(landscape)[1]) is None
    cache_home.chmod(0o600)  # the user's own: trusted
    assert JobTimes(store=cache_home).expected(kinds(landscape)[1]) == 200.0
    cache_home.parent.chmod(0o777)  # ... but not in a folder others may write
    assert JobTimes(store=cache_home).expected(kinds(landscape)[1]) is None


def test_a_poisoned_cache_is_bounded(make_landscape, cache_home, said):
    """"Jobs end at 999,999 s" is out of bounds (0 to 300 s): dropped, so the run's waits poll as without history
    and the run ends well within --timeout 30 (the poisoned value would have made each wait sleep to its
    timeout)."""
    landscape = make_landscape(job_seconds=2.0)
    cache_home.write_text(json.dumps({kind: [[999_999, 999_999]] for kind in kinds(landscape)}))
    out = cli("run", landscape.playbook(), "--timeout", "30")
    assert out.exit_code == 0, out.output
    assert MAX_END == 300.0
    assert f"job-times cache {cache_home}: values outside 0 to 300 s (or kinds over 300 characters) ignored" in said()
    saved = json.loads(cache_home.read_text())  # replaced by what this run learned: within the bound
    assert all(0 < high <= MAX_END for kind in kinds(landscape) for _, high in saved[kind])


def test_six_concurrent_saves_keep_every_entry(tmp_path):
    store = tmp_path / "cache" / "job-times.json"
    start = threading.Barrier(6)

    def save(i: int) -> None:
        times = JobTimes(store=store)
        times.record(f"h{i} cf service_keys.create", 1.0 + i, 1.1 + i)
        start.wait()
        times.save()

    threads = [threading.Thread(target=save, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    kept = json.loads(store.read_text())
    assert sorted(kept) == [f"h{i} cf service_keys.create" for i in range(6)]
    assert oct(store.stat().st_mode & 0o777) == "0o600"
    assert sorted(p.name for p in store.parent.iterdir()) == [".job-times.json.lock", "job-times.json"]


JSON = st.recursive(st.none() | st.booleans() | st.floats(allow_nan=False) | st.integers() | st.text(max_size=5),
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner,
                                                                                max_size=4), max_leaves=12)


@settings(max_examples=60, deadline=None)
@given(body=JSON)
def test_whatever_the_cache_holds_it_is_never_a_crash_and_only_a_cache_is_replaced(tmp_path_factory, body):
    store = tmp_path_factory.mktemp("cache") / "job-times.json"
    text = json.dumps(body)
    store.write_text(text)
    store.chmod(0o600)
    times = JobTimes(store=store)
    for kind in (body if isinstance(body, dict) else {}):
        expected = times.expected(kind)
        assert expected is None or 0 <= expected <= MAX_END
    times.record("h cf service_keys.create", 1.0, 1.1)
    times.save()
    shaped = isinstance(body, dict) and all(
        isinstance(v, list) and all(isinstance(x, int | float) and not isinstance(x, bool)
                                    or (isinstance(x, list) and len(x) == 2
                                        and all(isinstance(y, int | float) and not isinstance(y, bool) for y in x))
                                    for x in v) for v in body.values())
    if shaped:
        assert "h cf service_keys.create" in json.loads(store.read_text())
    else:
        assert store.read_text() == text
