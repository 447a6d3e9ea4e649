"""The lease of a key file: who may write it now. ``run`` (for each key file of a tenant, its whole run),
``key rotate`` and ``revoke`` (their whole duration) hold it, so two of them never write one key file at once and
no rotation deletes a key another one downloaded.

The lease is an exclusive ``flock`` on ``.<name>.lease`` beside the key file (threads and processes alike; the
system releases it when the holder dies). The holder writes who it is into that file (pid, host, command, tenant,
since when: nothing secret), so a process that finds it held can say who holds it:

- held for another tenant (two tenants with one key path): fails at once, one line naming the path and the holder;
- held for the same tenant (a rotation, a revoke, another run of the same playbook): waited for, at most ``wait``
  seconds of wall time (the holder is another process; :func:`lease_wait`: the playbook's longest step timeout),
  with one line saying who holds it; then one line and :class:`~provisioner.errors.StepFailed` (exit 1).

A lease path that is not a regular file (a directory, a FIFO, a symbolic link) is a
:class:`~provisioner.errors.BadInput` (exit 2) with one line, never a crash.
"""

from __future__ import annotations

import datetime as dt
import errno
import fcntl
import json
import os
import socket
import stat
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from provisioner import clock, safefile
from provisioner.errors import BadInput, Interrupted, StepFailed

#: the most a lease file's holder record is read (bytes)
MAX_RECORD = 4096
#: the longest pause between two tries of a held lease (seconds)
LONGEST_TRY_GAP = 0.05


def lease_path(key_path: str | Path) -> Path:
    """``.<name>.lease`` beside the key file ``key_path`` (``~`` expanded)."""
    key = safefile.expand(key_path)
    return key.parent / f".{key.name}.lease"


def lease_wait(pb: Any) -> float:
    """How long (seconds) a held lease is waited for: the playbook's longest step timeout (``timeouts``; default
    1800 s), at most the run's time limit (``timeouts.run``, which ``--timeout`` sets)."""
    t = pb.timeouts
    longest = float(max(t.entitlement, t.instance, t.key))
    run = getattr(t, "run", None)
    return min(longest, float(run)) if run else longest


def _shown(value: object, limit: int = 80) -> str:
    """A holder field for a line: printable characters only, at most ``limit`` of them (a longer one keeps its
    start and its end: the command and the playbook's name)."""
    text = "".join(c if c.isprintable() else "?" for c in str(value))
    return text if len(text) <= limit else text[:limit // 2] + "…" + text[-(limit - limit // 2 - 1):]


@dataclass(frozen=True)
class Holder:
    """Who holds a lease, as its holder recorded it."""

    pid: int
    host: str
    command: str
    tenant: str
    since: str

    def line(self) -> str:
        return (f"pid {self.pid} on host {_shown(self.host, 40)} (`{_shown(self.command)}`, tenant "
                f"{_shown(self.tenant, 60)}, since {_shown(self.since, 24)})")

    @staticmethod
    def parse(data: bytes) -> Holder | None:
        try:
            body = json.loads(data.decode("utf-8"))
            return Holder(int(body["pid"]), str(body["host"]), str(body["command"]), str(body["tenant"]),
                          str(body["since"]))
        except (ValueError, KeyError, TypeError, RecursionError, UnicodeDecodeError, AttributeError):
            return None


def _open(path: Path, key: Path) -> int:
    """The lease file, opened for locking (created 0600); never through a symbolic link, never a directory, FIFO
    or device: those are one :class:`BadInput` line."""
    way_out = f"remove it (it only records who holds the lease of {key}) or choose another steps.download.path"
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, 0o600)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise BadInput(f"{path}: the lease file of {key} is a symbolic link; {way_out}") from None
        if exc.errno == errno.EISDIR:
            raise BadInput(f"{path}: the lease file of {key} is a directory; {way_out}") from None
        raise BadInput(f"{path}: cannot use the lease file of {key} ({exc.strerror or type(exc).__name__}); "
                       f"{way_out}") from None
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        raise BadInput(f"{path}: the lease file of {key} is not a regular file; {way_out}")
    return fd


def _holder(fd: int) -> Holder | None:
    try:
        return Holder.parse(os.pread(fd, MAX_RECORD, 0))
    except OSError:
        return None


def _record(fd: int, tenant: str, command: str) -> None:
    since = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    body = {"pid": os.getpid(), "host": socket.gethostname(), "command": command, "tenant": tenant, "since": since}
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(body).encode("utf-8")[:MAX_RECORD], 0)
    except OSError:
        pass  # who holds it is told when it can be; the lock is what counts


def _try(fd: int) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False


def _acquire(fd: int, key: Path, tenant: str, wait: float, say: Callable[[str], None]) -> None:
    if _try(fd):
        return
    holder = _holder(fd)
    who = holder.line() if holder else "another process (it did not say who)"
    if holder is not None and holder.tenant.lower() != tenant.lower():
        raise StepFailed(f"{key}: this key file is being written for another tenant by {who}; give each tenant its "
                         "own steps.download.path")
    say(f"{key}: the key file's lease is held by {who}; waiting for it at most {wait:g} s")
    deadline = time.monotonic() + wait  # wall time: the holder is another process, not this one's clock
    gap = 0.005
    while True:
        if clock.cancelled():
            raise Interrupted(f"interrupted while waiting for the lease of {key}")
        left = deadline - time.monotonic()
        if left <= 0:
            raise StepFailed(f"{key}: the key file's lease is still held by {who} after {wait:g} s; retry when it "
                             "ends (or raise --timeout)")
        time.sleep(min(gap, left))
        gap = min(gap * 2, LONGEST_TRY_GAP)
        if _try(fd):
            return


@contextmanager
def hold(key_path: str | Path, *, tenant: str, command: str, wait: float,
         say: Callable[[str], None] | None = None) -> Iterator[None]:
    """Hold the lease of the key file ``key_path`` until the block ends (or the process dies). ``tenant`` (the
    tenant's subdomain) and ``command`` (e.g. ``provisioner key rotate pb.yaml``) are recorded for whoever finds
    it held. A lease held for another tenant raises :class:`StepFailed` at once; one held for the same tenant is
    waited for at most ``wait`` seconds (``say`` gets the line naming the holder), then :class:`StepFailed`. A
    lease path that cannot be used raises :class:`BadInput`."""
    key = safefile.expand(key_path)
    fd = _open(lease_path(key), key)
    try:
        _acquire(fd, key, tenant, wait, say or (lambda line: None))
        _record(fd, tenant, command)
        yield
    finally:
        os.close(fd)  # closing releases the lock


@contextmanager
def hold_all(key_paths: Iterable[str | Path], *, tenant: str, command: str, wait: float,
             say: Callable[[str], None] | None = None) -> Iterator[None]:
    """:func:`hold` for several key files (a tenant's purposes), taken in the order of their paths."""
    with ExitStack() as stack:
        for path in sorted({str(safefile.expand(p)) for p in key_paths}):
            stack.enter_context(hold(path, tenant=tenant, command=command, wait=wait, say=say))
        yield
