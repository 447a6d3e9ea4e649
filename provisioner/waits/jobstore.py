"""The job-times cache on disk: what earlier runs learned of how long each kind of job takes
(:class:`provisioner.waits.jobtimes.JobTimes`), ``{kind: [[running_at, done_at], ...]}`` in seconds, nothing secret.

Where: ``$PROVISIONER_JOB_TIMES`` (``off`` keeps none), else ``$XDG_CACHE_HOME/provisioner/job-times.json``
(``~/.cache`` when unset). A cache only steers when polls are sent, so whatever is wrong with it is ignored (said
once, on the ``provisioner.waits.jobtimes`` logger: ``--verbose``), never followed:

- it is trusted only when it is a regular file of the user's (not a symbolic link), not writable by group or
  others, in a folder of the user's that is not writable by group or others either; otherwise it is neither read
  nor written;
- it is replaced only when what is there is a job-times cache (a JSON object of lists of numbers or number pairs):
  a key, ``authorized_keys`` or any other file at that path, or a link to one, is left untouched;
- values outside 0 to :data:`MAX_END` seconds are dropped (a poisoned "jobs end at 999,999 s" would make every wait
  sleep to its step timeout), as are kinds over :data:`MAX_KIND_CHARS` characters; it is read up to 1 MiB;
- saves are merged: under an exclusive lock on ``.<name>.lock`` beside it (waited for at most
  :data:`LOCK_SECONDS`), the file is read again, this run's durations merged in, and the result written to a
  temporary file and renamed over it (atomic), so concurrent runs keep every entry.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import stat
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from provisioner import safefile
from provisioner.errors import ProvisionerError

#: where learned durations are kept between runs (a file path, or "off"); default in the user's cache folder
STORE_VARIABLE = "PROVISIONER_JOB_TIMES"
#: kinds of job kept between runs (the most recently seen; hosts come and go, e.g. a local simulator's ports)
MAX_KINDS = 64
#: the longest job end kept (seconds): jobs of these APIs end in seconds; past 100 s the polls without history
#: (at most 5 s apart) already meet the 5 % lag target, so longer ones lose nothing by being dropped
MAX_END = 300.0
MAX_KIND_CHARS = 300
MAX_BYTES = 1 << 20
#: how long a save waits for another run's save (seconds of wall time); then this run's durations are not kept
LOCK_SECONDS = 5.0

Bracket = tuple[float, float]
"""When a job ended, as two read times (seconds since its first read): the last read that found it running was
sent at the first, the first read that found it done at the second."""

log = logging.getLogger("provisioner.jobtimes")
_said: set[str] = set()


def store_path(environ: Mapping[str, str] | None = None) -> Path | None:
    """The file learned durations are kept in between runs: ``$PROVISIONER_JOB_TIMES`` (``off``: none), else
    ``$XDG_CACHE_HOME/provisioner/job-times.json`` (``~/.cache`` when unset)."""
    env = os.environ if environ is None else environ
    chosen = env.get(STORE_VARIABLE)
    if chosen is not None:
        return None if chosen.strip().lower() in ("", "off", "0", "false", "no") else Path(chosen).expanduser()
    cache = env.get("XDG_CACHE_HOME") or str(Path("~/.cache").expanduser())
    return Path(cache) / "provisioner" / "job-times.json"


def _say_once(store: Path, why: str) -> None:
    line = f"job-times cache {store}: {why}"
    if line not in _said:
        _said.add(line)
        log.warning("%s", line)


def _unsafe(st: os.stat_result, subject: str) -> str | None:
    """Why a file or folder with this status is not to be trusted (``subject``: "is", "its folder F is"), or
    None."""
    if st.st_uid != os.geteuid():
        return f"{subject} not owned by you (uid {st.st_uid}): not trusted, ignored"
    if st.st_mode & 0o022:
        return (f"{subject} writable by group or others (mode {stat.S_IMODE(st.st_mode):04o}): not trusted, "
                "ignored; `chmod go-w` it")
    return None


def _folder_problem(folder: Path) -> str | None:
    try:
        st = os.stat(folder)
    except FileNotFoundError:
        return None
    except OSError as exc:
        return f"its folder cannot be used ({exc.strerror}); ignored"
    if not stat.S_ISDIR(st.st_mode):
        return "its folder is not a directory; ignored"
    return _unsafe(st, f"its folder {folder} is")


def _seconds(value: object) -> float | None:
    """A stored number of seconds (0 to :data:`MAX_END`), else None."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if 0 <= value <= MAX_END else None


