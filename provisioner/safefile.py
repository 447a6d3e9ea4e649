"""Files that hold secrets: bounded reads of regular files only (a FIFO or a device never hangs a read), atomic
writes with mode 0600 that remove the temporary file a killed run left, backups that never overwrite an older one,
and one-line :class:`~provisioner.errors.BadInput` errors (exit code 2) for every bad path: NUL in it, a name over
255 bytes, a folder that is a file, a symbolic link loop, a read-only folder, a directory, FIFO or device.
"""

from __future__ import annotations

import fcntl
import os
import re
import stat
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from provisioner.errors import BadInput
from provisioner.saferead import MAX_READ_BYTES as MAX_READ_BYTES
from provisioner.saferead import _kind, _reason
from provisioner.saferead import expand as expand
from provisioner.saferead import read_bytes as read_bytes
from provisioner.saferead import read_text as read_text

MAX_NAME_BYTES = 255
_TMP_SUFFIX = ".tmp"


_SPECIAL = ("/dev/", "/proc/", "/sys/")


def _special(path: Path) -> str | None:
    """``path``, or the first symbolic link target on the way to its file, when under /dev, /proc or /sys
    (``/dev/stdout`` leads to whatever the standard output is: a terminal, a pipe, a log file); else None."""
    hop = os.path.abspath(path)
    for _ in range(40):
        if hop.startswith(_SPECIAL):
            return hop
        try:
            hop = os.path.abspath(os.path.join(os.path.dirname(hop), os.readlink(hop)))
        except OSError:
            return None
    return None


def target(path: Path, what: str = "key file") -> Path | None:
    """Where a write to ``path`` goes: ``path`` itself when it is a regular file, the file a symbolic link points
    to when that is a regular file, None when nothing is there. Anything else (a directory, FIFO, device, a link
    to one, a dangling link, ``/dev/stdout``) is a :class:`BadInput`: it is never replaced."""
    special = _special(path)
    if special:
        link = "" if special == os.path.abspath(path) else f"is a symbolic link to {special}, which "
        raise BadInput(f"{path}: {link}is a system path (/dev, /proc, /sys), not a regular file; write the {what} "
                       "to a regular file")
    try:
        lmode = os.lstat(path).st_mode
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise BadInput(f"{path}: cannot use this path for the {what} ({_reason(exc)})") from None
    if stat.S_ISREG(lmode):
        return path
    if stat.S_ISLNK(lmode):
        try:
            mode = os.stat(path).st_mode
        except FileNotFoundError:
            raise BadInput(f"{path}: is a symbolic link to a missing file; remove the link or point it to a "
                           f"regular file") from None
        except OSError as exc:
            raise BadInput(f"{path}: cannot use this path for the {what} ({_reason(exc)})") from None
        if stat.S_ISREG(mode):
            return Path(os.path.realpath(path))
        raise BadInput(f"{path}: is a symbolic link to {_kind(mode)}, not a regular file; write the {what} to "
                       "a regular file")
    raise BadInput(f"{path}: is {_kind(lmode)}, not a regular file; write the {what} to a regular file")


def _tmp_prefix(name: str) -> str:
    """``.<name>.``, the name cut so that prefix, 8 random characters and ``.tmp`` fit in 255 bytes."""
    room = MAX_NAME_BYTES - 2 - 8 - len(_TMP_SUFFIX)
    cut = name.encode("utf-8")[:room].decode("utf-8", errors="ignore")
    return f".{cut}."


def _remove_stale_temporaries(folder: Path, name: str) -> None:
    """Remove ``.<name>.XXXXXXXX.tmp`` files a write killed before its rename left in ``folder`` (called under
    :func:`_folder_lock`, so no live write's temporary is there)."""
    prefix = _tmp_prefix(name)
    try:
        # only this file's temporaries (a fleet's keys folder holds every tenant's files and leases)
        entries = [entry for entry in os.listdir(folder) if entry.startswith(prefix)]
    except OSError:
        return
    if not entries:
        return
    pattern = re.compile(re.escape(prefix) + r"[a-z0-9_]{8}" + re.escape(_TMP_SUFFIX) + r"\Z")
    for entry in entries:
        if pattern.match(entry):
            try:
                if stat.S_ISREG(os.lstat(folder / entry).st_mode):
                    os.unlink(folder / entry)
            except OSError:
                pass


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _make_folder(folder: Path, what: str) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    except (FileExistsError, NotADirectoryError):
        raise BadInput(f"{folder}: is a file, not a folder; choose another folder for the {what}") from None
    except PermissionError:
        raise BadInput(f"{folder}: cannot create the folder (permission denied); choose another folder") from None
    except OSError as exc:
        raise BadInput(f"{folder}: cannot create the folder ({_reason(exc)})") from None


def atomic_write(path: Path, content: str, mode: int = 0o600, *, what: str = "file", follow: bool = True) -> None:
    """Write ``content`` (UTF-8) to ``path`` atomically with ``mode`` (default 0600; new folders get 0700): a
    temporary file in the same folder, fsync, rename. ``path`` must be a regular file, a link to one, or absent
    (see :func:`target`); with ``follow`` False a link there is replaced itself (what it points to is untouched).
    A temporary file an earlier, killed write left is removed first. Raises :class:`BadInput` with one line for
    any path or write problem."""
    path = expand(path)
    if follow or not os.path.islink(path) or os.path.abspath(path).startswith(_SPECIAL):
        found = target(path, what)
        path = found if follow and found is not None else path
    _make_folder(path.parent, what)
    with _folder_lock(path.parent):  # writers of one folder take turns: a temporary seen here is a dead write's
        _write_locked(path, content, mode, what)
    _fsync_dir(path.parent)


@contextmanager
def _folder_lock(folder: Path) -> Iterator[None]:
    """An exclusive ``flock`` on the folder for one write (threads and processes alike); none where the folder
    cannot be opened for it."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        yield
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def _write_locked(path: Path, content: str, mode: int, what: str) -> None:
    _remove_stale_temporaries(path.parent, path.name)
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=_tmp_prefix(path.name), suffix=_TMP_SUFFIX)
    except PermissionError:
        raise BadInput(f"{path}: cannot write in {path.parent} (permission denied); choose another folder") \
            from None
    except OSError as exc:
        raise BadInput(f"{path}: cannot write the {what} ({_reason(exc)})") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(content)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if isinstance(exc, OSError):
            raise BadInput(f"{path}: cannot write the {what} ({_reason(exc)})") from None
        raise


def backup(path: Path, what: str = "key file") -> Path:
    """Copy the regular file ``path`` to a new ``<name>.<UTC time>.bak`` beside it (mode 0600), or ``.bak.1``,
    ``.bak.2``, ... when that exists: an older backup is never overwritten. Returns the backup's path; raises
    :class:`BadInput` when it cannot be written."""
    data = read_bytes(path, what, max_bytes=64 * MAX_READ_BYTES)
    base = f"{path.name}.{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}.bak"
    for n in range(1000):
        candidate = path.with_name(base if n == 0 else f"{base}.{n}")
        try:
            fd = os.open(candidate, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC | os.O_NOFOLLOW, 0o600)
        except FileExistsError:
            continue
        except OSError as exc:
            raise BadInput(f"{candidate}: cannot keep the old {what} there ({_reason(exc)}); kept {path} as it "
                           "is") from None
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
        except OSError as exc:
            os.unlink(candidate)
            raise BadInput(f"{candidate}: cannot keep the old {what} there ({_reason(exc)})") from None
        return candidate
    raise BadInput(f"{path}: 1000 backups of it already exist; remove old ones")
