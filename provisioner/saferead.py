"""Bounded reads of regular files only (part of :mod:`provisioner.safefile`, which re-exports them): a FIFO or a
device never hangs a read, a file over its limit is refused before it is read in full, binary or non-UTF-8 text is
refused naming line and column, and every bad path is one :class:`~provisioner.errors.BadInput` line (exit code 2).
"""

from __future__ import annotations

import errno
import os
import select
import stat
import time
from pathlib import Path

from provisioner.errors import BadInput

MAX_READ_BYTES = 1024 * 1024
_REASONS = {
    errno.ENAMETOOLONG: "a name in the path is over 255 bytes; use a shorter name",
    errno.ELOOP: "too many levels of symbolic links (a loop?); fix the link",
    errno.ENOTDIR: "Not a directory",
    errno.EROFS: "the file system is read-only; choose another folder",
    errno.ENOSPC: "no space left on the device; free some space",
}


def _nul_in_path(path: str | Path) -> BadInput:
    shown = str(path).replace("\x00", "\\0")
    return BadInput(f"{shown}: the path contains a NUL character; check it")


def expand(path: str | Path) -> Path:
    """``path`` with a leading ``~`` expanded; a NUL in it is a :class:`BadInput`."""
    if "\x00" in str(path):
        raise _nul_in_path(path)
    return Path(os.path.expanduser(str(path)))


def _reason(exc: OSError) -> str:
    return _REASONS.get(exc.errno or 0) or exc.strerror or type(exc).__name__


def _kind(mode: int) -> str:
    for test, name in ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO (named pipe)"),
                       (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
                       (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return name
    return "not a regular file"


def _read_fifo(fd: int, path: Path, what: str, max_bytes: int, seconds: float) -> bytes:
    """What a writer puts into the FIFO ``fd`` (opened non-blocking) until it closes, within ``seconds`` (wall
    time: a FIFO is fed by another process, not by this one's clock); no writer at all reads as empty."""
    deadline = time.monotonic() + seconds
    chunks: list[bytes] = []
    total = 0
    while total <= max_bytes:
        try:
            chunk = os.read(fd, min(1 << 16, max_bytes + 1 - total))
        except BlockingIOError:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                raise BadInput(f"{path}: the {what} is a FIFO and nothing was written to it within {seconds:g} s; "
                               "give a regular file (or a process substitution that writes at once)") from None
            continue
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
    return b"".join(chunks)


def read_bytes(path: Path, what: str, max_bytes: int = MAX_READ_BYTES, *, fifo_seconds: float = 0.0) -> bytes:
    """At most ``max_bytes`` bytes of ``path``. Opened with ``O_NONBLOCK`` and checked with ``fstat`` before any
    read, so nothing hangs: a device or socket is refused at once; a FIFO too, unless ``fifo_seconds`` > 0 (secret
    files: ``{file: /dev/fd/63}`` of a shell's ``<(pass show cf)``), when it is read until its writer closes it,
    for at most ``fifo_seconds`` seconds (no writer: empty). Raises :class:`BadInput` (missing, directory, not
    regular, unreadable, over ``max_bytes``, a FIFO nobody writes to in time)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
    except FileNotFoundError:
        raise BadInput(f"{path}: no such {what}; check the path") from None
    except PermissionError:
        raise BadInput(f"{path}: cannot read the {what} (permission denied); check its mode") from None
    except ValueError:  # NUL in the path
        raise _nul_in_path(path) from None
    except OSError as exc:
        raise BadInput(f"{path}: cannot read the {what} ({_reason(exc)})") from None
    size = 0
    try:
        st = os.fstat(fd)
        mode = st.st_mode
        if stat.S_ISDIR(mode):
            raise BadInput(f"{path}: is a directory, expected a {what}")
        if stat.S_ISFIFO(mode) and fifo_seconds > 0:
            data = _read_fifo(fd, path, what, max_bytes, fifo_seconds)
        elif not stat.S_ISREG(mode):
            raise BadInput(f"{path}: is {_kind(mode)}, expected a {what} (a regular file); save it to a file")
        else:
            size = st.st_size
            if size > max_bytes:
                raise BadInput(f"{path}: the {what} is {size} bytes, over the {max_bytes} byte limit; is it the "
                               "right file?")
            data = os.read(fd, max_bytes + 1)  # a regular file: one read returns it all (bounded)
            while len(data) <= max_bytes and (more := os.read(fd, max_bytes + 1 - len(data))):
                data += more
    except OSError as exc:
        raise BadInput(f"{path}: cannot read the {what} ({_reason(exc)})") from None
    finally:
        os.close(fd)
    if len(data) > max_bytes:
        raise BadInput(f"{path}: the {what} is over the {max_bytes} byte limit; is it the right file?")
    return data


def read_text(path: Path, what: str, max_bytes: int = MAX_READ_BYTES, *, fifo_seconds: float = 0.0) -> str:
    """:func:`read_bytes` decoded as UTF-8 (a BOM is kept, as ``\\ufeff``); binary or non-UTF-8 is a
    :class:`BadInput` naming line and column."""
    data = read_bytes(path, what, max_bytes, fifo_seconds=fifo_seconds)
    if b"\x00" in data:
        raise BadInput(f"{path}: the {what} is binary, expected UTF-8 text; is it the right file?")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        col = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise BadInput(f"{path}:{line}:{col}: the {what} is not UTF-8 text; save it as UTF-8") from None