def _bracket(value: object) -> Bracket | None:
    """A stored bracket (``[low, high]``, low <= high) or an older single duration; None for anything else."""
    if isinstance(value, list) and len(value) == 2:
        low, high = _seconds(value[0]), _seconds(value[1])
        return (low, high) if low is not None and high is not None and low <= high else None
    single = _seconds(value)
    return None if single is None else (single, single)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _shaped(body: object) -> bool:
    """Whether ``body`` has the shape of a job-times cache: an object of lists of numbers or number pairs."""
    return isinstance(body, dict) and all(
        isinstance(v, list) and all(_is_number(x) or (isinstance(x, list) and len(x) == 2 and all(map(_is_number, x)))
                                    for x in v) for v in body.values())


def read(store: Path) -> tuple[dict[str, list[Bracket]] | None, str | None]:
    """The brackets kept in ``store`` (``{}`` when there is no file yet) and None; or None and why it is neither
    to be read nor replaced. Never raises."""
    problem = _folder_problem(store.parent)
    if problem:
        return None, problem
    try:
        fd = os.open(store, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
    except FileNotFoundError:
        return {}, None
    except OSError as exc:
        why = "is a symbolic link" if os.path.islink(store) else f"cannot be read ({exc.strerror})"
        return None, f"{why}; ignored and never written through"
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            return None, "is not a regular file; ignored"
        problem = _unsafe(st, "is")
        if problem:
            return None, problem
        if st.st_size > MAX_BYTES:
            return None, f"is over {MAX_BYTES} bytes; ignored and kept (is it a job-times cache?)"
        body = json.loads(os.read(fd, MAX_BYTES + 1).decode("utf-8"))
    except (OSError, ValueError, RecursionError):
        return None, "is not a job-times cache (not JSON); ignored and kept"
    finally:
        os.close(fd)
    if not _shaped(body):
        return None, "is not a job-times cache (a key or another file?); ignored and kept"
    kept = {k: [b for b in map(_bracket, v) if b is not None] for k, v in body.items() if len(k) <= MAX_KIND_CHARS}
    if any(len(kept.get(k, ())) != len(v) for k, v in body.items()):
        _say_once(store, f"values outside 0 to {MAX_END:g} s (or kinds over {MAX_KIND_CHARS} characters) ignored")
    return kept, None


def load(store: Path | None) -> dict[str, list[Bracket]]:
    """The brackets kept in ``store`` to poll by: empty when there is none, or when it is not to be trusted (said
    once)."""
    if store is None:
        return {}
    found, why = read(store)
    if found is None:
        _say_once(store, why or "ignored")
        return {}
    return found


@contextmanager
def _locked(lock: Path) -> Iterator[bool]:
    """An exclusive ``flock`` on ``lock`` (never through a link), waited for at most :data:`LOCK_SECONDS`; yields
    whether it was taken."""
    try:
        fd = os.open(lock, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, 0o600)
    except OSError:
        yield False
        return
    try:
        deadline = time.monotonic() + LOCK_SECONDS
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    yield False
                    return
                time.sleep(0.005)
        yield True
    finally:
        os.close(fd)


def save(store: Path | None, new: Mapping[str, list[Bracket]], keep: int) -> None:
    """Merge ``new`` (kind → brackets, oldest first) into ``store``: at most ``keep`` brackets per kind and
    :data:`MAX_KINDS` kinds, the kinds seen now last. Never raises (a cache); what it refuses is said once."""
    if store is None or not new:
        return
    try:
        store.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as exc:
        _say_once(store, f"its folder cannot be made ({exc.strerror}); not saved")
        return
    with _locked(store.parent / f".{store.name}.lock") as locked:
        if not locked:
            _say_once(store, "another run kept it locked; this run's job times were not saved")
            return
        merged, why = read(store)
        if merged is None:
            _say_once(store, why or "not saved")
            return
        for kind, brackets in new.items():  # a kind seen now moves to the end: the oldest kinds are dropped
            merged[kind] = (merged.pop(kind, []) + list(brackets))[-keep:]
        kept = {kind: [list(b) for b in brackets] for kind, brackets in list(merged.items())[-MAX_KINDS:]}
        try:
            safefile.atomic_write(store, json.dumps(kept, indent=1, sort_keys=True) + "\n", 0o600,
                                  what="job times cache", follow=False)
        except (ProvisionerError, OSError):
            _say_once(store, "could not be written; not saved")
