"""Backups of a key file before ``--force`` replaces it: ``<name>.<UTC time>.bak`` beside it, mode 0600, never
overwriting an older backup."""

from __future__ import annotations

import os
import time
from pathlib import Path

from provisioner.errors import BadInput
from provisioner.safefile import MAX_READ_BYTES, _reason, read_bytes


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
